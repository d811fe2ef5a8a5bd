def conv_params(kernel_size, in_channels, filters, use_bias=True):
    # Counts one bias per input channel instead of one per filter.
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    for name, value in (("kernel_size", kh), ("kernel_size", kw), ("in_channels", in_channels), ("filters", filters)):
        if value <= 0:
            raise ValueError(f"{name} must be positive")
    return kh * kw * in_channels * filters + (in_channels if use_bias else 0)
