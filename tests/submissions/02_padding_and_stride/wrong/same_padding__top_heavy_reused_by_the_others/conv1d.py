def conv1d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1):
    """``Conv1D``: ``x (N, L, C_in)``, ``kernel (k, C_in, C_out)``, ``bias (C_out,)`` or None.

    ``padding`` is 'valid', 'same' (TensorFlow's split) or 'causal' (all zeros before the sequence).
    Returns a float array ``(N, OL, C_out)``.
    """
    x = np.asarray(x, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"x must be 3-D (N, L, C_in), got shape {x.shape}")
    if kernel.ndim != 3 or 0 in kernel.shape:
        raise ValueError(f"kernel must be 3-D (k, C_in, C_out) and not empty, got shape {kernel.shape}")
    if kernel.shape[1] != x.shape[2]:
        raise ValueError(f"kernel has {kernel.shape[1]} input channels but x has {x.shape[2]}")
    if not isinstance(padding, str) or padding not in ("valid", "same", "causal"):
        raise ValueError(f"padding must be 'valid', 'same' or 'causal', got {padding!r}")
    for name, value in (("strides", strides), ("dilation_rate", dilation_rate)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    length, taps = x.shape[1], kernel.shape[0]
    extent = (taps - 1) * dilation_rate + 1
    if padding == "same":
        before, after = same_padding(length, taps, strides, dilation_rate)
    elif padding == "causal":
        before, after = extent - 1, 0
    else:
        before, after = 0, 0
    size = (length + before + after - extent) // strides + 1
    if size < 1:
        raise ValueError(f"kernel of {taps} taps with dilation_rate {dilation_rate} does not fit in x of "
                         f"length {length} without padding")
    padded = np.pad(x, ((0, 0), (before, after), (0, 0)))
    output = np.zeros((x.shape[0], size, kernel.shape[2]))
    for a in range(taps):
        start = a * dilation_rate
        output += padded[:, start:start + (size - 1) * strides + 1:strides, :] @ kernel[a]
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        if bias.shape != (kernel.shape[2],):
            raise ValueError(f"bias must have shape ({kernel.shape[2]},), got {bias.shape}")
        output += bias
    return output