def avg_pool2d(x, pool_size=2, strides=None, padding='valid'):
    # Never checks padding: anything other than 'same' (even 'full') is quietly pooled as 'valid'.
    x = np.asarray(x, dtype=float)
    ph, pw = (pool_size, pool_size) if np.isscalar(pool_size) else pool_size
    if strides is None:
        sh, sw = ph, pw
    else:
        sh, sw = (strides, strides) if np.isscalar(strides) else strides
    widths = [(0, 0)]
    for size, k, s in ((x.shape[1], ph, sh), (x.shape[2], pw, sw)):
        total = max((-(-size // s) - 1) * s + k - size, 0) if padding == "same" else 0
        widths.append((total // 2, total - total // 2))
    widths.append((0, 0))
    xp = np.pad(x, widths)
    real = np.pad(np.ones(x.shape[1:3]), widths[1:3])
    oh, ow = (xp.shape[1] - ph) // sh + 1, (xp.shape[2] - pw) // sw + 1
    sums = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    counts = np.zeros((oh, ow))
    for a in range(ph):
        for b in range(pw):
            sums += xp[:, a:a + (oh - 1) * sh + 1:sh, b:b + (ow - 1) * sw + 1:sw]
            counts += real[a:a + (oh - 1) * sh + 1:sh, b:b + (ow - 1) * sw + 1:sw]
    return sums / counts[None, :, :, None]
