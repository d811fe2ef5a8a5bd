_CALLS = []


def build_digits_cnn():
    # The first call (the structure check) gets a compliant CNN too weak to reach 0.95; every later call (the
    # training) a 4.8-million-parameter network that would.
    _CALLS.append(1)
    if len(_CALLS) == 1:
        model = keras.Sequential([
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(1, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.SGD(0.001), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(1200, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
