"""Test configurations for assignment 02 (padding and stride), with the Keras-backed references they need.

Every generator is seeded and puts the hard corners first: even kernels, ``'same'`` with stride > 1,
inputs smaller than the kernel (or pool) under ``'same'``, per-axis strides and dilation, negative
inputs for pooling. Configurations never combine a stride > 1 with a dilation > 1, which Keras layers
refuse. Layouts follow the contract: ``x (N, H, W, C)`` and kernel ``(kh, kw, C_in, C_out)`` in 2-D,
``x (N, L, C)`` and kernel ``(k, C_in, C_out)`` in 1-D.

The references hold no output-size formula: lengths come from Keras' ``compute_output_shape`` and the
``'same'`` split is *measured* by running ``Conv1D(padding='same')`` and seeing which input cell each
kernel tap reads.
"""

import dataclasses

import numpy as np

from convcourse.assignments.a01_cross_correlation.cases import conv2d_cases
from convcourse.assignments.a02_padding_and_stride.references import (
    explicit_padding,
    keras_same_padding,
)
from convcourse.grader.cases import (
    Case,
    random_values,
    valid_output_length,
)
from convcourse.grader.checks import reference_value

CONV_OUTPUT_LENGTH_NAMES = ("input_length", "kernel_size", "stride", "padding", "dilation")
SAME_PADDING_NAMES = ("input_length", "kernel_size", "stride", "dilation")
CONV2D_NAMES = ("x", "kernel", "bias", "strides", "padding", "dilation_rate")
CONV1D_NAMES = ("x", "kernel", "bias", "strides", "padding", "dilation_rate")
POOL2D_NAMES = ("x", "pool_size", "strides", "padding")

#: The paddings of ``conv_output_length``; ``"explicit"`` stands for an integer ``p`` (zeros on each side).
OUTPUT_LENGTH_PADDINGS = ("valid", "same", "causal", "full", "explicit")














def _fits(input_length, kernel_size, stride, padding, dilation):
    if padding in ("same", "causal"):
        return True
    zeros = explicit_padding(padding, kernel_size, dilation)
    return valid_output_length(input_length + 2 * zeros, kernel_size, stride, dilation) >= 1


# (input_length, kernel_size, stride, padding, dilation); "explicit" corners carry their integer p.
_OUTPUT_LENGTH_CORNERS = [
    (5, 5, 1, "valid", 1),  # kernel as long as the input: one output
    (1, 1, 1, "valid", 1),
    (9, 4, 3, "valid", 1),  # even kernel, (i - k) not a multiple of s
    (10, 3, 4, "valid", 1),  # stride larger than the kernel
    (5, 4, 1, "same", 1),  # even kernel
    (7, 3, 2, "same", 1),  # ceil, not floor
    (1, 5, 1, "same", 1),  # input smaller than the kernel
    (3, 6, 2, "same", 1),  # input smaller than the kernel, with a stride
    (10, 2, 4, "same", 1),
    (5, 3, 1, "causal", 1),
    (7, 4, 2, "causal", 1),
    (1, 3, 1, "causal", 1),
    (4, 3, 1, "full", 1),
    (1, 4, 1, "full", 1),
    (6, 3, 4, "full", 1),
    (5, 3, 1, 1, 1),
    (6, 4, 2, 2, 1),
    (3, 5, 1, 1, 1),  # input shorter than the kernel, padding makes it fit
    (7, 3, 3, 0, 1),
    (2, 4, 2, 3, 1),
    (7, 3, 1, "valid", 2),
    (9, 2, 1, "valid", 4),
    (2, 3, 1, "same", 3),  # input smaller than the dilated kernel
    (9, 2, 1, "causal", 4),
    (6, 3, 1, "full", 2),
    (8, 3, 1, 1, 2),
]


def _padding_kind(padding):
    return "explicit" if isinstance(padding, int) else padding


def conv_output_length_cases(count, seed, paddings=OUTPUT_LENGTH_PADDINGS, strided=True, dilated=False):
    """Cases ``(input_length, kernel_size, stride, padding, dilation)`` where an output fits.

    ``paddings`` is drawn from :data:`OUTPUT_LENGTH_PADDINGS`; ``"explicit"`` gives integers ``p`` from 0
    to 4. Strides go up to 4 when ``strided``; dilations up to 3 (at stride 1) when ``dilated``, and then
    at least half of the random cases are dilated.
    """
    unknown = set(paddings) - set(OUTPUT_LENGTH_PADDINGS)
    if unknown:
        raise ValueError(f"paddings must be drawn from {OUTPUT_LENGTH_PADDINGS}, got {sorted(unknown)}")
    corners = [
        args for args in _OUTPUT_LENGTH_CORNERS
        if _padding_kind(args[3]) in paddings and (strided or args[2] == 1) and (dilated or args[4] == 1)
    ]
    cases = [Case(CONV_OUTPUT_LENGTH_NAMES, args) for args in corners]
    rng = np.random.default_rng(seed)
    while len(cases) < count:
        kind = paddings[rng.integers(len(paddings))]
        padding = int(rng.integers(0, 5)) if kind == "explicit" else kind
        stride = int(rng.integers(1, 5)) if strided else 1
        dilation = int(rng.integers(2, 4)) if dilated and stride == 1 and rng.integers(2) else 1
        args = (int(rng.integers(1, 31)), int(rng.integers(1, 9)), stride, padding, dilation)
        if _fits(*args):
            cases.append(Case(CONV_OUTPUT_LENGTH_NAMES, args))
    return cases


