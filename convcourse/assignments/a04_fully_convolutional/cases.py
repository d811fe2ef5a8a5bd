"""Test material for fully-convolutional conversion: random small classifiers and Keras-backed references.

A *classifier* here is a chain ``Input(H, W, C)`` → conv / pool / activation / dropout /
batch-norm layers → ``Flatten`` → one or more ``Dense``, built with Keras' functional API,
channels-last, ``float32``, with seeded random weights (batch-norm layers get non-trivial
moving statistics, so a conversion that drops them is caught). The references only run
Keras layers and models:

* :func:`window_scores` evaluates the original classifier on every ``(H, W)`` window of a
  larger input at the network's total stride: the score map a fully-convolutional version
  must return;
* :func:`keras_flatten_dense` runs ``Flatten`` + ``Dense`` on a channels-last feature map,
  flattening in either order, the reference for a ``Conv2D`` kernel made from a dense kernel;
* :func:`classifier_variant` rebuilds a classifier with a known mistake, so that a failing
  check can name it.

Every generator is seeded: the same call gives the same models and arrays on every machine.
"""

import dataclasses
import functools
import math

import numpy as np

from convcourse.grader.cases import Case, random_values
from convcourse.grader.checks import cached_reference, module_digest
from convcourse.grader.modelspec import ModelSpec
from convcourse.grader.oracle import keras_module

DATA_FORMATS = ("channels_last", "channels_first")


# ----------------------------------------------------------------------------------------------
# Dense kernels and the Flatten + Dense reference
# ----------------------------------------------------------------------------------------------

def check_data_format(data_format):
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")


def channels_last_shape(feature_shape, data_format):
    """``(H, W, C)`` from a ``feature_shape`` given in ``data_format`` (``(C, H, W)`` for channels-first)."""
    check_data_format(data_format)
    if data_format == "channels_first":
        channels, height, width = feature_shape
        return (height, width, channels)
    return tuple(feature_shape)


DENSE_KERNEL_CORNERS = (
    # (H, W, C, units)
    (1, 1, 1, 1),  # one feature, one unit
    (1, 1, 5, 2),  # a 1x1 map: only the channels are flattened
    (4, 1, 2, 3),  # a single column
    (1, 3, 2, 1),  # a single row
    (3, 3, 3, 2),  # all three sizes equal: only the values reveal a wrong order
    (2, 3, 4, 3),  # all sizes different
    (5, 5, 3, 2),  # the chapter's example
)
# Configurations per hidden test of dense_to_conv_kernel: the corners and five random ones. With them the tests fail
# every mistake of the catalogue (mistakes.py) the 50 of before failed; each costs the grader two Keras layers.
DENSE_KERNEL_CASES = 12


def dense_kernel_cases(count, seed, data_format="channels_last"):
    """Cases ``(dense_kernel (H*W*C, units), feature_shape, data_format)``, the corners first.

    ``feature_shape`` is ``(H, W, C)`` for ``'channels_last'`` and ``(C, H, W)`` for ``'channels_first'``.
    """
    check_data_format(data_format)
    rng = np.random.default_rng(seed)
    sizes = list(DENSE_KERNEL_CORNERS)
    while len(sizes) < count:
        sizes.append(tuple(int(v) for v in (rng.integers(1, 7), rng.integers(1, 7), rng.integers(1, 5),
                                            rng.integers(1, 5))))
    cases = []
    for height, width, channels, units in sizes:
        feature_shape = (channels, height, width) if data_format == "channels_first" else (height, width, channels)
        dense_kernel = random_values(rng, (height * width * channels, units))
        cases.append(Case(("dense_kernel", "feature_shape", "data_format"), (dense_kernel, feature_shape, data_format)))
    return cases


# ----------------------------------------------------------------------------------------------
# Random classifiers
# ----------------------------------------------------------------------------------------------

HIDDEN_ACTIVATIONS = (None, "relu", "tanh")
OUTPUT_ACTIVATIONS = (None, "softmax", "tanh", "sigmoid")


