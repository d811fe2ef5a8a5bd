def build_generator(latent_dim=64):
    """A DCGAN-style generator with the functional API: 7x7 -> 7x7 -> 14x14 -> 28x28."""
    noise = keras.Input(shape=(latent_dim,))
    x = keras.layers.Dense(7 * 7 * 48, use_bias=False)(noise)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU(negative_slope=0.2)(x)
    x = keras.layers.Reshape((7, 7, 48))(x)
    x = keras.layers.Conv2DTranspose(32, 5, strides=1, padding="same", use_bias=False)(x)
    x = keras.layers.LeakyReLU(negative_slope=0.2)(x)
    x = keras.layers.Conv2DTranspose(16, 5, strides=2, padding="same", use_bias=False)(x)
    x = keras.layers.LeakyReLU(negative_slope=0.2)(x)
    x = keras.layers.Conv2DTranspose(1, 5, strides=(2, 2), padding="same")(x)
    return keras.Model(noise, keras.layers.Activation("tanh")(x))
