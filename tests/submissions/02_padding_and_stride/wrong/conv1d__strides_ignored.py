def conv1d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1):
    # Slides the kernel one step at a time whatever strides is (and sizes 'same' for stride 1).
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    if padding not in ("valid", "same", "causal"):
        raise ValueError(f"padding must be 'valid', 'same' or 'causal', got {padding!r}")
    k = kernel.shape[0]
    span = (k - 1) * dilation_rate + 1
    length = x.shape[1]
    if padding == "same":
        total = max(span - 1, 0)
        left, right = total // 2, total - total // 2
    elif padding == "causal":
        left, right = span - 1, 0
    else:
        left, right = 0, 0
    xp = np.pad(x, ((0, 0), (left, right), (0, 0)))
    n_out = xp.shape[1] - span + 1
    if n_out < 1:
        raise ValueError("kernel does not fit in x")
    out = np.zeros((x.shape[0], n_out, kernel.shape[2]))
    for a in range(k):
        out += xp[:, a * dilation_rate:a * dilation_rate + n_out] @ kernel[a]
    return out if bias is None else out + bias
