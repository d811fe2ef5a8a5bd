"""The TensorFlow references of assignment 06, measured rather than re-implemented, all in float64:

* :func:`tf_im2col` is ``tf.image.extract_patches`` (the same ``(kh, kw, C)`` layout) flattened to one row per
  output position;
* :func:`keras_conv2d_backward` is ``tf.GradientTape`` over a ``Conv2D`` with a bias;
* :func:`keras_max_pool2d_backward` is ``tf.GradientTape`` over ``MaxPooling2D``.
"""

import numpy as np

from convcourse.assignments.a06_backpropagation.cases import as_pair
from convcourse.grader.oracle import DTYPE, keras_module


def tf_module():
    """TensorFlow, imported on first use, so that importing the references stays cheap."""
    import tensorflow as tf

    return tf


def tf_im2col(x, kernel_size, strides=1, padding="valid"):
    """``tf.image.extract_patches`` of ``x (N, H, W, C)`` as ``(N*OH*OW, kh*kw*C)``: one row per window, rows in
    ``(n, i, j)`` order, each row ``(kh, kw, C)`` with C fastest, zeros where ``'same'`` pads."""
    x = np.asarray(x, dtype=DTYPE)
    (kernel_height, kernel_width), (stride_y, stride_x) = as_pair(kernel_size), as_pair(strides)
    patches = tf_module().image.extract_patches(
        x, sizes=[1, kernel_height, kernel_width, 1], strides=[1, stride_y, stride_x, 1], rates=[1, 1, 1, 1],
        padding=padding.upper(),
    )
    return np.asarray(patches, dtype=np.float64).reshape(-1, kernel_height * kernel_width * x.shape[3])


def _tape_gradients(layer, x, grad_output, variables):
    """The gradients of ``sum(grad_output * layer(x))`` with respect to ``x`` and ``variables``."""
    tf = tf_module()
    x = tf.constant(np.asarray(x, dtype=DTYPE))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.constant(np.asarray(grad_output, dtype=DTYPE)) * layer(x))
    return [np.asarray(gradient, dtype=np.float64) for gradient in tape.gradient(loss, [x, *variables])]


def keras_conv2d_backward(x, kernel, grad_output, strides=1, padding="valid", dilation_rate=1):
    """``(grad_x, grad_kernel, grad_bias)`` of ``sum(grad_output * Conv2D(...)(x))`` for ``Conv2D`` with ``kernel
    (kh, kw, C_in, C_out)`` and a bias (whose value the gradients do not depend on), by ``tf.GradientTape``."""
    kernel = np.asarray(kernel, dtype=DTYPE)
    layer = keras_module().layers.Conv2D(
        filters=kernel.shape[3], kernel_size=kernel.shape[:2], strides=strides, padding=padding,
        dilation_rate=dilation_rate, use_bias=True, dtype=DTYPE,
    )
    layer.build(np.shape(x))
    layer.set_weights([kernel, np.zeros(kernel.shape[3])])
    grad_x, grad_kernel, grad_bias = _tape_gradients(layer, x, grad_output, [layer.kernel, layer.bias])
    return grad_x, grad_kernel, grad_bias


def keras_max_pool2d_backward(x, grad_output, pool_size=2, strides=None, padding="valid"):
    """The gradient of ``sum(grad_output * MaxPooling2D(pool_size, strides, padding)(x))`` with respect to ``x``."""
    layer = keras_module().layers.MaxPooling2D(pool_size=pool_size, strides=strides, padding=padding, dtype=DTYPE)
    (grad_x,) = _tape_gradients(layer, x, grad_output, [])
    return grad_x


# What answers, in a student's kernel, a call of an already graded function while another one is tested.
STAND_INS = {"im2col": tf_im2col, "conv2d_backward": keras_conv2d_backward,
             "max_pool2d_backward": keras_max_pool2d_backward}

# The only calls between graded functions the grader answers with a reference (the exercise names them): while
# a key is tested, its calls of an already graded helper get the reference; any other call runs the student's own.
HELPERS = {"conv2d_backward": ("im2col",)}