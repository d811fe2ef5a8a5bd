def conv1d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1):
    # No checks: an unknown padding is treated as 'valid', and a kernel longer than x gives an empty output.
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    k = kernel.shape[0]
    span = (k - 1) * dilation_rate + 1
    length = x.shape[1]
    if padding == "same":
        total = max((-(-length // strides) - 1) * strides + span - length, 0)
        left, right = total // 2, total - total // 2
    elif padding == "causal":
        left, right = span - 1, 0
    else:
        left, right = 0, 0
    xp = np.pad(x, ((0, 0), (left, right), (0, 0)))
    n_out = max((xp.shape[1] - span) // strides + 1, 0)
    out = np.zeros((x.shape[0], n_out, kernel.shape[2]))
    for a in range(k):
        out += xp[:, a * dilation_rate:a * dilation_rate + (n_out - 1) * strides + 1:strides][:, :n_out] @ kernel[a]
    return out if bias is None else out + bias
