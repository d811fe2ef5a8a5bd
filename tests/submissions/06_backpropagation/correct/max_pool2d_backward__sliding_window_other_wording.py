def max_pool2d_backward(x, grad_output, pool_size=2, strides=None, padding="valid"):
    # -inf padding and sliding_window_view: the flat argmax of every window, then np.add.at (overlaps add up).
    x = np.asarray(x, dtype=np.float64)
    grad_output = np.asarray(grad_output, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"x has {x.ndim} axes; it needs 4 (N, H, W, C)")
    pool = np.broadcast_to(np.asarray(pool_size), (2,))
    step = pool if strides is None else np.broadcast_to(np.asarray(strides), (2,))
    if (pool < 1).any():
        raise ValueError(f"pool_size {pool_size!r} is not positive")
    if (step < 1).any():
        raise ValueError(f"strides {strides!r} is not positive")
    if padding == "same":
        totals = [max((-(-n // s) - 1) * s + k - n, 0) for n, k, s in zip(x.shape[1:3], pool, step)]
    elif padding == "valid":
        totals = [0, 0]
        if (pool > np.array(x.shape[1:3])).any():
            raise ValueError(f"pool_size {pool_size!r} exceeds the image size {x.shape[1:3]}")
    else:
        raise ValueError(f"padding={padding!r} is neither 'valid' nor 'same'")
    before = [t // 2 for t in totals]
    padded = np.pad(x, [(0, 0), (before[0], totals[0] - before[0]), (before[1], totals[1] - before[1]), (0, 0)],
                    constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, tuple(pool), axis=(1, 2))[:, ::step[0], ::step[1]]
    if windows.shape[:3] + windows.shape[3:4] != grad_output.shape:
        raise ValueError(f"grad_output has shape {grad_output.shape}, the pooled output {windows.shape[:4]}")
    n, oh, ow, c = grad_output.shape
    best = windows.reshape(n, oh, ow, c, -1).argmax(axis=-1)
    da, db = np.unravel_index(best, tuple(pool))
    nn, ii, jj, cc = np.indices((n, oh, ow, c))
    grad_padded = np.zeros(padded.shape)
    np.add.at(grad_padded, (nn, ii * step[0] + da, jj * step[1] + db, cc), grad_output)
    return grad_padded[:, before[0]:before[0] + x.shape[1], before[1]:before[1] + x.shape[2]]
