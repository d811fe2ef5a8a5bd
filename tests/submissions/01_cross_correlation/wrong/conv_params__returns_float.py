def conv_params(kernel_size, in_channels, filters, use_bias=True):
    # Right count, wrong type: np.prod gives a float here.
    sizes = np.broadcast_to(np.asarray(kernel_size, dtype=float), (2,))
    if (sizes <= 0).any() or in_channels <= 0 or filters <= 0 or np.ndim(kernel_size) > 1 or np.size(kernel_size) > 2:
        raise ValueError("kernel_size, in_channels and filters must be positive")
    return np.prod(sizes) * in_channels * filters + (filters if use_bias else 0)
