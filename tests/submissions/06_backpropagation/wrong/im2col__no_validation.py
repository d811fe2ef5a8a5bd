def im2col(x, kernel_size, strides=1, padding="valid"):
    # Right for good arguments, but never checks them: a 'valid' window larger than x gives an empty matrix.
    def pair(name, value):
        value = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
        return value

    x = np.asarray(x, dtype=float)
    (kernel_height, kernel_width), (stride_y, stride_x) = pair("kernel_size", kernel_size), pair("strides", strides)
    batch, height, width, channels = x.shape
    paddings = []
    for length, k, s in ((height, kernel_height, stride_y), (width, kernel_width, stride_x)):
        if padding != "same":
            paddings.append((0, 0, max((length - k) // s + 1, 0)))
        else:
            out = -(-length // s)
            total = max((out - 1) * s + k - length, 0)
            paddings.append((total // 2, total - total // 2, out))  # TensorFlow: the smaller half before
    (top, bottom, out_height), (left, right, out_width) = paddings
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    windows = np.empty((batch, out_height, out_width, kernel_height, kernel_width, channels))
    for a in range(kernel_height):
        for b in range(kernel_width):
            windows[:, :, :, a, b, :] = padded[:, a:a + (out_height - 1) * stride_y + 1:stride_y,
                                               b:b + (out_width - 1) * stride_x + 1:stride_x, :]
    return windows.reshape(batch * out_height * out_width, kernel_height * kernel_width * channels)
