import math


def receptive_field(layers):
    """Receptive field ``(size, jump)``, walked back from one output to the input."""
    for number, layer in enumerate(layers, start=1):
        try:
            kernel_size, stride, dilation = layer
        except (TypeError, ValueError):
            raise TypeError(f"layer {number} of layers is not a (kernel_size, stride, dilation) triple") from None
        if kernel_size < 1 or stride < 1 or dilation < 1:
            raise ValueError(f"layer {number}: kernel_size, stride and dilation must be >= 1, got {layer}")
    # One output position, then: the positions a window of `size` outputs covers in the layer's input.
    size = 1
    for kernel_size, stride, dilation in reversed(layers):
        size = (size - 1) * stride + (kernel_size - 1) * dilation + 1
    return size, math.prod(stride for _, stride, _ in layers)
