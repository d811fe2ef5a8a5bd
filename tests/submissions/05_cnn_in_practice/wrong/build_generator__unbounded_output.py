def build_generator(latent_dim=64):
    """A Keras generator: noise -> images."""
    # The last layer is linear, so large noise gives pixels far outside [-1, 1].
    return keras.Sequential([
        keras.Input((latent_dim,)),
        keras.layers.Dense(7 * 7 * 32, activation="relu"),
        keras.layers.Reshape((7, 7, 32)),
        keras.layers.Conv2DTranspose(16, 4, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same"),
    ])
