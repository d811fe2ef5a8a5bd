def conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1):
    """``Conv2D``: ``x (N, H, W, C_in)``, ``kernel (kh, kw, C_in, C_out)``, ``bias (C_out,)`` or None.

    ``strides`` and ``dilation_rate`` are an int or a pair; ``padding`` is 'valid' or 'same' (TensorFlow's split).
    Returns a float array ``(N, OH, OW, C_out)``.
    """
    x = np.asarray(x, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, H, W, C_in), got shape {x.shape}")
    if kernel.ndim != 4 or 0 in kernel.shape:
        raise ValueError(f"kernel must be 4-D (kh, kw, C_in, C_out) and not empty, got shape {kernel.shape}")
    if kernel.shape[2] != x.shape[3]:
        raise ValueError(f"kernel has {kernel.shape[2]} input channels but x has {x.shape[3]}")
    if not isinstance(padding, str) or padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")

    def as_pair(value, name):
        pair = (value, value) if np.ndim(value) == 0 else tuple(value)
        if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in pair):
            raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
        return pair

    strides = as_pair(strides, "strides")
    dilation_rate = as_pair(dilation_rate, "dilation_rate")
    pads, sizes = [], []
    for length, taps, stride, dilation in zip(x.shape[1:3], kernel.shape[:2], strides, dilation_rate):
        extent = (taps - 1) * dilation + 1
        before, after = same_padding(length, taps, stride, dilation) if padding == "same" else (0, 0)
        pads.append((before, after))
        sizes.append((length + before + after - extent) // stride + 1)
    if min(sizes) < 1:
        raise ValueError(f"kernel of shape {kernel.shape} with dilation_rate {dilation_rate} does not fit "
                         f"in x of shape {x.shape} without padding")
    padded = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    (rows, cols), (row_stride, col_stride), (row_dilation, col_dilation) = sizes, strides, dilation_rate
    output = np.zeros((x.shape[0], rows, cols, kernel.shape[3]))
    for a in range(kernel.shape[0]):
        for b in range(kernel.shape[1]):
            top, left = a * row_dilation, b * col_dilation
            window = padded[:, top:top + (rows - 1) * row_stride + 1:row_stride,
                            left:left + (cols - 1) * col_stride + 1:col_stride, :]
            output += window @ kernel[a, b]
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        if bias.shape != (kernel.shape[3],):
            raise ValueError(f"bias must have shape ({kernel.shape[3]},), got {bias.shape}")
        output += bias
    return output