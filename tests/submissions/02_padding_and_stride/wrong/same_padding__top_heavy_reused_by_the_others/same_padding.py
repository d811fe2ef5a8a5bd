def same_padding(input_length, kernel_size, stride=1, dilation=1):
    """Zeros ``(before, after)`` that Keras' 'same' padding adds to an input of ``input_length`` cells."""
    for name, value in (("input_length", input_length), ("kernel_size", kernel_size), ("stride", stride),
                        ("dilation", dilation)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    output_length = -(-input_length // stride)
    total = max((output_length - 1) * stride + (kernel_size - 1) * dilation + 1 - input_length, 0)
    # The larger half goes first (top/left): PyTorch-like, not TensorFlow's split.
    return int(total - total // 2), int(total // 2)