def conv_output_length(input_length, kernel_size, stride=1, padding='valid', dilation=1):
    # Rounds (i + 2p - k) / s up instead of down: counts a last window that would stick out of the input.
    if input_length < 1 or kernel_size < 1 or stride < 1 or dilation < 1:
        raise ValueError("input_length, kernel_size, stride and dilation must be positive")
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
    if input_length + 2 * p < span:
        raise ValueError("the kernel does not fit in the input")
    return -(-(input_length + 2 * p - span) // stride) + 1
