def build_generator(latent_dim=64):
    """A Keras generator: noise -> images."""
    # Starts from 8x8 and doubles twice: 32x32, the CIFAR size, not 28x28.
    return keras.Sequential([
        keras.Input((latent_dim,)),
        keras.layers.Dense(8 * 8 * 32, activation="relu"),
        keras.layers.Reshape((8, 8, 32)),
        keras.layers.Conv2DTranspose(16, 4, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
    ])
