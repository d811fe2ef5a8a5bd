"""The Keras references of assignment 04: ``Flatten`` + ``Dense`` on feature maps, and the original classifier
run on every window of a larger input (the score map a fully-convolutional version must give)."""

import math

import numpy as np

from convcourse.assignments.a04_fully_convolutional.cases import (
    check_data_format,
    feature_map_size,
    total_stride,
)
from convcourse.grader.checks import cached_reference, module_digest
from convcourse.grader.modelcheck import ModelPolicy
from convcourse.grader.oracle import keras_module


def keras_flatten_dense(features, dense_kernel, bias=None, data_format="channels_last"):
    """``Flatten`` then ``Dense`` in Keras on a channels-last feature map ``features (N, H, W, C)``.

    ``dense_kernel (H*W*C, units)`` holds one row per flattened feature. With
    ``data_format='channels_last'`` the rows follow Keras' own flatten order ``(H, W, C)``; with
    ``'channels_first'`` they follow the order of a channels-first network, ``(C, H, W)``, so
    the map is first permuted to ``(N, C, H, W)`` by a Keras ``Permute`` layer. Returns
    ``(N, units)`` as ``float64``.
    """
    check_data_format(data_format)
    keras = keras_module()
    features = np.asarray(features, dtype="float64")
    if features.ndim != 4:
        raise ValueError(f"features must be 4-D (N, H, W, C), got shape {features.shape}")
    flat = features
    if data_format == "channels_first":
        flat = keras.layers.Permute((3, 1, 2), dtype="float64")(flat)
    flat = keras.layers.Flatten(dtype="float64")(flat)
    dense_kernel = np.asarray(dense_kernel)
    dense = keras.layers.Dense(dense_kernel.shape[1], use_bias=bias is not None, dtype="float64")
    dense.build(tuple(flat.shape))
    dense.set_weights([dense_kernel] if bias is None else [dense_kernel, bias])
    return np.asarray(dense(flat), dtype=np.float64)


def window_scores(model, x):
    """The original classifier on every window of ``x (N, H', W', C)`` at the network's total stride.

    The window at ``[i, j]`` starts at row ``i*S_h``, column ``j*S_w`` and has the model's input size
    ``(H, W)``; there are ``H_f' - H_f + 1`` rows of windows (``H_f`` the feature-map height on
    ``(H, W)``, ``H_f'`` on ``(H', W')``), likewise for columns. When ``H' - H`` is not a multiple of
    ``S_h`` the last window reaches past ``x`` only over pixels the network never reads, which are
    filled with zeros here. Returns ``(N, rows, cols, units)`` as ``float64``.
    """
    x = np.asarray(x, dtype="float32")
    height, width = (int(v) for v in model.inputs[0].shape[1:3])
    if x.ndim != 4 or x.shape[1] < height or x.shape[2] < width:
        raise ValueError(f"x must be (N, H', W', C) with H' >= {height} and W' >= {width}, got shape {x.shape}")
    stride_h, stride_w = total_stride(model)
    base = feature_map_size(model, height, width)
    larger = feature_map_size(model, x.shape[1], x.shape[2])
    rows, cols = larger[0] - base[0] + 1, larger[1] - base[1] + 1
    padded = np.zeros((x.shape[0], (rows - 1) * stride_h + height, (cols - 1) * stride_w + width, x.shape[3]),
                      dtype="float32")
    keep_h, keep_w = min(padded.shape[1], x.shape[1]), min(padded.shape[2], x.shape[2])
    padded[:, :keep_h, :keep_w] = x[:, :keep_h, :keep_w]
    windows = np.stack([padded[:, i * stride_h:i * stride_h + height, j * stride_w:j * stride_w + width]
                        for i in range(rows) for j in range(cols)], axis=1)
    scores = np.asarray(model(windows.reshape(-1, height, width, x.shape[3]), training=False), dtype=np.float64)
    return scores.reshape(x.shape[0], rows, cols, -1)


def classifier_outputs(model, x):
    """The classifier ``model`` (a :class:`~convcourse.grader.modelspec.ModelSpec`) on ``x (N, H, W, C)``, as
    ``float64 (N, units)``: run in Keras once, then read from the reference cache (keyed by the model's digest)."""
    return cached_reference(repr(("classifier outputs", _source_identity())), (model.digest(), x),
                            lambda: np.asarray(model.keras_model()(x, training=False), dtype=np.float64))


def classifier_window_scores(model, x):
    """:func:`window_scores` of the classifier ``model`` (a :class:`~convcourse.grader.modelspec.ModelSpec`), run
    in Keras once, then read from the reference cache."""
    return cached_reference(repr(("window scores", _source_identity())), (model.digest(), x),
                            lambda: window_scores(model.keras_model(), x))


def _source_identity():
    """What the classifiers' outputs depend on: this module's and the classifiers' sources, and Keras' version."""
    return (module_digest(__name__), module_digest("convcourse.assignments.a04_fully_convolutional.cases"),
            keras_module().__version__)


def reference_dense_to_conv_kernel(dense_kernel, feature_shape, data_format="channels_last"):
    """The ``Conv2D`` kernel ``(H, W, C, units)`` of a ``Dense`` kernel ``(H*W*C, units)`` that follows ``Flatten``
    (rows in ``(C, H, W)`` order for ``'channels_first'``, whose ``feature_shape`` is then ``(C, H, W)``): what
    stands in for a student's ``dense_to_conv_kernel`` while their ``to_fully_convolutional`` is tested."""
    check_data_format(data_format)
    dense_kernel = np.asarray(dense_kernel)
    sizes = tuple(int(v) for v in feature_shape)
    if dense_kernel.ndim != 2 or len(sizes) != 3 or math.prod(sizes) != dense_kernel.shape[0]:
        raise ValueError(f"dense_kernel {dense_kernel.shape} does not match feature_shape {sizes}")
    kernel = dense_kernel.reshape(*sizes, dense_kernel.shape[1])
    return kernel.transpose(1, 2, 0, 3).copy() if data_format == "channels_first" else kernel.copy()


# While to_fully_convolutional is tested, its calls of an already graded dense_to_conv_kernel are answered by the
# reference (the edges the exercise names: HELPERS).
STAND_INS = {"dense_to_conv_kernel": reference_dense_to_conv_kernel}
HELPERS = {"to_fully_convolutional": ("dense_to_conv_kernel",)}
# Graded functions that build Keras models: run without the hand-written guard (Keras is their point).
BUILDS_MODELS = ("to_fully_convolutional",)
# What is known before any notebook is graded (convcourse.grader.precompute runs the solution's tests): Flatten +
# Dense on the seeded feature maps, Conv2D with the solution's kernels (a student's kernel equal to the solution's
# is then judged without Keras), the seeded classifiers themselves as config and weights, and what they give on
# every input the tests draw.
KNOWN_AHEAD = ("dense_to_conv_kernel", "to_fully_convolutional")


# What the grader accepts back from a model-building function (convcourse.grader.modelcheck), checked before Keras
# sees the model: the layers a conversion keeps or makes, and bounds far above any correct conversion of the test
# classifiers (at most 303 multiply-adds, 23 outputs, 10 layers and 712 parameters per input value at 64x64).
MODEL_POLICIES = {
    "to_fully_convolutional": ModelPolicy(
        layers=frozenset({"InputLayer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "BatchNormalization",
                          "Dropout", "SpatialDropout2D", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax"}),
        max_layers=48, max_params=200_000, max_macs_per_value=5_000, max_activations_per_value=100),
}