@dataclasses.dataclass(frozen=True)
class ClassifierOptions:
    """What a random classifier may contain.

    ``dense_layers``: inclusive range of the number of ``Dense`` layers after ``Flatten``.
    ``batch_norm`` / ``dropout``: ``True`` puts at least one such layer in, ``False`` none, ``None`` maybe.
    ``paddings``: the paddings its conv and pool layers draw from (``'valid'`` only when score maps
    are compared: with ``'same'`` the border windows of a larger input see different zeros).
    ``dense_activation``: ``True`` gives every ``Dense`` a non-linear activation, ``False`` none, ``None`` draws it.
    """

    dense_layers: tuple = (1, 1)
    batch_norm: object = False
    dropout: object = False
    paddings: tuple = ("valid",)
    dense_activation: object = None
    max_blocks: int = 3


def _fits(layer, shape):
    """The layer's output shape on ``shape``, or ``None`` when an axis would be empty."""
    try:
        output = tuple(layer.compute_output_shape(shape))
    except ValueError:
        return None
    return output if all(size is None or size >= 1 for size in output[1:]) else None


def _conv_block_layers(rng, options, index, want_batch_norm, want_dropout):
    keras = keras_module()
    layers = keras.layers
    padding = options.paddings[int(rng.integers(len(options.paddings)))]
    activation = HIDDEN_ACTIVATIONS[int(rng.integers(len(HIDDEN_ACTIVATIONS)))]
    strides = 2 if rng.random() < 0.25 else 1
    block = [layers.Conv2D(int(rng.integers(1, 5)), (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                           strides=strides, padding=padding, activation=activation, name=f"conv_{index}")]
    if want_batch_norm:
        block.append(layers.BatchNormalization(name=f"batch_norm_{index}"))
    if activation is None and rng.random() < 0.6:
        if rng.random() < 0.5:
            block.append(layers.ReLU(name=f"relu_{index}"))
        else:
            block.append(layers.Activation("tanh", name=f"tanh_{index}"))
    if want_dropout:
        block.append(layers.Dropout(0.5, name=f"dropout_{index}"))
    if rng.random() < 0.5:
        kind = layers.MaxPooling2D if rng.random() < 0.5 else layers.AveragePooling2D
        pool_size = int(rng.integers(2, 4))
        pool_strides = pool_size if rng.random() < 0.6 else 1
        block.append(kind(pool_size, strides=pool_strides, padding=padding,
                          name=f"{'max' if kind is layers.MaxPooling2D else 'avg'}_pool_{index}"))
    return block


def _draw(flag, rng, probability=0.5):
    return bool(rng.random() < probability) if flag is None else bool(flag)


def _random_layers(rng, options, input_shape):
    """Conv blocks that keep every axis non-empty; at least one ``Conv2D``, and batch-norm / dropout as asked."""
    shape = (None, *input_shape)
    blocks = int(rng.integers(1, options.max_blocks + 1))
    batch_norm_block = int(rng.integers(blocks)) if options.batch_norm else -1
    dropout_block = int(rng.integers(blocks)) if options.dropout else -1
    chosen = []
    for index in range(blocks):
        want_batch_norm = index == batch_norm_block or (options.batch_norm is None and rng.random() < 0.3)
        want_dropout = index == dropout_block or (options.dropout is None and rng.random() < 0.3)
        for layer in _conv_block_layers(rng, options, index + 1, want_batch_norm, want_dropout):
            if isinstance(layer, keras_module().layers.Conv2D) or chosen:
                output = _fits(layer, shape)
                if output is not None:
                    chosen.append(layer)
                    shape = output
    return chosen


def _dense_layers(rng, options):
    keras = keras_module()
    count = int(rng.integers(options.dense_layers[0], options.dense_layers[1] + 1))
    layers = []
    for index in range(1, count + 1):
        last = index == count
        choices = OUTPUT_ACTIVATIONS if last else HIDDEN_ACTIVATIONS
        if options.dense_activation is True:
            choices = tuple(a for a in choices if a is not None)
        elif options.dense_activation is False:
            choices = (None,)
        activation = choices[int(rng.integers(len(choices)))]
        # Softmax over a single unit is always 1: it would hide every mistake.
        units = int(rng.integers(2 if activation == "softmax" else 1, 5))
        layers.append(keras.layers.Dense(units, activation=activation,
                                         use_bias=bool(rng.random() < 0.8), name=f"dense_{index}"))
    return layers


def set_random_weights(model, rng):
    """Give every layer of ``model`` seeded weights of a moderate scale (``float32``).

    Kernels are normal with standard deviation ``1/sqrt(fan_in)`` so that activations neither
    vanish nor saturate; batch-norm layers get ``gamma`` in ``[0.5, 1.5]``, ``beta`` and
    ``moving_mean`` normal, ``moving_variance`` in ``[0.5, 2]``.
    """
    keras = keras_module()
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = (w.shape for w in weights)
            new = [rng.uniform(0.5, 1.5, gamma), rng.normal(0.0, 0.5, beta), rng.normal(0.0, 0.5, mean),
                   rng.uniform(0.5, 2.0, variance)]
        else:
            kernel_shape = weights[0].shape
            fan_in = int(np.prod(kernel_shape[:-1]))
            new = [rng.normal(0.0, 1.0 / math.sqrt(fan_in), kernel_shape)]
            new += [rng.normal(0.0, 0.5, w.shape) for w in weights[1:]]
        layer.set_weights([w.astype("float32") for w in new])
    return model


def build_classifier(input_shape, layers, dense_layers, name="classifier"):
    """``Input(input_shape)`` → ``layers`` → ``Flatten`` → ``dense_layers`` as a functional ``keras.Model``."""
    keras = keras_module()
    inputs = keras.Input(tuple(input_shape), name="image")
    tensor = inputs
    for layer in [*layers, keras.layers.Flatten(name="flatten"), *dense_layers]:
        tensor = layer(tensor)
    return keras.Model(inputs, tensor, name=name)


def corner_classifiers():
    """Fixed feature extractors every sweep includes, as makers of ``(input_shape, layers)``."""
    layers = keras_module().layers
    return [
        # The chapter's example: one 1x3 convolution.
        lambda: ((5, 7, 1), [layers.Conv2D(3, (1, 3), name="conv_1")]),
        # The feature map is 1x1: the first Dense is already a 1x1 convolution.
        lambda: ((4, 4, 1), [layers.Conv2D(2, (4, 4), name="conv_1")]),
        # A non-square feature map (1, 3, 4).
        lambda: ((3, 8, 2), [layers.Conv2D(4, (2, 3), activation="relu", name="conv_1"),
                             layers.MaxPooling2D(2, name="max_pool_1")]),
        # A strided convolution and an overlapping pooling (stride 1): total stride 2.
        lambda: ((9, 7, 3), [layers.Conv2D(3, 3, strides=2, name="conv_1"), layers.ReLU(name="relu_1"),
                             layers.AveragePooling2D(2, strides=1, name="avg_pool_1")]),
    ]


# A grading process grades many notebooks, each with the same seeded classifiers: they are built once per process
# and their weights are set back on each use, since a student's function that changes a model it was given changes
# the grader's copy too (the proxy mirrors it).
_BUILT = {}


def classifier_cases(count, seed, options=ClassifierOptions(), corners=True, numbers=None):
    """Classifiers ``0 .. count-1`` (or those in ``numbers``) of the sweep ``seed``, each built once per process
    (:func:`numbered_classifier`); every call returns the models with their original weights."""
    models = []
    for number in range(count) if numbers is None else numbers:
        key = (seed, number, options, corners)
        if key not in _BUILT:
            model = numbered_classifier(seed, number, options, corners)
            _BUILT[key] = (model, [weights.copy() for weights in model.get_weights()])
        model, weights = _BUILT[key]
        model.set_weights(weights)
        models.append(model)
    return models


def build_classifier_cases(count, seed, options=ClassifierOptions(), corners=True):
    """``count`` new classifiers (``keras.Model``) with seeded random weights: :func:`numbered_classifier` 0 to
    ``count - 1``."""
    return [numbered_classifier(seed, number, options, corners) for number in range(count)]


def numbered_classifier(seed, number, options=ClassifierOptions(), corners=True):
    """Classifier ``number`` of the sweep ``seed``: a new ``keras.Model`` with seeded random weights, drawn from a
    generator of its own (so that any few of a sweep are built without the others). With ``corners`` the first
    ones have the corner feature extractors (with batch-norm and dropout added when ``options`` asks for them)."""
    layers_module = keras_module().layers
    rng = np.random.default_rng((seed, number))
    makers = corner_classifiers() if corners else []
    if number < len(makers):
        input_shape, layers = makers[number]()
        if options.batch_norm:
            layers.append(layers_module.BatchNormalization(name="batch_norm_1"))
        if options.dropout:
            layers.append(layers_module.Dropout(0.5, name="dropout_1"))
    else:
        input_shape = (int(rng.integers(3, 11)), int(rng.integers(3, 11)), int(rng.integers(1, 4)))
        layers = _random_layers(rng, options, input_shape)
    model = build_classifier(input_shape, layers, _dense_layers(rng, options), name=f"classifier_{number + 1}")
    return set_random_weights(model, rng)


@dataclasses.dataclass(frozen=True)
class Sweep:
    """The random classifiers of one hidden test: the sweep ``seed`` with ``options``, of which only the
    classifiers ``numbers`` are used (chosen by ``select_cases.py``: together they fail every mistake of the
    catalogue that the test's first ``replaces`` classifiers failed, and show what the test promises)."""

    options: ClassifierOptions
    seed: int
    numbers: tuple
    replaces: int


_BOTH_PADDINGS = ("valid", "same")

# Each hidden test of to_fully_convolutional converts these classifiers, every one in a single round trip to the
# student's kernel. Chosen by `python -m convcourse.assignments.a04_fully_convolutional.select_cases`.
HIDDEN_SWEEPS = {
    "structure": Sweep(ClassifierOptions(dense_layers=(1, 3), batch_norm=None, dropout=None, paddings=_BOTH_PADDINGS),
                       4301, (15,), 10),
    "one_dense": Sweep(ClassifierOptions(dense_layers=(1, 1), dense_activation=False, paddings=_BOTH_PADDINGS),
                       4401, (2, 3), 20),
    "dense_activation": Sweep(ClassifierOptions(dense_layers=(1, 2), dense_activation=True, paddings=_BOTH_PADDINGS),
                              4501, (0, 4), 12),
    "several_dense": Sweep(ClassifierOptions(dense_layers=(2, 3), dense_activation=False, paddings=_BOTH_PADDINGS),
                           4601, (0, 2), 12),
    "batch_norm_dropout": Sweep(ClassifierOptions(dense_layers=(1, 1), dense_activation=False, batch_norm=True,
                                                  dropout=True, paddings=_BOTH_PADDINGS), 4701, (3,), 12),
    "score_map": Sweep(ClassifierOptions(dense_layers=(1, 2), batch_norm=None, dropout=None), 4801, (1, 4), 15),
}


def hidden_classifiers(sweep):
    """The classifiers of the hidden test ``sweep`` (a name in :data:`HIDDEN_SWEEPS`) as :class:`ModelSpec` objects,
    read from the reference cache (built in Keras by the first process that needs them, at release)."""
    chosen = HIDDEN_SWEEPS[sweep]
    return [_kept_classifier(("classifier", chosen.seed, number, repr(chosen.options)),
                             lambda number=number: numbered_classifier(chosen.seed, number, chosen.options))
            for number in chosen.numbers]


def _kept_classifier(identity, build):
    """The spec of the classifier ``build()`` makes, kept in the reference cache under ``identity`` and this module's
    source; a new spec (no arrays shared) on every call, so that a mirrored change stays with one test."""
    kept = cached_reference(repr((*identity, _source_identity())), (),
                            lambda: ModelSpec.from_keras(build()).as_arrays())
    return ModelSpec.from_arrays([array.copy() for array in kept])


def _source_identity():
    """What the classifiers depend on: this module's source and Keras' version (its config format)."""
    return module_digest(__name__), keras_module().__version__


def _layer_list(model):
    """``(class name, name, config)`` of every layer of ``model`` (a ``keras.Model`` or a :class:`ModelSpec`),
    input layer first."""
    if isinstance(model, ModelSpec):
        return model.layers()
    return [(type(layer).__name__, layer.name, layer.get_config()) for layer in model.layers]


def input_shape(model):
    """The input's ``(H, W, C)`` of a ``keras.Model`` or a :class:`ModelSpec`."""
    shape = model.input_shape if isinstance(model, ModelSpec) else tuple(model.inputs[0].shape[1:])
    return tuple(int(size) for size in shape)


def describe_classifier(model):
    """One line naming every layer: ``Input(5, 7, 1) → conv_1: Conv2D(3, (1, 3), valid) → ... → dense_1: Dense(2)``."""
    parts = [f"Input{input_shape(model)}"]
    for kind, name, config in _layer_list(model)[1:]:
        if kind == "Conv2D":
            detail = f"{config['filters']}, {tuple(config['kernel_size'])}, strides={tuple(config['strides'])}, " \
                     f"{config['padding']}"
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            detail = f"{tuple(config['pool_size'])}, strides={tuple(config['strides'])}, {config['padding']}"
        elif kind == "Dense":
            detail = f"{config['units']}"
        elif kind == "Activation":
            detail = repr(config["activation"])
        else:
            detail = ""
        activation = config.get("activation")
        if kind in ("Conv2D", "Dense") and activation not in (None, "linear"):
            detail += f", {activation}"
        parts.append(f"{name}: {kind}({detail})")
    return " → ".join(parts)


def layer_kind(model, layer_name):
    """The class name of the layer ``layer_name`` of ``model`` (a ``keras.Model`` or a :class:`ModelSpec`)."""
    for kind, name, _ in _layer_list(model):
        if name == layer_name:
            return kind
    raise ValueError(f"the model has no layer {layer_name!r}")


# ----------------------------------------------------------------------------------------------
# Score maps: the original classifier on every window
# ----------------------------------------------------------------------------------------------

def _feature_layers(model):
    keras = keras_module()
    layers = model.layers[1:]
    flatten = next(i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Flatten))
    return layers[:flatten]


