"""Test configurations of assignment 06 (backpropagation), hard corners first, seeded.

Every generator returns :class:`convcourse.grader.cases.Case` objects whose ``args`` follow the contract's
order (``../shared/exercise-api.md``, section 06):

* ``im2col(x, kernel_size, strides, padding)``: ``x (N, H, W, C)``;
* ``conv2d_backward(x, kernel, grad_output, strides, padding, dilation_rate)``: ``x (N, H, W, C_in)``,
  ``kernel (kh, kw, C_in, C_out)``, ``grad_output`` of the ``Conv2D`` output's shape;
* ``max_pool2d_backward(x, grad_output, pool_size, strides, padding)``: ``x (N, H, W, C)`` with distinct values
  (no ties inside a pooling window), ``grad_output`` of the ``MaxPooling2D`` output's shape.

Sizes, strides and kernel sizes are passed as an int when both axes agree and as a pair otherwise, so that both
forms are exercised.
"""

import dataclasses
import math

import numpy as np

from convcourse.grader.cases import Case, conv2d_geometries, random_values, valid_output_length

IM2COL_NAMES = ("x", "kernel_size", "strides", "padding")
CONV2D_BACKWARD_NAMES = ("x", "kernel", "grad_output", "strides", "padding", "dilation_rate")
MAX_POOL2D_BACKWARD_NAMES = ("x", "grad_output", "pool_size", "strides", "padding")


def as_pair(value):
    """An int ``v`` as ``(v, v)``; a pair as a tuple of two ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    return tuple(int(v) for v in value)


def _int_or_pair(pair):
    return pair[0] if pair[0] == pair[1] else tuple(pair)


def output_length(input_length, kernel_size, stride=1, padding="valid", dilation=1):
    """Keras' output length: ``floor((i - d(k-1) - 1)/s) + 1`` for ``'valid'``, ``ceil(i/s)`` for ``'same'``."""
    if padding == "same":
        return math.ceil(input_length / stride)
    return valid_output_length(input_length, kernel_size, stride, dilation)


def _select(names, values):
    return Case(tuple(names), tuple(values[name] for name in names))


def im2col_cases(count, seed, paddings=("valid",), strided=False):
    """Cases ``(x, kernel_size, strides, padding)``: the corners of every sweep (a kernel as large as the input,
    one-pixel inputs, even kernels, more channels than pixels and, for ``'same'``, kernels larger than the input;
    strides that leave inputs unread and per-axis strides when ``strided``), then random ones."""
    rng = np.random.default_rng(seed + 1)
    cases = []
    for g in conv2d_geometries(count, seed, paddings, strided):
        x = random_values(rng, (g.batch, g.height, g.width, g.in_channels))
        values = {"x": x, "kernel_size": _int_or_pair((g.kernel_height, g.kernel_width)),
                  "strides": _int_or_pair(g.strides), "padding": g.padding}
        cases.append(_select(IM2COL_NAMES, values))
    return cases


def conv2d_backward_cases(count, seed, names=CONV2D_BACKWARD_NAMES, paddings=("valid",), strided=False,
                          dilated=False):
    """Cases for ``conv2d_backward`` whose leading arguments are ``names`` (a prefix of
    ``x, kernel, grad_output, strides, padding, dilation_rate``): the corners of ``Conv2D`` (even kernels, a kernel
    as large as the input, one-pixel inputs, odd total ``'same'`` padding, many channels, batches; strides that
    leave rows unread, per-axis strides and dilation when asked), then random geometries, ``count`` in all."""
    rng = np.random.default_rng(seed + 1)
    cases = []
    for g in conv2d_geometries(count, seed, paddings, strided, dilated):
        x = random_values(rng, (g.batch, g.height, g.width, g.in_channels))
        kernel = random_values(rng, (g.kernel_height, g.kernel_width, g.in_channels, g.filters))
        out_height = output_length(g.height, g.kernel_height, g.strides[0], g.padding, g.dilation_rate[0])
        out_width = output_length(g.width, g.kernel_width, g.strides[1], g.padding, g.dilation_rate[1])
        grad_output = random_values(rng, (g.batch, out_height, out_width, g.filters))
        values = {"x": x, "kernel": kernel, "grad_output": grad_output, "strides": _int_or_pair(g.strides),
                  "padding": g.padding, "dilation_rate": _int_or_pair(g.dilation_rate)}
        cases.append(_select(names, values))
    return cases


