def conv_transpose_output_length(input_length, kernel_size, stride=1, padding="valid", output_padding=None,
                                 dilation=1):
    # Dumoulin & Visin's relationship 14, o = s(i - 1) + a + k - 2p, with Keras' choice of p and a.
    if padding == "valid":
        pad = 0
    elif padding == "same":
        pad = None
    else:
        raise ValueError("unknown padding " + repr(padding))
    k = dilation * (kernel_size - 1) + 1
    if output_padding is not None and (output_padding < 0 or output_padding >= stride):
        raise ValueError("output_padding has to be smaller than the stride")
    if pad == 0:
        extra = max(stride - k, 0) if output_padding is None else output_padding
        return np.int64(stride * (input_length - 1) + extra + k - 2 * pad)
    if output_padding is None:
        return np.int64(stride * input_length)
    # 'same' keeps k mod 2 of the kernel's overhang: twice the padding is k minus that.
    return np.int64(stride * (input_length - 1) + output_padding + k - (k - k % 2))
