"""Test configurations: random ones, always led by the hard corners.

A :class:`Case` holds the arguments of one call in the contract's order, so a
graded function is called positionally (``function(*case.args)``) and its
arguments can be named freely inside. Every generator is seeded: the same call
gives the same cases on every machine.
"""

import dataclasses
import math

import numpy as np

from convcourse.student.case import Case  # noqa: F401 (the cases' type, imported from here by the assignments)




def same_total_padding(input_length, kernel_size, stride=1, dilation=1):
    """TensorFlow's total ``'same'`` padding (``../shared/facts.md``); the before/after split is the exercise."""
    output_length = math.ceil(input_length / stride)
    return max((output_length - 1) * stride + (kernel_size - 1) * dilation + 1 - input_length, 0)


def valid_output_length(input_length, kernel_size, stride=1, dilation=1):
    """Keras' ``'valid'`` output length, ``floor((i - d(k-1) - 1)/s) + 1`` (may be <= 0: no output)."""
    return (input_length - dilation * (kernel_size - 1) - 1) // stride + 1


def random_values(rng, shape):
    """Normal values rounded to two decimals: readable in messages, distinct enough to expose swapped axes."""
    return np.round(rng.normal(size=shape), 2)


@dataclasses.dataclass(frozen=True)
class ConvGeometry:
    """Sizes of one 2-D convolution: batch, input, kernel, channels and the layer options."""

    batch: int
    height: int
    width: int
    kernel_height: int
    kernel_width: int
    in_channels: int
    filters: int
    strides: tuple = (1, 1)
    padding: str = "valid"
    dilation_rate: tuple = (1, 1)
    use_bias: bool = True

    def fits(self):
        if self.padding != "valid":
            return True
        return all(
            valid_output_length(i, k, s, d) >= 1
            for i, k, s, d in zip(
                (self.height, self.width), (self.kernel_height, self.kernel_width), self.strides, self.dilation_rate
            )
        )


def conv2d_corner_geometries(paddings=("valid",), strided=False, dilated=False):
    """The configurations every sweep includes: even kernels, kernel as large as the input, 1-pixel inputs,
    odd total ``'same'`` padding, more channels than pixels, batch > 1 and, when asked, strides and dilation."""
    corners = []
    for padding in paddings:
        corners += [
            ConvGeometry(1, 4, 3, 4, 3, 2, 3, padding=padding),  # kernel as large as the input
            ConvGeometry(1, 1, 1, 1, 1, 1, 1, padding=padding),  # one pixel, one weight
            ConvGeometry(2, 5, 6, 2, 2, 1, 2, padding=padding),  # even kernel
            ConvGeometry(1, 6, 5, 4, 2, 2, 1, padding=padding),  # even, non-square kernel
            ConvGeometry(2, 2, 3, 1, 2, 9, 2, padding=padding),  # more channels than pixels
            ConvGeometry(3, 5, 4, 3, 3, 3, 4, padding=padding, use_bias=False),  # batch > 1, no bias
        ]
        if padding == "same":
            corners += [
                ConvGeometry(1, 1, 1, 3, 3, 2, 1, padding=padding),  # kernel larger than a 1-pixel input
                ConvGeometry(1, 5, 5, 2, 4, 1, 2, padding=padding),  # odd total padding: 1 and 3
                ConvGeometry(2, 2, 3, 5, 4, 2, 2, padding=padding),  # input smaller than the kernel
            ]
        if strided:
            corners += [
                ConvGeometry(1, 7, 8, 3, 3, 2, 2, strides=(2, 2), padding=padding),
                ConvGeometry(2, 6, 7, 2, 4, 1, 3, strides=(3, 1), padding=padding),  # per-axis strides
                ConvGeometry(1, 5, 5, 2, 2, 2, 1, strides=(4, 4), padding=padding),  # stride larger than kernel
            ]
        if dilated:
            corners += [
                ConvGeometry(1, 7, 8, 3, 3, 2, 2, padding=padding, dilation_rate=(2, 2)),
                ConvGeometry(2, 6, 9, 2, 3, 1, 2, padding=padding, dilation_rate=(1, 3)),  # per-axis dilation
            ]
    return [corner for corner in corners if corner.fits()]


def random_conv2d_geometries(rng, count, paddings=("valid",), strided=False, dilated=False, max_size=9):
    """``count`` random geometries that Keras accepts (never strides > 1 together with dilation > 1)."""
    geometries = []
    while len(geometries) < count:
        padding = paddings[rng.integers(len(paddings))]
        strides = tuple(int(s) for s in rng.integers(1, 4, size=2)) if strided else (1, 1)
        dilation = (1, 1)
        if dilated and strides == (1, 1):
            dilation = tuple(int(d) for d in rng.integers(1, 4, size=2))
        geometry = ConvGeometry(
            batch=int(rng.integers(1, 4)),
            height=int(rng.integers(1, max_size + 1)),
            width=int(rng.integers(1, max_size + 1)),
            kernel_height=int(rng.integers(1, 6)),
            kernel_width=int(rng.integers(1, 6)),
            in_channels=int(rng.integers(1, 5)),
            filters=int(rng.integers(1, 5)),
            strides=strides,
            padding=padding,
            dilation_rate=dilation,
            use_bias=bool(rng.integers(2)),
        )
        if geometry.fits():
            geometries.append(geometry)
    return geometries


def conv2d_geometries(count, seed, paddings=("valid",), strided=False, dilated=False):
    """The corners, then random geometries, ``count`` in all (at least all the corners)."""
    rng = np.random.default_rng(seed)
    corners = conv2d_corner_geometries(paddings, strided, dilated)
    return corners + random_conv2d_geometries(rng, max(count - len(corners), 0), paddings, strided, dilated)


def conv2d_arrays(geometry, rng):
    """``x (N, H, W, C_in)``, ``kernel (kh, kw, C_in, C_out)`` and ``bias (C_out,)`` or ``None`` for a geometry."""
    g = geometry
    x = random_values(rng, (g.batch, g.height, g.width, g.in_channels))
    kernel = random_values(rng, (g.kernel_height, g.kernel_width, g.in_channels, g.filters))
    bias = random_values(rng, (g.filters,)) if g.use_bias else None
    return x, kernel, bias






