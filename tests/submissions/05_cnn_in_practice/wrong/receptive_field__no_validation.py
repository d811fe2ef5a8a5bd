def receptive_field(layers):
    """Receptive field ``(size, jump)`` of the last layer of a 1-D conv stack."""
    # Right recurrence, but a kernel of size 0, a negative stride or a pair instead of a triple is not rejected.
    size, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        size += (kernel_size - 1) * dilation * jump
        jump *= stride
    return size, jump
