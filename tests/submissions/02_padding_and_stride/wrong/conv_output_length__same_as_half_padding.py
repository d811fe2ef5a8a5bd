def conv_output_length(input_length, kernel_size, stride=1, padding='valid', dilation=1):
    # Treats 'same' as relationship 3 (p = floor(k/2) on each side), true only for odd k at stride 1.
    span = dilation * (kernel_size - 1) + 1
    if padding == "causal":
        return -(-input_length // stride)
    if padding == "valid":
        p = 0
    elif padding == "same":
        p = span // 2
    elif padding == "full":
        p = span - 1
    elif isinstance(padding, int):
        p = padding
    else:
        raise ValueError(f"unknown padding {padding!r}")
    if input_length + 2 * p < span:
        raise ValueError("the kernel does not fit in the input")
    return (input_length + 2 * p - span) // stride + 1
