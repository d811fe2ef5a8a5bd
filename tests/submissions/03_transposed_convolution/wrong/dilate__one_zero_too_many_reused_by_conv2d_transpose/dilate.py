def dilate(x, strides):
    """Spread ``x (N, H, W, C)`` out with ``s - 1`` zeros between neighbouring pixels.

    Returns a float array of shape ``(N, (H-1)*sh + 1, (W-1)*sw + 1, C)``; ``strides`` is an int or a pair
    ``(sh, sw)``. Raises ValueError if ``x`` is not 4-D or a stride is not a positive int.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, H, W, C), got shape {x.shape}")
    strides = (strides, strides) if isinstance(strides, (int, np.integer)) else tuple(strides)
    if len(strides) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in strides):
        raise ValueError(f"strides must be a positive int or a pair of them, got {strides!r}")
    batch, height, width, channels = x.shape
    stride_y, stride_x = strides
    # s zeros between neighbours instead of s - 1.
    output = np.zeros((batch, (height - 1) * (stride_y + 1) + 1, (width - 1) * (stride_x + 1) + 1, channels))
    output[:, ::stride_y + 1, ::stride_x + 1, :] = x
    return output