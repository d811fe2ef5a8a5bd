import math


def conv_output_length(input_length, kernel_size, stride=1, padding='valid', dilation=1):
    # Works out the padded length first; 'same'/'causal' via math.ceil.
    if padding == "same" or padding == "causal":
        return math.ceil(input_length / stride)
    effective = kernel_size + (kernel_size - 1) * (dilation - 1)
    if padding == "valid":
        padded = input_length
    elif padding == "full":
        padded = input_length + 2 * (effective - 1)
    elif type(padding) is int and padding >= 0:
        padded = input_length + 2 * padding
    else:
        raise ValueError("unsupported padding: " + repr(padding))
    positions = (padded - effective) // stride + 1
    if positions <= 0:
        raise ValueError(f"kernel_size {kernel_size} (dilation {dilation}) does not fit into input_length {input_length}")
    return positions