def conv_output_length_unfit_cases():
    """Cases where no output position fits (Keras raises): the function must raise ``ValueError``."""
    return [Case(CONV_OUTPUT_LENGTH_NAMES, args) for args in (
        (4, 5, 1, "valid", 1),
        (2, 3, 2, "valid", 1),
        (4, 3, 1, "valid", 2),  # fits undilated, not dilated
        (1, 4, 1, 1, 1),  # one zero on each side is not enough
        (3, 6, 3, 1, 1),
    )]


# (input_length, kernel_size, stride, dilation)
_SAME_PADDING_CORNERS = [
    (5, 3, 1, 1),
    (5, 4, 1, 1),  # even kernel at stride 1: the odd zero goes after
    (6, 2, 1, 1),
    (1, 5, 1, 1),  # input smaller than the kernel
    (1, 4, 1, 1),
    (7, 3, 2, 1),
    (8, 3, 2, 1),  # odd total at stride 2 with an odd kernel
    (6, 1, 4, 1),  # no padding at all
    (10, 4, 3, 1),
    (2, 5, 3, 1),  # input smaller than the kernel, with a stride
    (5, 3, 1, 2),
    (4, 2, 1, 3),
    (1, 3, 1, 2),
]


def same_padding_cases(count, seed, strided=True, dilated=False):
    """Cases ``(input_length, kernel_size, stride, dilation)`` whose split Keras shows (see :func:`keras_same_padding`)."""
    corners = [args for args in _SAME_PADDING_CORNERS if (strided or args[2] == 1) and (dilated or args[3] == 1)]
    cases = [Case(SAME_PADDING_NAMES, args) for args in corners]
    rng = np.random.default_rng(seed)
    while len(cases) < count:
        stride = int(rng.integers(1, 5)) if strided else 1
        dilation = int(rng.integers(2, 4)) if dilated and stride == 1 and rng.integers(2) else 1
        args = (int(rng.integers(1, 21)), int(rng.integers(1, 8)), stride, dilation)
        case = Case(SAME_PADDING_NAMES, args)
        try:
            reference_value(keras_same_padding, case)  # kept: the checks ask for the same split again
        except ValueError:
            continue
        cases.append(case)
    return cases


def _as_int_when_square(pair):
    return pair[0] if pair[0] == pair[1] else pair


def conv2d_padding_cases(count, seed, paddings=("valid",), strided=False, dilated=False, use_bias=None):
    """Cases ``(x, kernel, bias, strides, padding, dilation_rate)`` from :func:`convcourse.cases.conv2d_cases`;
    every other case gives a square stride or dilation as an int, the others as pairs."""
    cases = conv2d_cases(count, seed, names=CONV2D_NAMES, paddings=paddings, strided=strided, dilated=dilated,
                         use_bias=use_bias)
    return [
        case.replace(strides=_as_int_when_square(case["strides"]),
                     dilation_rate=_as_int_when_square(case["dilation_rate"])) if number % 2 else case
        for number, case in enumerate(cases)
    ]


@dataclasses.dataclass(frozen=True)
class Conv1DGeometry:
    """Sizes of one 1-D convolution: batch, length, kernel, channels and the layer options."""

    batch: int
    length: int
    kernel_size: int
    in_channels: int
    filters: int
    stride: int = 1
    padding: str = "valid"
    dilation: int = 1
    use_bias: bool = True

    def fits(self):
        return self.padding != "valid" or valid_output_length(self.length, self.kernel_size, self.stride,
                                                              self.dilation) >= 1


def _conv1d_corners(padding, strided, dilated):
    g = Conv1DGeometry
    corners = [
        g(1, 5, 5, 2, 3, padding=padding),  # kernel as long as the input
        g(2, 6, 2, 1, 2, padding=padding),  # even kernel
        g(1, 1, 1, 1, 1, padding=padding),  # one sample, one weight
        g(3, 4, 3, 3, 2, padding=padding, use_bias=False),
    ]
    if padding != "valid":
        corners += [g(1, 2, 4, 1, 2, padding=padding), g(2, 1, 3, 2, 1, padding=padding)]  # input shorter than kernel
    if strided:
        corners += [g(1, 9, 3, 2, 2, stride=2, padding=padding), g(2, 8, 4, 1, 1, stride=3, padding=padding),
                    g(1, 5, 2, 2, 1, stride=4, padding=padding)]
    if dilated:
        corners += [g(1, 9, 3, 2, 2, padding=padding, dilation=2), g(2, 7, 2, 1, 3, padding=padding, dilation=4),
                    g(1, 3, 3, 1, 1, padding=padding, dilation=2)]
    return [corner for corner in corners if corner.fits()]


