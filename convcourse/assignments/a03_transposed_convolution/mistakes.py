"""Keras-measured references for assignment 03 (transposed convolution) and its known mistakes.

The references measure what Keras does rather than re-implementing it:

* :func:`keras_conv_matrix` reads the convolution matrix off ``Conv2D``: column ``j`` is the layer applied to
  the ``j``-th one-hot image;
* :func:`keras_dilate` is ``Conv2DTranspose`` with a 1x1 identity kernel, ``padding='valid'`` and
  ``output_padding=0``, which spreads the input ``s - 1`` zeros apart and adds nothing else;
* :func:`keras_conv_transpose_output_length` is ``Conv2DTranspose.compute_output_shape``.

The ``*_mistakes`` functions take a reference with the graded function's arguments and return
``{description: mistaken reference}`` for :func:`convcourse.checks.check_against_reference`; each mistaken
reference is again computed with Keras, and returns ``None`` where the mistake cannot be told apart.
"""

import numpy as np

from convcourse.assignments.a03_transposed_convolution.cases import as_pair
from convcourse.grader.oracle import (
    keras_conv2d_transpose,
    keras_module,
    keras_output_shape,
)


def conv_matrix_mistakes(reference):
    """Mistakes of ``conv_matrix(kernel, input_shape, strides)``: column-major order, flipped kernel, strides
    applied to the wrong axes."""

    def column_major(kernel, input_shape, strides=1):
        height, width = (int(v) for v in input_shape)
        output_shape = keras_output_shape(keras_module().layers.Conv2D, (None, height, width, 1), filters=1,
                                          kernel_size=np.shape(kernel), strides=strides)
        matrix = reference(kernel, input_shape, strides)
        by_position = matrix.reshape(output_shape[1], output_shape[2], height, width)
        return by_position.transpose(1, 0, 3, 2).reshape(matrix.shape)

    def strides_swapped(kernel, input_shape, strides=1):
        vertical, horizontal = as_pair(strides)
        return None if vertical == horizontal else reference(kernel, input_shape, (horizontal, vertical))

    return {
        "images and outputs are flattened column by column (Fortran order) instead of row by row (x.ravel())":
            column_major,
        "the kernel is flipped (that is a convolution; Conv2D cross-correlates)":
            lambda kernel, *rest: reference(np.asarray(kernel)[::-1, ::-1], *rest),
        "the vertical and horizontal strides are swapped": strides_swapped,
    }


def dilate_mistakes(reference):
    """Mistakes of ``dilate(x, strides)``: zeros after the last value too, ``s`` zeros instead of ``s - 1``,
    strides applied to the wrong axes."""

    def trailing_zeros(x, strides):
        channels = np.shape(x)[-1]
        return keras_conv2d_transpose(x, np.eye(channels)[None, None], None, strides, "valid", None)

    def strides_swapped(x, strides):
        vertical, horizontal = as_pair(strides)
        return None if vertical == horizontal else reference(x, (horizontal, vertical))

    return {
        "s - 1 zeros also follow the last row and column (the result is s times as large)": trailing_zeros,
        "s zeros are put between neighbours instead of s - 1":
            lambda x, strides: reference(x, tuple(s + 1 for s in as_pair(strides))),
        "the vertical and horizontal strides are swapped": strides_swapped,
    }


