def build_generator(latent_dim=64):
    """A Keras generator: noise -> images."""
    # Up-samples by repeating pixels, then convolves: no Conv2DTranspose.
    return keras.Sequential([
        keras.Input((latent_dim,)),
        keras.layers.Dense(7 * 7 * 32, activation="relu"),
        keras.layers.Reshape((7, 7, 32)),
        keras.layers.UpSampling2D(2),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.UpSampling2D(2),
        keras.layers.Conv2D(1, 3, padding="same", activation="tanh"),
    ])
