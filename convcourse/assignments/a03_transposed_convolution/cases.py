"""Test configurations for assignment 03 (transposed convolution), always led by the hard corners.

Every generator is seeded and returns :class:`convcourse.cases.Case` objects whose ``args`` follow the
contract's order (``../shared/exercise-api.md``, section 03):

* ``conv_matrix(kernel, input_shape, strides)``: ``kernel (kh, kw)``, ``input_shape (H, W)``;
* ``dilate(x, strides)``: ``x (N, H, W, C)``;
* ``conv_transpose_output_length(input_length, kernel_size, stride, padding, output_padding, dilation)``;
* ``conv2d_transpose(x, kernel, bias, strides, padding, output_padding)``: ``x (N, H, W, C_in)``,
  ``kernel (kh, kw, C_out, C_in)`` (the ``Conv2DTranspose`` layout), ``bias (C_out,)`` or ``None``.

``strides`` and ``output_padding`` are drawn both as ints and as pairs, strides often larger than the kernel,
``output_padding`` always smaller than the stride (Keras refuses anything else). Configurations that Keras'
``Conv2DTranspose`` cannot run are never generated (see :func:`keras_cannot_run`).
"""

import dataclasses

import numpy as np

from convcourse.grader.cases import Case, random_values

CONV_MATRIX_NAMES = ("kernel", "input_shape", "strides")
DILATE_NAMES = ("x", "strides")
OUTPUT_LENGTH_NAMES = ("input_length", "kernel_size", "stride", "padding", "output_padding", "dilation")
CONV2D_TRANSPOSE_NAMES = ("x", "kernel", "bias", "strides", "padding", "output_padding")


