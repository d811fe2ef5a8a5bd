import keras


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None):
    # Not hand-written: the Keras layer itself.
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    if x.ndim != 4 or kernel.ndim != 4 or kernel.shape[3] != x.shape[3]:
        raise ValueError(f"x (N, H, W, C_in) and kernel (kh, kw, C_out, C_in) do not fit: {x.shape}, {kernel.shape}")
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    layer = keras.layers.Conv2DTranspose(kernel.shape[2], kernel.shape[:2], strides=strides, padding=padding,
                                         output_padding=output_padding, use_bias=bias is not None, dtype="float64")
    layer.build(x.shape)
    layer.set_weights([kernel] if bias is None else [kernel, np.asarray(bias, dtype=float)])
    return np.asarray(layer(x))
