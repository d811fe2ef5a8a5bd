def max_pool2d(x, pool_size=2, strides=None, padding='valid'):
    # Always steps by the pool size: the windows never overlap or leave gaps, whatever strides says.
    x = np.asarray(x, dtype=float)
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    ph, pw = (pool_size, pool_size) if np.isscalar(pool_size) else pool_size
    sh, sw = ph, pw
    widths = [(0, 0)]
    for size, k, s in ((x.shape[1], ph, sh), (x.shape[2], pw, sw)):
        total = max((-(-size // s) - 1) * s + k - size, 0) if padding == "same" else 0
        widths.append((total // 2, total - total // 2))
    widths.append((0, 0))
    xp = np.pad(x, widths, constant_values=-np.inf)
    oh, ow = (xp.shape[1] - ph) // sh + 1, (xp.shape[2] - pw) // sw + 1
    out = np.full((x.shape[0], oh, ow, x.shape[3]), -np.inf)
    for a in range(ph):
        for b in range(pw):
            out = np.maximum(out, xp[:, a:a + (oh - 1) * sh + 1:sh, b:b + (ow - 1) * sw + 1:sw])
    return out
