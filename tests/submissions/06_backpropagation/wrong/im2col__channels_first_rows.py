def im2col(x, kernel_size, strides=1, padding="valid"):
    # Orders each row (C, kh, kw), as a channels-first im2col would.
    def pair(name, value):
        value = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
        if len(value) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in value):
            raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
        return value

    x = np.asarray(x, dtype=float)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, H, W, C), got shape {x.shape}")
    (kernel_height, kernel_width), (stride_y, stride_x) = pair("kernel_size", kernel_size), pair("strides", strides)
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    batch, height, width, channels = x.shape
    paddings = []
    for length, k, s in ((height, kernel_height, stride_y), (width, kernel_width, stride_x)):
        if padding == "valid":
            if k > length:
                raise ValueError(f"kernel_size {(kernel_height, kernel_width)} does not fit in x of shape {x.shape}")
            paddings.append((0, 0, (length - k) // s + 1))
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
    windows = windows.transpose(0, 1, 2, 5, 3, 4)
    return windows.reshape(batch * out_height * out_width, kernel_height * kernel_width * channels)
