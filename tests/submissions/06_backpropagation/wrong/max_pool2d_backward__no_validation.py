def max_pool2d_backward(x, grad_output, pool_size=2, strides=None, padding="valid"):
    # Right for good arguments, but never checks x, grad_output, pool_size or padding.
    def pair(name, value):
        value = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
        return value

    x, grad_output = np.asarray(x, dtype=float), np.asarray(grad_output, dtype=float)
    pool = pair("pool_size", pool_size)
    strides = pool if strides is None else pair("strides", strides)
    x = x.reshape((1,) * (4 - x.ndim) + x.shape)
    batch, height, width, channels = x.shape
    geometry = []
    for length, k, s in ((height, pool[0], strides[0]), (width, pool[1], strides[1])):
        if padding != "same":
            geometry.append(((length - k) // max(s, 1) + 1, 0))
        else:
            out = -(-length // s)
            geometry.append((out, max((out - 1) * s + k - length, 0) // 2))  # floor(P/2) before
    (out_height, top), (out_width, left) = geometry
    out_height, out_width = min(out_height, grad_output.shape[-3]), min(out_width, grad_output.shape[-2])
    grad_output = grad_output.reshape((1,) * (4 - grad_output.ndim) + grad_output.shape)
    grad_x = np.zeros_like(x)
    images, channel = np.meshgrid(np.arange(batch), np.arange(channels), indexing="ij")
    for i in range(out_height):
        for j in range(out_width):
            # The window's real cells: padded cells never win a max, so they are simply left out.
            r0, c0 = max(i * strides[0] - top, 0), max(j * strides[1] - left, 0)
            r1, c1 = min(i * strides[0] - top + pool[0], height), min(j * strides[1] - left + pool[1], width)
            window = x[:, r0:r1, c0:c1, :].reshape(batch, -1, channels)
            rows, cols = np.unravel_index(window.argmax(axis=1), (r1 - r0, c1 - c0))
            np.add.at(grad_x, (images, r0 + rows, c0 + cols, channel), grad_output[:, i, j, :])
    return grad_x
