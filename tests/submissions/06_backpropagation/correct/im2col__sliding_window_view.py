def im2col(x, kernel_size, strides=1, padding="valid"):
    # All windows at once with sliding_window_view, then every s-th one; 'same' pads floor(P/2) before.
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"expected x of shape (N, H, W, C), got {x.shape}")
    if padding not in {"valid", "same"}:
        raise ValueError(f"unknown padding {padding!r}")
    sizes = np.broadcast_to(np.asarray(kernel_size), (2,))
    steps = np.broadcast_to(np.asarray(strides), (2,))
    if sizes.dtype.kind not in "iu" or (sizes < 1).any():
        raise ValueError(f"kernel_size must hold positive ints, got {kernel_size!r}")
    if steps.dtype.kind not in "iu" or (steps < 1).any():
        raise ValueError(f"strides must hold positive ints, got {strides!r}")
    pads = [(0, 0)]
    for length, k, s in zip(x.shape[1:3], sizes, steps):
        if padding == "same":
            total = max((-(-length // s) - 1) * s + k - length, 0)
            pads.append((total // 2, total - total // 2))
        elif k > length:
            raise ValueError(f"kernel_size {tuple(sizes)} is larger than the image {x.shape[1:3]}")
        else:
            pads.append((0, 0))
    padded = np.pad(x, pads + [(0, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, tuple(sizes), axis=(1, 2))
    windows = windows[:, ::steps[0], ::steps[1]]  # (N, OH, OW, C, kh, kw)
    return np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3)).reshape(-1, int(sizes.prod()) * x.shape[3])
