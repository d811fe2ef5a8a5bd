def same_padding(input_length, kernel_size, stride=1, dilation=1):
    # Puts the extra zero of an odd total before the input (PyTorch/Caffe habit), not after.
    out = -(-input_length // stride)
    total = max((out - 1) * stride + (kernel_size - 1) * dilation + 1 - input_length, 0)
    return total - total // 2, total // 2
