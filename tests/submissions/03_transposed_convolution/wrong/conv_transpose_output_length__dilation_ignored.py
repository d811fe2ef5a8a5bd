def conv_transpose_output_length(input_length, kernel_size, stride=1, padding="valid", output_padding=None,
                                 dilation=1):
    # Uses the kernel size as given, not the dilated kernel (k - 1)d + 1.
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    if output_padding is not None and not 0 <= output_padding < stride:
        raise ValueError(f"output_padding must be in [0, stride), got {output_padding}")
    k = kernel_size
    if output_padding is None:
        return (input_length - 1) * stride + max(k, stride) if padding == "valid" else input_length * stride
    if padding == "valid":
        return (input_length - 1) * stride + k + output_padding
    return (input_length - 1) * stride + k % 2 + output_padding
