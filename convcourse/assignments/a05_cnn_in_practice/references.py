"""The receptive-field oracle: measure, with Keras gradients, which inputs a 1-D conv stack's outputs depend on.

A stack is a list of ``(kernel_size, stride, dilation)`` triples, first layer first. The measurement
builds ``Conv1D`` layers (``'valid'`` padding, one channel, all-ones kernels, no bias, float64) and
takes the gradient of one output position with respect to the input with ``tf.GradientTape``:

* ``size``: the span, first to last input position the output depends on (a dilated kernel leaves
  holes inside the span; they are counted, as the span is what the output "sees");
* ``jump``: how far the span moves between neighbouring outputs (output 1 versus output 0).

All-ones kernels make every path from an input to the output add a positive amount, so no
gradient cancels. Keras refuses ``stride > 1`` together with ``dilation > 1`` in one layer, and so
does this module.
"""

import numpy as np

from convcourse.grader.modelcheck import ModelPolicy

STARTING_INPUT_LENGTH = 16


def _validate(layers):
    if not isinstance(layers, (list, tuple)):
        raise TypeError(f"layers must be a list of (kernel_size, stride, dilation) triples, got {type(layers).__name__}")
    triples = []
    for index, layer in enumerate(layers):
        if len(layer) != 3 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                                      for v in layer):
            raise ValueError(f"layers[{index}] must be a triple of positive ints (kernel_size, stride, dilation), "
                             f"got {layer!r}")
        kernel_size, stride, dilation = (int(v) for v in layer)
        if stride > 1 and dilation > 1:
            raise ValueError(f"layers[{index}] = {layer!r}: Keras refuses stride > 1 together with dilation > 1")
        triples.append((kernel_size, stride, dilation))
    return triples


def conv1d_stack(layers, input_length):
    """A ``keras.Model`` of one-channel ``Conv1D`` layers with all-ones kernels on ``(input_length, 1)`` inputs
    (the identity for an empty stack)."""
    import keras

    inputs = keras.Input((input_length, 1), dtype="float64")
    outputs = inputs
    for kernel_size, stride, dilation in _validate(layers):
        outputs = keras.layers.Conv1D(1, kernel_size, strides=stride, dilation_rate=dilation, use_bias=False,
                                      kernel_initializer="ones", dtype="float64")(outputs)
    return keras.Model(inputs, outputs)


def _output_length(layers, input_length):
    import keras

    length = input_length
    for kernel_size, stride, dilation in layers:
        layer = keras.layers.Conv1D(1, kernel_size, strides=stride, dilation_rate=dilation)
        try:
            length = layer.compute_output_shape((1, length, 1))[1]
        except ValueError:
            return 0
        if length is None or length < 1:
            return 0
    return length


def input_gradients(layers, input_length, output_positions):
    """``d output[p] / d input`` of :func:`conv1d_stack` for each ``p`` in ``output_positions``:
    a float64 array ``(len(output_positions), input_length)``."""
    import tensorflow as tf

    model = conv1d_stack(layers, input_length)
    x = tf.Variable(np.zeros((1, input_length, 1)), dtype=tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        outputs = model(x)[0, :, 0]
        selected = [outputs[position] for position in output_positions]
    gradients = [np.asarray(tape.gradient(output, x))[0, :, 0] for output in selected]
    del tape
    return np.stack(gradients)


def _touched(gradient):
    positions = np.flatnonzero(gradient)
    return int(positions[0]), int(positions[-1])


def measured_receptive_field(layers):
    """``(size, jump)`` of the stack ``layers`` measured from Keras gradients (see the module docstring).

    The input is made long enough (doubling from 16) that the stack has at least two outputs.
    """
    layers = _validate(layers)
    input_length = STARTING_INPUT_LENGTH
    while _output_length(layers, input_length) < 2:
        input_length *= 2
    first_output, second_output = input_gradients(layers, input_length, (0, 1))
    first, last = _touched(first_output)
    next_first, _ = _touched(second_output)
    return last - first + 1, next_first - first


# Graded functions that build Keras models: run without the hand-written guard (Keras is their point).
BUILDS_MODELS = ("build_digits_cnn", "build_generator")
# Known before any notebook is graded (convcourse.grader.precompute runs the solution's tests): the receptive
# fields, and the accuracy of the solution's CNN trained as the contract says (a class of such models is then
# trained at release, not by its first notebook).
KNOWN_AHEAD = ("receptive_field", "build_digits_cnn")


# What the grader accepts back from the model-building functions (convcourse.grader.modelcheck), checked before
# Keras sees the model. The bounds sit well above the contract (10,000 and 500,000 parameters; the solutions cost
# 1,261 and 8,624 multiply-adds per input value) so that an honest model too large gets the checks' own message.
_CNN_LAYERS = frozenset({
    "InputLayer", "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "BatchNormalization", "LayerNormalization", "Dropout",
    "SpatialDropout2D", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Flatten", "Dense", "Reshape",
    "ZeroPadding2D", "Rescaling",
})
MODEL_POLICIES = {
    "build_digits_cnn": ModelPolicy(layers=_CNN_LAYERS, max_params=50_000, max_macs_per_value=50_000,
                                    max_activations_per_value=1_000),
    "build_generator": ModelPolicy(layers=_CNN_LAYERS | {"Conv2DTranspose", "UpSampling2D", "Cropping2D"},
                                   max_params=2_000_000, max_macs_per_value=500_000,
                                   max_activations_per_value=5_000),
}
