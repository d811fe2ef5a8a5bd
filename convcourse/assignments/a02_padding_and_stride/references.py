"""The Keras references of assignment 02: output lengths from ``compute_output_shape``, the ``'same'`` split
measured from ``Conv1D``, and the pooling layers."""

import numpy as np

from convcourse.grader.cases import same_total_padding
from convcourse.grader.oracle import keras_conv1d, keras_conv2d, keras_module, keras_pool2d


def explicit_padding(padding, kernel_size, dilation):
    """Zeros on each side for ``'valid'``, ``'full'`` (the dilated kernel less one) or an integer ``p``."""
    if padding == "valid":
        return 0
    if padding == "full":
        return (kernel_size - 1) * dilation
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) and padding >= 0:
        return int(padding)
    raise ValueError(f"padding must be 'valid', 'same', 'causal', 'full' or an int >= 0, got {padding!r}")


def keras_conv_output_length(input_length, kernel_size, stride=1, padding="valid", dilation=1):
    """The output length Keras gives a ``Conv1D`` of ``kernel_size``, ``stride``, ``dilation`` on ``input_length``.

    ``'valid'``, ``'same'`` and ``'causal'`` are ``Conv1D.compute_output_shape``; ``'full'`` and an
    integer ``p`` are ``ZeroPadding1D`` (``p`` zeros, or ``(kernel_size - 1) * dilation`` for ``'full'``, on
    each side) followed by a ``'valid'`` ``Conv1D``. Raises Keras' ``ValueError`` where no output fits.
    """
    layers = keras_module().layers
    shape = (None, input_length, 1)
    if padding not in ("same", "causal"):
        zeros = explicit_padding(padding, kernel_size, dilation)
        shape = layers.ZeroPadding1D((zeros, zeros)).compute_output_shape(shape)
        padding = "valid"
    layer = layers.Conv1D(1, kernel_size, strides=stride, padding=padding, dilation_rate=dilation)
    return int(layer.compute_output_shape(shape)[1])


def keras_same_padding(input_length, kernel_size, stride=1, dilation=1):
    """``(before, after)``: the zeros ``Conv1D(padding='same')`` puts before and after an input, measured.

    The total is :func:`convcourse.cases.same_total_padding`. The split is read off Keras: the input
    ``1, 2, ..., L`` goes through a ``Conv1D`` with one filter per kernel tap (filter ``t`` reads only tap
    ``t``), so output ``[j, t] = v > 0`` says that padded position ``j*stride + t*dilation`` holds input
    cell ``v - 1``, i.e. ``before = j*stride + t*dilation - (v - 1)``.
    Raises ``ValueError`` when no tap reads the input (the split is then invisible in Keras' outputs).
    """
    x = np.arange(1.0, input_length + 1.0).reshape(1, input_length, 1)
    one_tap_per_filter = np.eye(kernel_size).reshape(kernel_size, 1, kernel_size)
    reads = keras_conv1d(x, one_tap_per_filter, None, stride, "same", dilation)[0]
    outputs, taps = np.nonzero(reads)
    if outputs.size == 0:
        raise ValueError(
            f"no kernel tap reads the input for input_length={input_length}, kernel_size={kernel_size}, "
            f"stride={stride}, dilation={dilation}: Keras' outputs do not show the split"
        )
    cells = np.rint(reads[outputs, taps]).astype(int) - 1
    befores = set((outputs * stride + taps * dilation - cells).tolist())
    if len(befores) != 1:
        raise RuntimeError(f"Keras read the input with inconsistent offsets {sorted(befores)}")
    before = befores.pop()
    return before, same_total_padding(input_length, kernel_size, stride, dilation) - before


def keras_max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """``MaxPooling2D`` on ``x (N, H, W, C)``, with the arguments in the contract's order."""
    return keras_pool2d(x, "max", pool_size, strides, padding)


def keras_avg_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """``AveragePooling2D`` on ``x (N, H, W, C)``, with the arguments in the contract's order."""
    return keras_pool2d(x, "avg", pool_size, strides, padding)


def contract_same_padding(input_length, kernel_size, stride=1, dilation=1):
    """The contract's ``'same'`` split: ``floor(P/2)`` before, the rest after (a stand-in needs no measuring)."""
    total = same_total_padding(input_length, kernel_size, stride, dilation)
    return total // 2, total - total // 2


# What answers, in a student's kernel, a call of an already graded function while another one is tested.
STAND_INS = {
    "conv_output_length": keras_conv_output_length, "same_padding": contract_same_padding,
    "conv2d": keras_conv2d, "conv1d": keras_conv1d, "max_pool2d": keras_max_pool2d, "avg_pool2d": keras_avg_pool2d,
}

# The only calls between graded functions the grader answers with a reference (the exercise names them): while
# a key is tested, its calls of an already graded helper get the reference; any other call runs the student's own.
HELPERS = {name: ("same_padding", "conv_output_length") for name in ("conv2d", "conv1d", "max_pool2d", "avg_pool2d")}