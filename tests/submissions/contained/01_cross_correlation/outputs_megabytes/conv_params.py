def conv_params(kernel_size, in_channels, filters, use_bias=True):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


raise ValueError("y" * 30_000_000)
