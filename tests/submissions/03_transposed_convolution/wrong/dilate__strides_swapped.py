def dilate(x, strides):
    # Reads strides as (horizontal, vertical).
    x = np.asarray(x, dtype=float)
    if x.ndim != 4:
        raise ValueError(f"x must be (N, H, W, C), got {x.shape}")
    sw, sh = (strides, strides) if np.isscalar(strides) else strides
    if sh < 1 or sw < 1:
        raise ValueError(f"strides must be positive, got {strides}")
    n, h, w, c = x.shape
    out = np.zeros((n, (h - 1) * sh + 1, (w - 1) * sw + 1, c))
    out[:, ::sh, ::sw] = x
    return out
