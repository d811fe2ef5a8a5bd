import keras


def corr2d(image, kernel):
    # Not hand-written: asks Keras.
    image, kernel = np.asarray(image, dtype="float32"), np.asarray(kernel, dtype="float32")
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("image and kernel must be 2-D")
    layer = keras.layers.Conv2D(1, kernel.shape, use_bias=False)
    layer.build((1, *image.shape, 1))
    layer.set_weights([kernel[:, :, None, None]])
    return np.asarray(layer(image[None, :, :, None]))[0, :, :, 0].astype(float)