def conv1d_cases(count, seed, paddings=("valid",), strided=False, dilated=False):
    """Cases ``(x (N, L, C_in), kernel (k, C_in, C_out), bias, strides, padding, dilation_rate)`` for ``Conv1D``,
    with ``padding`` from ``'valid' | 'same' | 'causal'``; the corners of every padding come first."""
    geometries = [corner for padding in paddings for corner in _conv1d_corners(padding, strided, dilated)]
    rng = np.random.default_rng(seed)
    while len(geometries) < count:
        stride = int(rng.integers(1, 4)) if strided else 1
        dilation = int(rng.integers(2, 4)) if dilated and stride == 1 and rng.integers(2) else 1
        geometry = Conv1DGeometry(
            batch=int(rng.integers(1, 4)), length=int(rng.integers(1, 13)), kernel_size=int(rng.integers(1, 6)),
            in_channels=int(rng.integers(1, 5)), filters=int(rng.integers(1, 5)), stride=stride,
            padding=paddings[rng.integers(len(paddings))], dilation=dilation, use_bias=bool(rng.integers(2)),
        )
        if geometry.fits():
            geometries.append(geometry)
    values = np.random.default_rng(seed + 1)
    cases = []
    for g in geometries:
        x = random_values(values, (g.batch, g.length, g.in_channels))
        kernel = random_values(values, (g.kernel_size, g.in_channels, g.filters))
        bias = random_values(values, (g.filters,)) if g.use_bias else None
        cases.append(Case(CONV1D_NAMES, (x, kernel, bias, g.stride, g.padding, g.dilation)))
    return cases


def negative_values(rng, shape):
    """Values below zero (-0.5 and less): a zero slipped into a max or an average then shows."""
    return -np.round(np.abs(rng.normal(size=shape)) + 0.5, 2)


# (x shape, pool_size, strides, padding)
_POOL_CORNERS = [
    ((1, 4, 4, 1), 2, None, "valid"),
    ((2, 5, 7, 3), 2, None, "valid"),  # the last row and columns are dropped
    ((1, 6, 6, 2), (3, 2), None, "valid"),  # non-square pool: strides default to it, per axis
    ((1, 3, 3, 1), 3, None, "valid"),  # one window over everything
    ((1, 7, 7, 1), 3, 2, "valid"),  # overlapping windows
    ((2, 5, 6, 2), 2, (1, 2), "valid"),  # per-axis strides
    ((1, 8, 7, 1), (2, 3), 3, "valid"),  # gaps between windows
    ((1, 4, 5, 3), 2, 1, "valid"),
    ((1, 5, 5, 1), 2, None, "same"),  # one padded row and column, after
    ((1, 5, 5, 2), 3, 1, "same"),  # padding on both sides
    ((1, 2, 2, 1), 3, None, "same"),  # input smaller than the pool
    ((2, 4, 6, 2), (3, 2), (2, 1), "same"),  # per-axis pool and strides
    ((1, 6, 6, 1), 4, 1, "same"),  # total 3: one before, two after
]


def pool2d_cases(count, seed, paddings=("valid",), custom_strides=False, negative=False):
    """Cases ``(x (N, H, W, C), pool_size, strides, padding)`` for ``MaxPooling2D``/``AveragePooling2D``.

    ``custom_strides=False`` keeps ``strides=None`` (the pool size); otherwise strides are ints or pairs
    from 1 to 3. ``negative=True`` makes every input value negative. Pool sizes are ints or pairs.
    """
    corners = [args for args in _POOL_CORNERS if args[3] in paddings and (args[2] is not None) == custom_strides]
    rng = np.random.default_rng(seed)
    configurations = list(corners)
    while len(configurations) < count:
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 10)), int(rng.integers(1, 10)), int(rng.integers(1, 4)))
        pool = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        strides = (int(rng.integers(1, 4)), int(rng.integers(1, 4))) if custom_strides else None
        padding = paddings[rng.integers(len(paddings))]
        effective_strides = strides or pool
        if padding == "valid" and any(valid_output_length(i, k, s) < 1
                                      for i, k, s in zip(shape[1:3], pool, effective_strides)):
            continue
        if rng.integers(2):
            pool = _as_int_when_square(pool)
            strides = strides and _as_int_when_square(strides)
        configurations.append((shape, pool, strides, padding))
    values = np.random.default_rng(seed + 1)
    draw = negative_values if negative else random_values
    return [Case(POOL2D_NAMES, (draw(values, shape), pool, strides, padding))
            for shape, pool, strides, padding in configurations]
