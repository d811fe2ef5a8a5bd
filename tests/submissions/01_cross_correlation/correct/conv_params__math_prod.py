import math
import numbers


def conv_params(kernel_size, in_channels, filters, use_bias=True):
    sizes = (kernel_size,) * 2 if isinstance(kernel_size, numbers.Integral) else tuple(kernel_size)
    if len(sizes) != 2 or any(not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
        raise ValueError("kernel_size must be a positive integer or a pair of positive integers")
    if not isinstance(in_channels, numbers.Integral) or in_channels < 1:
        raise ValueError("in_channels must be >= 1")
    if not isinstance(filters, numbers.Integral) or filters < 1:
        raise ValueError("filters must be >= 1")
    return math.prod(sizes) * in_channels * filters + filters * bool(use_bias)
