def build_digits_cnn():
    """A compiled Keras CNN for the digits, written with the functional API and a separate Softmax layer."""
    inputs = keras.Input(shape=(8, 8, 1))
    features = keras.layers.Conv2D(12, (3, 3), padding="same", activation="relu")(inputs)
    features = keras.layers.MaxPooling2D()(features)
    features = keras.layers.Conv2D(24, (3, 3), padding="same", activation="relu")(features)
    features = keras.layers.GlobalAveragePooling2D()(features)
    scores = keras.layers.Dense(10)(features)
    model = keras.Model(inputs, keras.layers.Softmax()(scores))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model
