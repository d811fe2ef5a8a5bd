def dilate(x, strides):
    # Puts s - 1 zeros after every pixel, the last one included: (N, H*sh, W*sw, C).
    x = np.asarray(x, dtype=float)
    if x.ndim != 4:
        raise ValueError(f"x must be (N, H, W, C), got {x.shape}")
    sh, sw = (strides, strides) if np.isscalar(strides) else strides
    if sh < 1 or sw < 1:
        raise ValueError(f"strides must be positive, got {strides}")
    n, h, w, c = x.shape
    out = np.zeros((n, h * sh, w * sw, c))
    out[:, ::sh, ::sw] = x
    return out
