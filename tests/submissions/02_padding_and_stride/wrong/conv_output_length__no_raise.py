def conv_output_length(input_length, kernel_size, stride=1, padding='valid', dilation=1):
    # Returns zero or a negative length instead of raising when nothing fits.
    span = dilation * (kernel_size - 1) + 1
    if padding in ("same", "causal"):
        return -(-input_length // stride)
    if padding == "valid":
        p = 0
    elif padding == "full":
        p = span - 1
    elif isinstance(padding, int):
        p = padding
    else:
        raise ValueError(f"unknown padding {padding!r}")
    return (input_length + 2 * p - span) // stride + 1