def conv2d_transpose_mistakes(reference):
    """Mistakes of ``conv2d_transpose(x, kernel, bias, strides, padding, output_padding)``: kernel not flipped in
    the dilate-and-pad view, kernel channel axes swapped, bias left out, ``output_padding`` ignored,
    ``max(k, s)`` forgotten for ``'valid'``, ``'same'`` cropped from the wrong side."""

    def unflipped(x, kernel, *rest):
        return reference(x, np.asarray(kernel)[::-1, ::-1], *rest)

    def swapped_channels(x, kernel, *rest):
        kernel = np.asarray(kernel)
        return reference(x, kernel.swapaxes(2, 3), *rest) if kernel.shape[2] == kernel.shape[3] else None

    def bias_left_out(x, kernel, bias=None, *rest):
        return None if bias is None else reference(x, kernel, None, *rest)

    def output_padding_ignored(x, kernel, bias=None, strides=1, padding="valid", output_padding=None):
        if output_padding is None:
            return None
        return reference(x, kernel, bias, strides, padding, None)

    def max_forgotten(x, kernel, bias=None, strides=1, padding="valid", output_padding=None):
        if padding != "valid" or output_padding is not None:
            return None
        return reference(x, kernel, bias, strides, padding, 0)

    def cropped_from_wrong_side(x, kernel, bias=None, strides=1, padding="valid", output_padding=None):
        # Turning input and kernel by 180 degrees turns Keras' uncropped output too, so its crop lands on the
        # other side; where the output is longer than the uncropped grid the two mistakes differ, so say nothing.
        if padding != "same":
            return None
        x, kernel = np.asarray(x), np.asarray(kernel)
        config = dict(filters=kernel.shape[2], kernel_size=kernel.shape[:2], strides=strides)
        layer = keras_module().layers.Conv2DTranspose
        uncropped = keras_output_shape(layer, x.shape, padding="valid", output_padding=0, **config)
        cropped = keras_output_shape(layer, x.shape, padding="same", output_padding=output_padding, **config)
        if any(c > u for c, u in zip(cropped[1:3], uncropped[1:3])):
            return None
        turned = reference(x[:, ::-1, ::-1], kernel[::-1, ::-1], bias, strides, padding, output_padding)
        return turned[:, ::-1, ::-1]

    return {
        "the kernel is not flipped (seen as a convolution of the dilated, padded input, the kernel must be "
        "turned by 180 degrees)": unflipped,
        "the kernel is read as (kh, kw, C_in, C_out); Conv2DTranspose stores (kh, kw, C_out, C_in)": swapped_channels,
        "the bias is left out": bias_left_out,
        "output_padding is ignored": output_padding_ignored,
        "the 'valid' output length forgets max(k, s) when output_padding is None (the stride is larger than the "
        "kernel)": max_forgotten,
        "the 'same' output is cropped from the wrong side (Keras crops floor(P/2) at the top/left)":
            cropped_from_wrong_side,
    }


def conv_transpose_output_length_mistakes(reference):
    """Mistakes of ``conv_transpose_output_length(input_length, kernel_size, stride, padding, output_padding,
    dilation)``: each is ``reference`` (Keras' ``compute_output_shape``) on a changed configuration."""

    def dilation_ignored(input_length, kernel_size, stride=1, padding="valid", output_padding=None, dilation=1):
        return None if dilation == 1 else reference(input_length, kernel_size, stride, padding, output_padding, 1)

    def max_forgotten(input_length, kernel_size, stride=1, padding="valid", output_padding=None, dilation=1):
        if padding != "valid" or output_padding is not None:
            return None
        return reference(input_length, kernel_size, stride, padding, 0, dilation)

    def output_padding_ignored(input_length, kernel_size, stride=1, padding="valid", output_padding=None,
                               dilation=1):
        if output_padding is None:
            return None
        return reference(input_length, kernel_size, stride, padding, None, dilation)

    def same_none_as_zero(input_length, kernel_size, stride=1, padding="valid", output_padding=None, dilation=1):
        if padding != "same" or output_padding is not None:
            return None
        return reference(input_length, kernel_size, stride, padding, 0, dilation)

    return {
        "the dilation is left out (use the dilated kernel (k - 1) * d + 1 in place of k)": dilation_ignored,
        "the 'valid' length forgets max(k, s) when output_padding is None (the stride is larger than the kernel)":
            max_forgotten,
        "output_padding is ignored": output_padding_ignored,
        "'same' with output_padding=None is computed as output_padding=0; None means exactly s * i": same_none_as_zero,
    }
