"""The Keras oracle: run a real Keras layer with given weights on given inputs.

Every function takes NumPy arrays in the course's layouts (channels-last images
``(N, H, W, C)``, 1-D batches ``(N, L, C)``, Keras kernel layouts) and returns a
``float64`` NumPy array. Layers run in ``float64`` so that the reference is far
more precise than the tolerance the tests allow.
"""

import collections
import threading

import numpy as np

DTYPE = "float64"
# Building a layer (creating its variables) costs more than running it, and a release computes thousands of
# references from a few dozen configurations: a built layer is kept per class, configuration and input shape (the
# most recently used ones), its weights set anew for every call. Each call is then the layer that configuration
# builds, with the weights given, as a fresh one would be.
KEPT_LAYERS = 256
_BUILT = collections.OrderedDict()
_BUILDING = threading.Lock()


def keras_module():
    """Keras, imported on first use, so that importing the oracle stays cheap; without the integrations no
    reference uses (:mod:`convcourse.grader.lean_keras`)."""
    from convcourse.grader.lean_keras import keras

    return keras


def run_keras_layer(layer_class, config, x, weights=None):
    """``layer_class(**config)`` built for the shape of ``x``, its weights set to ``weights`` (a list, as
    ``set_weights``): ``layer(x)`` as ``float64``."""
    x = np.asarray(x, dtype=DTYPE)
    key = (layer_class, repr(sorted(config.items())), x.shape)
    with _BUILDING:
        layer = _BUILT.pop(key, None)
        if layer is None:
            layer = layer_class(**config, dtype=DTYPE)
            layer.build(x.shape)
        _BUILT[key] = layer
        while len(_BUILT) > KEPT_LAYERS:
            _BUILT.popitem(last=False)
        if weights is not None:
            layer.set_weights([np.asarray(w, dtype=DTYPE) for w in weights])
        return np.asarray(layer(x), dtype=np.float64)


def _conv_weights(kernel, bias):
    return [kernel] if bias is None else [kernel, bias]


def keras_conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """``Conv2D``: ``x (N, H, W, C_in)``, ``kernel (kh, kw, C_in, C_out)``, ``bias (C_out,)`` or ``None``."""
    kernel = np.asarray(kernel)
    config = dict(filters=kernel.shape[3], kernel_size=kernel.shape[:2], strides=strides, padding=padding,
                  dilation_rate=dilation_rate, use_bias=bias is not None)
    return run_keras_layer(keras_module().layers.Conv2D, config, x, _conv_weights(kernel, bias))


def keras_conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """``Conv1D``: ``x (N, L, C_in)``, ``kernel (k, C_in, C_out)``, ``bias (C_out,)`` or ``None``."""
    kernel = np.asarray(kernel)
    config = dict(filters=kernel.shape[2], kernel_size=kernel.shape[0], strides=strides, padding=padding,
                  dilation_rate=dilation_rate, use_bias=bias is not None)
    return run_keras_layer(keras_module().layers.Conv1D, config, x, _conv_weights(kernel, bias))


def keras_conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None, dilation_rate=1):
    """``Conv2DTranspose``: ``x (N, H, W, C_in)``, ``kernel (kh, kw, C_out, C_in)``, ``bias (C_out,)`` or ``None``."""
    kernel = np.asarray(kernel)
    config = dict(filters=kernel.shape[2], kernel_size=kernel.shape[:2], strides=strides, padding=padding,
                  output_padding=output_padding, dilation_rate=dilation_rate, use_bias=bias is not None)
    return run_keras_layer(keras_module().layers.Conv2DTranspose, config, x, _conv_weights(kernel, bias))


def keras_pool2d(x, kind, pool_size=2, strides=None, padding="valid"):
    """``MaxPooling2D`` (``kind='max'``) or ``AveragePooling2D`` (``kind='avg'``) on ``x (N, H, W, C)``."""
    layers = keras_module().layers
    classes = {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}
    if kind not in classes:
        raise ValueError(f"kind must be 'max' or 'avg', got {kind!r}")
    return run_keras_layer(classes[kind], dict(pool_size=pool_size, strides=strides, padding=padding), x)


def keras_output_shape(layer_class, input_shape, **config):
    """The output shape Keras computes for ``layer_class(**config)`` on ``input_shape`` (batch included)."""
    return tuple(layer_class(**config).compute_output_shape(tuple(input_shape)))




