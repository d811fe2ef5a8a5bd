"""The Keras references of assignment 01: ``Conv2D`` on one image, and its parameter count."""

import numpy as np

from convcourse.grader.oracle import keras_conv2d, keras_module


def keras_corr2d(image, kernel):
    """``Conv2D(1, (kh, kw), use_bias=False)`` on one single-channel ``image (H, W)``: the valid cross-correlation."""
    image, kernel = np.asarray(image), np.asarray(kernel)
    return keras_conv2d(image[None, :, :, None], kernel[:, :, None, None])[0, :, :, 0]


def keras_conv_params(kernel_size, in_channels, filters, use_bias=True):
    """``Conv2D(filters, kernel_size, use_bias=use_bias).count_params()`` on ``in_channels`` input channels."""
    layer = keras_module().layers.Conv2D(filters=filters, kernel_size=kernel_size, use_bias=use_bias)
    layer.build((None, None, None, in_channels))
    return int(layer.count_params())


# What answers, in a student's kernel, a call of an already graded function while another one is tested.
STAND_INS = {"corr2d": keras_corr2d, "conv2d": keras_conv2d, "conv_params": keras_conv_params}

# The only calls between graded functions the grader answers with a reference (the exercise names them): while
# a key is tested, its calls of an already graded helper get the reference; any other call runs the student's own.
HELPERS = {"conv2d": ("corr2d",)}