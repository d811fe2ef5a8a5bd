def avg_pool2d(x, pool_size=2, strides=None, padding='valid'):
    """``AveragePooling2D`` on ``x (N, H, W, C)``; ``pool_size`` and ``strides`` an int or a pair, ``strides=None``
    meaning ``pool_size``; ``padding`` 'valid' or 'same' (padded cells are left out of the mean)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, H, W, C), got shape {x.shape}")
    if not isinstance(padding, str) or padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")

    def as_pair(value, name):
        pair = (value, value) if np.ndim(value) == 0 else tuple(value)
        if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in pair):
            raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
        return pair

    pool = as_pair(pool_size, "pool_size")
    strides = pool if strides is None else as_pair(strides, "strides")
    pads, sizes = [], []
    for length, window, stride in zip(x.shape[1:3], pool, strides):
        before, after = same_padding(length, window, stride) if padding == "same" else (0, 0)
        pads.append((before, after))
        sizes.append((length + before + after - window) // stride + 1)
    if min(sizes) < 1:
        raise ValueError(f"pool_size {pool} does not fit in x of shape {x.shape} without padding")
    widths = ((0, 0), pads[0], pads[1], (0, 0))
    padded = np.pad(x, widths)
    # 1 on real cells, 0 on padded ones: summed over a window it counts the cells that enter the mean.
    real = np.pad(np.ones((1,) + x.shape[1:3] + (1,)), widths)
    (rows, cols), (row_stride, col_stride) = sizes, strides
    total_values = np.zeros((x.shape[0], rows, cols, x.shape[3]))
    counts = np.zeros((1, rows, cols, 1))
    for a in range(pool[0]):
        for b in range(pool[1]):
            window = (slice(None), slice(a, a + (rows - 1) * row_stride + 1, row_stride),
                      slice(b, b + (cols - 1) * col_stride + 1, col_stride), slice(None))
            total_values += padded[window]
            counts += real[window]
    return total_values / counts