def as_pair(value):
    """An int ``v`` as ``(v, v)``; a pair as a tuple of two ints; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    return tuple(int(v) for v in value)


def _random_int_or_pair(rng, low, high):
    """An int in ``[low, high)`` half of the time, else a pair of them (often unequal: per-axis values)."""
    if rng.integers(2):
        return int(rng.integers(low, high))
    return (int(rng.integers(low, high)), int(rng.integers(low, high)))


def conv_matrix_cases(count, seed, strided=True):
    """Cases ``(kernel (kh, kw), input_shape (H, W), strides)`` where the kernel fits in the input.

    ``strided=False`` keeps ``strides=1``. Corners: the seed's 4x4 image with a 3x3 kernel, a kernel as large as
    the input, 1x1 kernels and inputs, even and non-square kernels and, when strided, strides larger than the
    kernel and per-axis strides.
    """
    rng = np.random.default_rng(seed)
    geometries = [((3, 3), (4, 4), 1), ((4, 3), (4, 3), 1), ((1, 1), (1, 1), 1), ((2, 2), (5, 6), 1),
                  ((1, 3), (4, 5), 1), ((2, 1), (3, 7), 1)]
    if strided:
        geometries += [((3, 3), (5, 5), 2), ((2, 2), (7, 8), (3, 1)), ((1, 2), (6, 6), 4), ((2, 3), (7, 5), (1, 2))]
    while len(geometries) < count:
        height, width = int(rng.integers(1, 8)), int(rng.integers(1, 8))
        kernel_size = (int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1)))
        strides = _random_int_or_pair(rng, 1, 5) if strided else 1
        geometries.append((kernel_size, (height, width), strides))
    return [Case(CONV_MATRIX_NAMES, (random_values(rng, kernel_size), input_shape, strides))
            for kernel_size, input_shape, strides in geometries]


def dilate_cases(count, seed, per_axis=False):
    """Cases ``(x (N, H, W, C), strides)``: ``strides`` an int (``per_axis=False``) or a pair of unequal ints.

    Corners: stride 1 (nothing changes), a single pixel, one row, one column, strides of 4 and several channels.
    """
    rng = np.random.default_rng(seed)
    if per_axis:
        geometries = [((1, 2, 2, 1), (2, 1)), ((1, 2, 2, 1), (1, 3)), ((2, 1, 4, 2), (3, 2)), ((1, 4, 1, 3), (2, 4)),
                      ((1, 1, 1, 1), (4, 2))]
    else:
        geometries = [((1, 2, 2, 1), 2), ((1, 3, 3, 1), 1), ((1, 1, 1, 1), 3), ((2, 1, 4, 2), 2), ((1, 4, 1, 3), 4),
                      ((3, 3, 2, 4), 3)]
    while len(geometries) < count:
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 7)), int(rng.integers(1, 7)), int(rng.integers(1, 5)))
        if per_axis:
            strides = tuple(int(s) for s in rng.choice(np.arange(1, 5), size=2, replace=False))
        else:
            strides = int(rng.integers(1, 5))
        geometries.append((shape, strides))
    return [Case(DILATE_NAMES, (random_values(rng, shape), strides)) for shape, strides in geometries]


def conv_transpose_output_length_cases(count, seed, padding="valid", output_padding=False, dilated=False):
    """Cases ``(input_length, kernel_size, stride, padding, output_padding, dilation)`` Keras accepts.

    ``padding`` is ``'valid'``, ``'same'`` or ``'both'``. ``output_padding=False`` passes ``None``; ``True``
    draws ``0 <= output_padding < stride``. ``dilated=True`` draws dilations 2-4 at stride 1 (Keras refuses
    strides > 1 together with dilation > 1); otherwise ``dilation=1``. Strides are often larger than the kernel.
    """
    rng = np.random.default_rng(seed)
    paddings = ("valid", "same") if padding == "both" else (padding,)
    corners = []
    for pad in paddings:
        if dilated:
            corners += [(1, 3, 1, pad, 0 if output_padding else None, 2), (4, 2, 1, pad, 0 if output_padding else None, 3),
                        (5, 5, 1, pad, 0 if output_padding else None, 4)]
        elif output_padding:
            corners += [(1, 1, 2, pad, 1, 1), (3, 2, 2, pad, 1, 1), (3, 3, 2, pad, 0, 1), (2, 1, 5, pad, 4, 1),
                        (4, 4, 3, pad, 2, 1), (1, 5, 1, pad, 0, 1)]
        else:
            corners += [(1, 1, 1, pad, None, 1), (2, 1, 2, pad, None, 1), (2, 3, 1, pad, None, 1),
                        (3, 2, 5, pad, None, 1), (4, 4, 4, pad, None, 1), (5, 2, 3, pad, None, 1)]
    cases = [Case(OUTPUT_LENGTH_NAMES, corner) for corner in corners]
    while len(cases) < count:
        pad = paddings[rng.integers(len(paddings))]
        kernel_size = int(rng.integers(1, 8))
        if dilated:
            stride, dilation = 1, int(rng.integers(2, 5))
        else:
            stride, dilation = int(rng.integers(1, 7)), 1
        extra = int(rng.integers(0, stride)) if output_padding else None
        cases.append(Case(OUTPUT_LENGTH_NAMES, (int(rng.integers(1, 30)), kernel_size, stride, pad, extra, dilation)))
    return cases


@dataclasses.dataclass(frozen=True)
class TransposeGeometry:
    """Sizes of one ``Conv2DTranspose`` call: batch, input, kernel, channels and the layer options."""

    batch: int
    height: int
    width: int
    kernel_height: int
    kernel_width: int
    in_channels: int
    filters: int
    strides: object = 1
    padding: str = "valid"
    output_padding: object = None
    use_bias: bool = False


def keras_cannot_run(geometry):
    """True where Keras' ``Conv2DTranspose`` crashes: ``'same'``, ``output_padding=0`` on an axis whose kernel
    is even (TensorFlow's ``Conv2DBackpropInput`` then expects another output size)."""
    if geometry.padding != "same" or geometry.output_padding is None:
        return False
    kernel_size = (geometry.kernel_height, geometry.kernel_width)
    return any(extra == 0 and k % 2 == 0 for extra, k in zip(as_pair(geometry.output_padding), kernel_size))


def conv2d_transpose_corner_geometries(paddings=("valid",), strided=False, output_padding=False):
    """The configurations every sweep includes, for each padding: 1-pixel inputs, even kernels, strides larger
    than the kernel, per-axis strides and, with ``output_padding=True``, every ``output_padding`` below the stride."""
    corners = []
    for padding in paddings:
        corners += [
            TransposeGeometry(1, 2, 2, 3, 3, 1, 1, padding=padding),  # the seed's 2x2 map and 3x3 kernel
            TransposeGeometry(1, 1, 1, 1, 1, 1, 1, padding=padding),  # one pixel, one weight
            TransposeGeometry(2, 3, 4, 2, 2, 1, 1, padding=padding),  # even kernel
            TransposeGeometry(1, 4, 3, 4, 1, 1, 1, padding=padding),  # even, non-square kernel
        ]
        if strided:
            corners += [
                TransposeGeometry(1, 2, 2, 3, 3, 1, 1, strides=2, padding=padding),  # the seed's 5x5 result
                TransposeGeometry(1, 3, 3, 2, 2, 1, 1, strides=4, padding=padding),  # stride larger than the kernel
                TransposeGeometry(2, 3, 2, 1, 1, 1, 1, strides=3, padding=padding),  # 1x1 kernel: a pure dilation
                TransposeGeometry(1, 3, 4, 3, 2, 1, 1, strides=(1, 3), padding=padding),  # per-axis strides
                TransposeGeometry(1, 2, 3, 4, 3, 1, 1, strides=(3, 2), padding=padding),
            ]
        if output_padding:
            corners += [
                TransposeGeometry(1, 3, 3, 3, 3, 1, 1, strides=2, padding=padding, output_padding=1),
                TransposeGeometry(1, 2, 3, 3, 1, 1, 1, strides=3, padding=padding, output_padding=(2, 1)),
                TransposeGeometry(1, 3, 2, 2, 2, 1, 1, strides=(2, 3), padding=padding, output_padding=(1, 2)),
                TransposeGeometry(1, 2, 2, 1, 3, 1, 1, strides=4, padding=padding, output_padding=(3, 0)),
                TransposeGeometry(1, 3, 3, 3, 5, 1, 1, strides=2, padding=padding, output_padding=0),
            ]
    return [corner for corner in corners if not keras_cannot_run(corner)]


def random_conv2d_transpose_geometries(rng, count, paddings=("valid",), strided=False, output_padding=False,
                                       single_channel=True, max_size=5):
    """``count`` random geometries Keras can run; channels 1 when ``single_channel``, else 1-4 (often unequal)."""
    geometries = []
    while len(geometries) < count:
        strides = _random_int_or_pair(rng, 1, 5) if strided else 1
        extra = None
        if output_padding:
            extra = tuple(int(rng.integers(0, s)) for s in as_pair(strides))
            if rng.integers(2) and extra[0] == extra[1] and as_pair(strides)[0] == as_pair(strides)[1]:
                extra, strides = extra[0], as_pair(strides)[0]
        geometry = TransposeGeometry(
            batch=int(rng.integers(1, 3)),
            height=int(rng.integers(1, max_size + 1)),
            width=int(rng.integers(1, max_size + 1)),
            kernel_height=int(rng.integers(1, 6)),
            kernel_width=int(rng.integers(1, 6)),
            in_channels=1 if single_channel else int(rng.integers(1, 5)),
            filters=1 if single_channel else int(rng.integers(1, 5)),
            strides=strides,
            padding=paddings[rng.integers(len(paddings))],
            output_padding=extra,
        )
        if not keras_cannot_run(geometry):
            geometries.append(geometry)
    return geometries


def conv2d_transpose_arrays(geometry, rng):
    """``x (N, H, W, C_in)``, ``kernel (kh, kw, C_out, C_in)`` and ``bias (C_out,)`` or ``None``."""
    g = geometry
    x = random_values(rng, (g.batch, g.height, g.width, g.in_channels))
    kernel = random_values(rng, (g.kernel_height, g.kernel_width, g.filters, g.in_channels))
    bias = random_values(rng, (g.filters,)) if g.use_bias else None
    return x, kernel, bias


def conv2d_transpose_cases(count, seed, names=CONV2D_TRANSPOSE_NAMES, paddings=("valid",), strided=False,
                           output_padding=False, single_channel=True, use_bias=False):
    """Cases for ``conv2d_transpose`` whose leading arguments are ``names`` (a prefix of
    ``x, kernel, bias, strides, padding, output_padding``): the corners, then random geometries, ``count`` in all.

    ``single_channel=False`` draws 1-4 input channels and 1-4 filters, mostly different, and batches up to 2;
    ``use_bias=True`` adds a bias to every case.
    """
    rng = np.random.default_rng(seed)
    geometries = conv2d_transpose_corner_geometries(paddings, strided, output_padding)
    if not single_channel:
        geometries += [
            TransposeGeometry(1, 2, 3, 2, 3, 2, 2, strides=2, padding=paddings[0]),  # as many inputs as outputs
            TransposeGeometry(1, 2, 2, 3, 3, 3, 1, padding=paddings[0]),  # more inputs than outputs
            TransposeGeometry(2, 2, 3, 2, 2, 1, 4, strides=2, padding=paddings[0]),  # more outputs than inputs
            TransposeGeometry(1, 3, 2, 3, 2, 2, 3, strides=(2, 1), padding=paddings[-1]),
            TransposeGeometry(1, 2, 2, 1, 1, 4, 2, strides=3, padding=paddings[-1]),
        ]
    geometries += random_conv2d_transpose_geometries(rng, max(count - len(geometries), 0), paddings, strided,
                                                     output_padding, single_channel)
    cases = []
    for g in geometries:
        g = dataclasses.replace(g, use_bias=use_bias)
        x, kernel, bias = conv2d_transpose_arrays(g, rng)
        values = {"x": x, "kernel": kernel, "bias": bias, "strides": g.strides, "padding": g.padding,
                  "output_padding": g.output_padding}
        cases.append(Case(tuple(names), tuple(values[name] for name in names)))
    return cases
