def conv2d_backward(x, kernel, grad_output, strides=1, padding="valid", dilation_rate=1):
    # The full-correlation view of dL/dx, but with the kernel as it is instead of turned by 180 degrees.
    def pair(name, value):
        value = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
        if len(value) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in value):
            raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
        return value

    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    grad_output = np.asarray(grad_output, dtype=float)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, H, W, C_in), got shape {x.shape}")
    if kernel.ndim != 4 or 0 in kernel.shape:
        raise ValueError(f"kernel must be 4-D (kh, kw, C_in, C_out) and not empty, got shape {kernel.shape}")
    if kernel.shape[2] != x.shape[3]:
        raise ValueError(f"kernel has {kernel.shape[2]} input channels but x has {x.shape[3]}")
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    strides, dilation = pair("strides", strides), pair("dilation_rate", dilation_rate)
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(f"strides {strides} and dilation_rate {dilation} cannot both exceed 1 (Keras refuses it)")
    batch, height, width, _ = x.shape
    kernel_height, kernel_width, _, filters = kernel.shape
    geometry = []
    for length, k, s, d in ((height, kernel_height, strides[0], dilation[0]), (width, kernel_width, strides[1],
                                                                                dilation[1])):
        span = (k - 1) * d + 1  # the dilated kernel's extent
        out = -(-length // s) if padding == "same" else (length - span) // s + 1
        if out < 1:
            raise ValueError(f"the kernel (dilated extent {span}) does not fit in x of shape {x.shape}")
        total = max((out - 1) * s + span - length, 0) if padding == "same" else 0
        geometry.append((out, total // 2, total - total // 2))
    (out_height, top, bottom), (out_width, left, right) = geometry
    if grad_output.shape != (batch, out_height, out_width, filters):
        raise ValueError(f"grad_output must have the output's shape {(batch, out_height, out_width, filters)}, "
                         f"got {grad_output.shape}")
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    grad_padded = np.zeros_like(padded)
    grad_kernel = np.zeros_like(kernel)
    for a in range(kernel_height):
        for b in range(kernel_width):
            # Tap (a, b) read these input positions, one per output position, s apart.
            rows = slice(a * dilation[0], a * dilation[0] + (out_height - 1) * strides[0] + 1, strides[0])
            cols = slice(b * dilation[1], b * dilation[1] + (out_width - 1) * strides[1] + 1, strides[1])
            grad_padded[:, rows, cols, :] += np.einsum("nijo,co->nijc", grad_output, kernel[kernel_height - 1 - a, kernel_width - 1 - b])
            grad_kernel[a, b] = np.einsum("nijc,nijo->co", padded[:, rows, cols, :], grad_output)
    grad_x = grad_padded[:, top:top + height, left:left + width, :]
    return grad_x, grad_kernel, grad_output.sum(axis=(0, 1, 2))