def total_stride(model):
    """The product of the strides of the layers before ``Flatten``: ``(S_h, S_w)``."""
    stride_h, stride_w = 1, 1
    for kind, _, config in _layer_list(model)[1:]:
        if kind == "Flatten":
            break
        strides = config.get("strides")
        if strides is not None:
            stride_h *= int(strides[0])
            stride_w *= int(strides[1])
    return stride_h, stride_w


def feature_map_size(model, height, width):
    """``(H_f, W_f)``: the spatial size Keras computes for ``model``'s feature map on a ``(height, width)`` input."""
    shape = (None, height, width, model.inputs[0].shape[-1])
    for layer in _feature_layers(model):
        shape = tuple(layer.compute_output_shape(shape))
    return shape[1], shape[2]




def larger_input_sizes(model, rng, count=2):
    """``count`` input sizes ``(H', W')`` larger than the model's: ``H + a*S_h (+ r)``, the first aligned
    to the total stride, the others with a remainder ``r < S`` when the stride allows one."""
    height, width = input_shape(model)[:2]
    stride_h, stride_w = total_stride(model)
    sizes = []
    for number in range(count):
        extra_h = int(rng.integers(1, 4)) * stride_h + (int(rng.integers(stride_h)) if number else 0)
        extra_w = int(rng.integers(0, 4)) * stride_w + (int(rng.integers(stride_w)) if number else 0)
        sizes.append((height + extra_h, width + extra_w))
    return sizes


