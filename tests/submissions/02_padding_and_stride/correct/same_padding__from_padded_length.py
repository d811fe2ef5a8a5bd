def same_padding(input_length, kernel_size, stride=1, dilation=1):
    # The padded input must hold the last window; numpy ints are fine.
    n_out = (np.int64(input_length) + stride - 1) // stride
    needed = (n_out - 1) * stride + dilation * (kernel_size - 1) + 1
    total = np.maximum(needed - input_length, 0)
    before = total // 2
    return (before, total - before)
