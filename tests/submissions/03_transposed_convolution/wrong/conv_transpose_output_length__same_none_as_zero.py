def conv_transpose_output_length(input_length, kernel_size, stride=1, padding="valid", output_padding=None,
                                 dilation=1):
    # Uses the output_padding formula for 'same' with output_padding=None read as 0: s(i - 1) + (k mod 2),
    # instead of s * i.
    for name, value in (("input_length", input_length), ("kernel_size", kernel_size), ("stride", stride),
                        ("dilation", dilation)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    if output_padding is not None and not 0 <= output_padding < stride:
        raise ValueError(f"output_padding must be in [0, stride), got {output_padding!r}")
    k = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        if output_padding is None:
            return (input_length - 1) * stride + max(k, stride)
        return (input_length - 1) * stride + k + output_padding
    return (input_length - 1) * stride + k % 2 + (output_padding or 0)