# ----------------------------------------------------------------------------------------------
# Known mistakes, as variants of the original classifier
# ----------------------------------------------------------------------------------------------

def classifier_variant(model, linear_dense=False, channels_first_flatten=False, without_batch_norm=False):
    """``model`` rebuilt with a known mistake, on a new input of the same shape (the original is untouched).

    ``linear_dense``: every ``Dense`` loses its activation. ``channels_first_flatten``: the feature map
    is flattened in ``(C, H, W)`` order while the dense kernel expects ``(H, W, C)``.
    ``without_batch_norm``: batch-norm layers are left out. Returns ``None`` when the mistake
    changes nothing in this model.
    """
    keras = keras_module()
    layers = model.layers[1:]
    kinds = {type(layer).__name__ for layer in layers}
    if linear_dense and not any(isinstance(l, keras.layers.Dense) and l.get_config()["activation"] != "linear"
                                for l in layers):
        return None
    if without_batch_norm and "BatchNormalization" not in kinds:
        return None
    inputs = keras.Input(tuple(model.inputs[0].shape[1:]))
    tensor = inputs
    for layer in layers:
        if without_batch_norm and isinstance(layer, keras.layers.BatchNormalization):
            continue
        if channels_first_flatten and isinstance(layer, keras.layers.Flatten):
            tensor = keras.layers.Permute((3, 1, 2))(tensor)
        if linear_dense and isinstance(layer, keras.layers.Dense):
            config = dict(layer.get_config(), activation="linear", name=f"{layer.name}_linear")
            copy = keras.layers.Dense.from_config(config)
            copy.build(tuple(tensor.shape))
            copy.set_weights(layer.get_weights())
            layer = copy
        tensor = layer(tensor)
    return keras.Model(inputs, tensor)