@dataclasses.dataclass(frozen=True)
class PoolGeometry:
    """Sizes of one ``MaxPooling2D`` call; ``strides=None`` means ``pool_size``; ``negative`` makes every input
    negative (a zero-padded window would then be won by a padded cell)."""

    batch: int
    height: int
    width: int
    channels: int
    pool_size: object = 2
    strides: object = None
    padding: str = "valid"
    negative: bool = False

    def output_shape(self):
        pool = as_pair(self.pool_size)
        strides = pool if self.strides is None else as_pair(self.strides)
        return (self.batch,
                output_length(self.height, pool[0], strides[0], self.padding),
                output_length(self.width, pool[1], strides[1], self.padding),
                self.channels)

    def fits(self):
        return all(length >= 1 for length in self.output_shape())


def pool_corner_geometries(padding="valid", overlapping=False):
    """The configurations every pooling sweep includes."""
    if padding == "same":
        return [
            PoolGeometry(1, 5, 5, 1, 2, padding="same", negative=True),  # odd sizes: the last window is padded
            PoolGeometry(1, 1, 1, 1, 3, 1, "same"),  # one pixel, a 3x3 window around it
            PoolGeometry(1, 4, 4, 1, 2, 1, "same", negative=True),  # even pool at stride 1: padding after only
            PoolGeometry(2, 5, 6, 2, (3, 4), (2, 3), "same", negative=True),  # per-axis pool and strides
            PoolGeometry(1, 2, 2, 3, 4, None, "same"),  # a pool larger than the input
            PoolGeometry(1, 6, 5, 1, 3, 1, "same", negative=True),  # overlapping windows and padding
            PoolGeometry(1, 7, 7, 2, 2, 3, "same"),  # strides larger than the pool: unread cells
        ]
    if overlapping:
        return [
            PoolGeometry(1, 3, 3, 1, 2, 1),  # the example's shape: four windows share the centre
            PoolGeometry(1, 5, 5, 1, 3, 1),
            PoolGeometry(2, 6, 5, 2, (3, 2), 1),
            PoolGeometry(1, 4, 7, 1, (2, 3), (2, 1)),  # overlapping along one axis only
            PoolGeometry(1, 3, 3, 1, 3, 1),  # a pool as large as the input
            PoolGeometry(1, 4, 4, 9, 3, 2),  # many channels
        ]
    return [
        PoolGeometry(1, 4, 4, 1, 2),  # the example's shape
        PoolGeometry(2, 5, 7, 3, (2, 3)),  # the last row and column are never read
        PoolGeometry(1, 1, 1, 1, 1),  # one pixel, a 1x1 pool
        PoolGeometry(1, 3, 3, 2, 3),  # a pool as large as the input
        PoolGeometry(1, 2, 6, 9, (1, 2)),  # many channels
        PoolGeometry(1, 7, 7, 1, 2, 3),  # strides larger than the pool: unread cells
        PoolGeometry(3, 4, 6, 2, (2, 3), (2, 3)),  # batches, explicit strides
    ]


def _random_pool_geometry(rng, padding, overlapping):
    pool = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    if overlapping:
        strides = tuple(int(rng.integers(1, k + 1)) for k in pool)
    elif padding == "same" or rng.integers(2):
        strides = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    else:
        strides = None
    return PoolGeometry(int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 9)),
                        int(rng.integers(1, 5)), _int_or_pair(pool), None if strides is None else _int_or_pair(strides),
                        padding, negative=bool(rng.integers(2)))


def distinct_values(rng, shape, negative=False):
    """Values that never repeat in the array (so no window holds a tie), in steps of 0.25, around zero or all
    negative."""
    size = int(np.prod(shape))
    values = (rng.permutation(size) - (size if negative else size // 2)) / 4
    return values.reshape(shape).astype(np.float64)


def max_pool2d_backward_cases(count, seed, padding="valid", overlapping=False):
    """Cases ``(x, grad_output, pool_size, strides, padding)``: the corners, then random geometries.

    ``padding='valid'`` without ``overlapping`` keeps windows that do not overlap (``strides`` at least the pool);
    ``overlapping=True`` draws strides below the pool; ``'same'`` draws any strides and often all-negative inputs.
    """
    rng = np.random.default_rng(seed)
    geometries = pool_corner_geometries(padding, overlapping)
    while len(geometries) < count:
        geometry = _random_pool_geometry(rng, padding, overlapping)
        if not overlapping and padding == "valid" and geometry.strides is not None:
            pool, strides = as_pair(geometry.pool_size), as_pair(geometry.strides)
            geometry = dataclasses.replace(geometry, strides=_int_or_pair(tuple(max(p, s) for p, s in zip(pool, strides))))
        if geometry.fits():
            geometries.append(geometry)
    cases = []
    for g in geometries:
        x = distinct_values(rng, (g.batch, g.height, g.width, g.channels), g.negative)
        values = {"x": x, "grad_output": random_values(rng, g.output_shape()), "pool_size": g.pool_size,
                  "strides": g.strides, "padding": g.padding}
        cases.append(_select(MAX_POOL2D_BACKWARD_NAMES, values))
    return cases
