def conv_transpose_output_length(input_length, kernel_size, stride=1, padding="valid", output_padding=None,
                                 dilation=1):
    # Right lengths, but any padding other than 'valid' is taken as 'same' and output_padding is never checked.
    k = (kernel_size - 1) * dilation + 1
    if output_padding is None:
        return (input_length - 1) * stride + max(k, stride) if padding == "valid" else input_length * stride
    if padding == "valid":
        return (input_length - 1) * stride + k + output_padding
    return (input_length - 1) * stride + k % 2 + output_padding
