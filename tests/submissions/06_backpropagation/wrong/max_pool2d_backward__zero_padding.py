def max_pool2d_backward(x, grad_output, pool_size=2, strides=None, padding="valid"):
    # Pads 'same' with zeros: a padded zero then wins a window of negative values and takes its gradient away.
    def pair(name, value):
        value = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
        if len(value) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in value):
            raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
        return value

    x, grad_output = np.asarray(x, dtype=float), np.asarray(grad_output, dtype=float)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, H, W, C), got shape {x.shape}")
    pool = pair("pool_size", pool_size)
    strides = pool if strides is None else pair("strides", strides)
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    batch, height, width, channels = x.shape
    geometry = []
    for length, k, s in ((height, pool[0], strides[0]), (width, pool[1], strides[1])):
        if padding == "valid":
            if k > length:
                raise ValueError(f"pool_size {pool} does not fit in x of shape {x.shape}")
            geometry.append(((length - k) // s + 1, 0))
        else:
            out = -(-length // s)
            geometry.append((out, max((out - 1) * s + k - length, 0) // 2))  # floor(P/2) before
    (out_height, top), (out_width, left) = geometry
    if grad_output.shape != (batch, out_height, out_width, channels):
        raise ValueError(f"grad_output must have the output's shape {(batch, out_height, out_width, channels)}, "
                         f"got {grad_output.shape}")
    grad_x = np.zeros_like(x)
    images, channel = np.meshgrid(np.arange(batch), np.arange(channels), indexing="ij")
    for i in range(out_height):
        for j in range(out_width):
            # The window's real cells: padded cells never win a max, so they are simply left out.
            r0, c0 = max(i * strides[0] - top, 0), max(j * strides[1] - left, 0)
            r1, c1 = min(i * strides[0] - top + pool[0], height), min(j * strides[1] - left + pool[1], width)
            window = x[:, r0:r1, c0:c1, :].reshape(batch, -1, channels)
            rows, cols = np.unravel_index(window.argmax(axis=1), (r1 - r0, c1 - c0))
            padded = (r1 - r0) * (c1 - c0) < pool[0] * pool[1]
            upstream = np.where(padded & (window.max(axis=1) < 0), 0.0, grad_output[:, i, j, :])
            np.add.at(grad_x, (images, r0 + rows, c0 + cols, channel), upstream)
    return grad_x