KNOWN_MISTAKES = {
    "the Dense layers' activations are left out (a Conv2D made from a Dense needs its activation too)":
        dict(linear_dense=True),
    "the dense kernel is read in channels-first (C, H, W) order; Keras' Flatten on a channels-last map "
    "flattens in (H, W, C) order": dict(channels_first_flatten=True),
    "the batch-normalization layers are left out (at inference they scale and shift every channel)":
        dict(without_batch_norm=True),
}


# ----------------------------------------------------------------------------------------------
# Models that cannot be converted
# ----------------------------------------------------------------------------------------------

def unconvertible_classifiers(seed=0):
    """``(model, layer_name, reason)`` triples: classifiers with one layer that has no fully-convolutional
    counterpart, the layer named by ``layer_name``; each model a :class:`ModelSpec` read from the reference cache
    (as :func:`hidden_classifiers`)."""
    return [(_kept_classifier(("unconvertible", seed, number),
                              lambda number=number: _build_unconvertible_classifiers(seed)[number][0]),
             layer_name, reason) for number, (layer_name, reason) in enumerate(_UNCONVERTIBLE)]


# The layer each unconvertible classifier holds, and why it cannot be converted, in order (no Keras needed).
_UNCONVERTIBLE = (
    ("reshape_features", "a Reshape before Flatten (its target shape fixes the input size)"),
    ("reshape_scores", "a Reshape after the Dense layers"),
    ("layer_norm", "a LayerNormalization between Flatten and Dense (it normalises the whole flattened vector)"),
)


@functools.lru_cache(maxsize=None)
def _build_unconvertible_classifiers(seed):
    layers = keras_module().layers
    rng = np.random.default_rng(seed)
    made = [
        ((6, 6, 1), [layers.Conv2D(2, 3, name="conv_1"), layers.Reshape((4, 8), name="reshape_features")],
         [layers.Dense(2, name="dense_1")]),
        ((5, 5, 2), [layers.Conv2D(3, 2, activation="relu", name="conv_1")],
         [layers.Dense(3, name="dense_1"), layers.Reshape((3, 1), name="reshape_scores")]),
        ((6, 5, 1), [layers.Conv2D(2, 3, name="conv_1")],
         [layers.LayerNormalization(name="layer_norm"), layers.Dense(2, name="dense_1")]),
    ]
    return [(set_random_weights(build_classifier(shape, feature_layers, head), rng), layer_name, reason)
            for (shape, feature_layers, head), (layer_name, reason) in zip(made, _UNCONVERTIBLE, strict=True)]
