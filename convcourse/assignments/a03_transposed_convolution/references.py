"""The Keras references of assignment 03, measured rather than re-implemented: the convolution matrix read off
``Conv2D``, ``dilate`` as a 1x1 ``Conv2DTranspose``, and the output length from ``compute_output_shape``."""

import numpy as np

from convcourse.grader.oracle import (
    keras_conv2d,
    keras_conv2d_transpose,
    keras_module,
    keras_output_shape,
)


def keras_conv_matrix(kernel, input_shape, strides=1):
    """The matrix ``M (OH*OW, H*W)`` of ``Conv2D(1, (kh, kw), strides, 'valid', use_bias=False)`` on ``(H, W)``
    images, rows and columns in row-major (C) order: ``(M @ x.ravel()).reshape(OH, OW)`` is the layer's output."""
    kernel = np.asarray(kernel, dtype=np.float64)
    height, width = (int(v) for v in input_shape)
    one_hot_images = np.eye(height * width).reshape(height * width, height, width, 1)
    responses = keras_conv2d(one_hot_images, kernel[:, :, None, None], None, strides)
    return responses.reshape(height * width, -1).T


def keras_dilate(x, strides):
    """``x (N, H, W, C)`` with ``s - 1`` zeros between neighbours: ``(N, (H-1)*sh + 1, (W-1)*sw + 1, C)``."""
    channels = np.shape(x)[-1]
    identity = np.eye(channels)[None, None]  # (1, 1, C_out, C_in): each channel copied to itself
    return keras_conv2d_transpose(x, identity, None, strides, "valid", 0)


def keras_conv_transpose_output_length(input_length, kernel_size, stride=1, padding="valid", output_padding=None,
                                       dilation=1):
    """The output length ``Conv2DTranspose.compute_output_shape`` gives along one axis."""
    shape = keras_output_shape(
        keras_module().layers.Conv2DTranspose, (None, input_length, 1, 1), filters=1, kernel_size=(kernel_size, 1),
        strides=(stride, 1), padding=padding, output_padding=None if output_padding is None else (output_padding, 0),
        dilation_rate=(dilation, 1),
    )
    return int(shape[1])


# What answers, in a student's kernel, a call of an already graded function while another one is tested.
STAND_INS = {
    "conv_matrix": keras_conv_matrix, "dilate": keras_dilate,
    "conv_transpose_output_length": keras_conv_transpose_output_length, "conv2d_transpose": keras_conv2d_transpose,
}

# The only calls between graded functions the grader answers with a reference (the exercise names them): while
# a key is tested, its calls of an already graded helper get the reference; any other call runs the student's own.
HELPERS = {"conv2d_transpose": ("dilate", "conv_transpose_output_length")}