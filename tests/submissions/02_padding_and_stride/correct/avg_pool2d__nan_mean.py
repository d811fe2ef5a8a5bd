def avg_pool2d(x, pool_size=2, strides=None, padding='valid'):
    # Pads with NaN and lets np.nanmean skip the padded cells.
    if padding not in ('valid', 'same'):
        raise ValueError(f'padding must be valid or same, got {padding}')
    pool = (pool_size,) * 2 if isinstance(pool_size, int) else tuple(pool_size)
    step = pool if strides is None else ((strides,) * 2 if isinstance(strides, int) else tuple(strides))
    x = np.asarray(x, dtype=float)
    widths = [(0, 0)]
    for n, p, s in zip(x.shape[1:3], pool, step):
        extra = max((-(-n // s) - 1) * s + p - n, 0) if padding == 'same' else 0
        widths.append((extra // 2, extra - extra // 2))
    widths.append((0, 0))
    xp = np.pad(x, widths, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(xp, pool, axis=(1, 2))[:, ::step[0], ::step[1]]
    return np.nanmean(windows, axis=(-2, -1))
