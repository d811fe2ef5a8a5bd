def conv2d(x, kernel, bias=None):
    # Sum over kernel offsets: each offset is a shifted slice times a (C_in, C_out) matrix.
    if np.ndim(x) != 4:
        raise ValueError("x must have 4 dimensions (N, H, W, C_in)")
    if np.ndim(kernel) != 4:
        raise ValueError("kernel must have 4 dimensions (kh, kw, C_in, C_out)")
    x = np.asarray(x, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    n, h, w, c = x.shape
    kh, kw, c_in, c_out = kernel.shape
    if c_in != c:
        raise ValueError(f"channel mismatch: x has {c}, kernel expects {c_in}")
    if kh > h or kw > w or kh < 1 or kw < 1:
        raise ValueError("kernel does not fit inside x")
    out = np.zeros((n, h - kh + 1, w - kw + 1, c_out))
    for a in range(kh):
        for b in range(kw):
            out += np.tensordot(x[:, a:a + h - kh + 1, b:b + w - kw + 1, :], kernel[a, b], axes=([3], [0]))
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        if bias.shape != (c_out,):
            raise ValueError(f"bias should have {c_out} entries")
        out = out + bias.reshape(1, 1, 1, c_out)
    return out
