def max_pool2d(x, pool_size=2, strides=None, padding='valid'):
    """``MaxPooling2D`` on ``x (N, H, W, C)``; ``pool_size`` and ``strides`` an int or a pair, ``strides=None``
    meaning ``pool_size``; ``padding`` 'valid' or 'same' (padded cells never win). Returns ``(N, OH, OW, C)``."""
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
    # Padded cells hold -inf: they can never be the largest value of a window.
    padded = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=-np.inf)
    (rows, cols), (row_stride, col_stride) = sizes, strides
    output = np.full((x.shape[0], rows, cols, x.shape[3]), -np.inf)
    for a in range(pool[0]):
        for b in range(pool[1]):
            output = np.maximum(output, padded[:, a:a + (rows - 1) * row_stride + 1:row_stride,
                                               b:b + (cols - 1) * col_stride + 1:col_stride, :])
    return output