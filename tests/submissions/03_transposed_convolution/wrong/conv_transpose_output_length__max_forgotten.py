def conv_transpose_output_length(input_length, kernel_size, stride=1, padding="valid", output_padding=None,
                                 dilation=1):
    # Relationship 12 for 'valid', s(i - 1) + k, even when the stride is larger than the kernel.
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    if output_padding is not None and not 0 <= output_padding < stride:
        raise ValueError(f"output_padding must be in [0, stride), got {output_padding}")
    k = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        return (input_length - 1) * stride + k + (output_padding or 0)
    if output_padding is None:
        return input_length * stride
    return (input_length - 1) * stride + k % 2 + output_padding
