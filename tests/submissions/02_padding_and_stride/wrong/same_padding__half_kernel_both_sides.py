def same_padding(input_length, kernel_size, stride=1, dilation=1):
    # floor(k/2) on both sides: relationship 3, right only for odd kernels at stride 1.
    half = ((kernel_size - 1) * dilation + 1) // 2
    return half, half
