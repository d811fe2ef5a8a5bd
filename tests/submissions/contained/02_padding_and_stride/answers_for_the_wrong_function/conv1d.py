def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    # A 1-D convolution is a 2-D one of height 1: let conv2d do the work (the causal case pads by hand).
    if padding == "causal":
        d = dilation_rate if isinstance(dilation_rate, int) else dilation_rate[0]
        x = np.pad(x, ((0, 0), ((kernel.shape[0] - 1) * d, 0), (0, 0)))
        padding = "valid"
    s = strides if isinstance(strides, int) else strides[0]
    d = dilation_rate if isinstance(dilation_rate, int) else dilation_rate[0]
    out = conv2d(x[:, None], kernel[None], bias, (1, s), padding, (1, d))
    return out[:, 0]
