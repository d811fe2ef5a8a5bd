"""Unit tests of convcourse.model_checks: correct conversions pass, known mistakes fail with messages that say why."""

import json
import re

import keras
import numpy as np
import pytest

from convcourse.assignments.a04_fully_convolutional.cases import (
    ClassifierOptions,
    classifier_cases,
    dense_kernel_cases,
    hidden_classifiers,
    unconvertible_classifiers,
)
from convcourse.assignments.a04_fully_convolutional.checks import (
    check_dense_to_conv_kernel,
    check_fully_convolutional,
    check_rejects_classifier,
)
from convcourse.grader import checks
from convcourse.grader.modelspec import ModelSpec, ReturnedModel


def kernel_by_index(dense_kernel, feature_shape, data_format="channels_last"):
    """A correct dense_to_conv_kernel, written with index arithmetic."""
    rows = np.asarray(dense_kernel, dtype=float)
    if data_format == "channels_first":
        channels, height, width = feature_shape
        h, w, c = np.meshgrid(range(height), range(width), range(channels), indexing="ij")
        return rows[(c * height + h) * width + w]
    height, width, channels = feature_shape
    return rows.reshape(height, width, channels, -1)


def converter(drop_activation=False, fixed_input=False, change_original=False):
    """A to_fully_convolutional for the tests' classifiers, optionally with one known mistake."""
    def to_fully_convolutional(model):
        layers = model.layers[1:]
        flatten_at = [type(layer).__name__ for layer in layers].index("Flatten")
        channels = model.inputs[0].shape[-1]
        inputs = keras.Input(model.inputs[0].shape[1:] if fixed_input else (None, None, channels))
        tensor = inputs
        for layer in layers[:flatten_at]:
            tensor = layer(tensor)
        _, height, width, depth = layers[flatten_at].input.shape
        for number, dense in enumerate(layers[flatten_at + 1:]):
            weights = dense.get_weights()
            size = (height, width) if number == 0 else (1, 1)
            conv = keras.layers.Conv2D(dense.units, size, use_bias=dense.use_bias,
                                       activation=None if drop_activation else dense.activation)
            tensor = conv(tensor)
            conv.set_weights([weights[0].reshape(*size, -1, dense.units), *weights[1:]])
            if change_original:
                dense.set_weights([w * 0 for w in weights])
        return keras.Model(inputs, tensor)

    return to_fully_convolutional


def test_correct_kernels_pass_in_both_orders():
    for data_format in ("channels_last", "channels_first"):
        check_dense_to_conv_kernel(kernel_by_index, dense_kernel_cases(12, seed=1, data_format=data_format))


def test_ignored_flatten_order_is_named():
    def always_channels_last(dense_kernel, feature_shape, data_format="channels_last"):
        channels, height, width = feature_shape
        return np.asarray(dense_kernel, dtype=float).reshape(height, width, channels, -1)

    with pytest.raises(AssertionError, match="in the \\(H, W, C\\) order of 'channels_last'"):
        check_dense_to_conv_kernel(always_channels_last, dense_kernel_cases(10, seed=1, data_format="channels_first"))


def test_kernel_shape_and_mutation_are_explained():
    def kept_channels_first(dense_kernel, feature_shape, data_format="channels_last"):
        return np.asarray(dense_kernel, dtype=float).reshape(*feature_shape, -1)

    with pytest.raises(AssertionError, match="channels-first \\(C, H, W\\) order was kept"):
        check_dense_to_conv_kernel(kept_channels_first, dense_kernel_cases(8, seed=2, data_format="channels_first"))

    def in_place(dense_kernel, feature_shape, data_format="channels_last"):
        dense_kernel.shape = (*feature_shape, -1)
        return dense_kernel

    with pytest.raises(AssertionError, match="changed its input 'dense_kernel'"):
        check_dense_to_conv_kernel(in_place, dense_kernel_cases(3, seed=2))


def test_keras_is_refused_inside_dense_to_conv_kernel():
    def with_keras(dense_kernel, feature_shape, data_format="channels_last"):
        return np.asarray(keras.ops.reshape(dense_kernel, (*feature_shape, -1)))

    with pytest.raises(AssertionError, match="Keras|TensorFlow"):
        check_dense_to_conv_kernel(with_keras, dense_kernel_cases(2, seed=0))


MODELS = classifier_cases(6, seed=7, options=ClassifierOptions(dense_layers=(1, 3), batch_norm=None, dropout=None))


def test_a_correct_conversion_passes_everything():
    check_fully_convolutional(converter(), MODELS, larger_inputs=2, structure=True)


def test_dropped_activation_is_named():
    models = classifier_cases(3, seed=8, options=ClassifierOptions(dense_activation=True))
    with pytest.raises(AssertionError, match="activations are left out"):
        check_fully_convolutional(converter(drop_activation=True), models)


def test_fixed_input_size_fails_structure_and_score_map():
    with pytest.raises(AssertionError, match="input should be \\(None, None, 1\\)"):
        check_fully_convolutional(converter(fixed_input=True), MODELS[:1], structure=True)
    with pytest.raises(AssertionError, match="larger input|fails on an input"):
        check_fully_convolutional(converter(fixed_input=True), MODELS[:1], larger_inputs=1)


def test_changing_the_original_is_caught():
    models = classifier_cases(1, seed=9)
    with pytest.raises(AssertionError, match="changed the original model's weights"):
        check_fully_convolutional(converter(change_original=True), models, structure=True)


def test_leftover_dense_and_wrong_return_type_are_explained():
    def keeps_dense(model):
        inputs = keras.Input((None, None, model.inputs[0].shape[-1]))
        return keras.Model(inputs, keras.layers.Dense(2)(inputs))

    with pytest.raises(AssertionError, match="still contains the Dense layer"):
        check_fully_convolutional(keeps_dense, MODELS[:1], structure=True)
    with pytest.raises(AssertionError, match="returned function, not a keras.Model"):
        check_fully_convolutional(lambda model: (lambda x: model(x)), MODELS[:1])


def test_rejects_requires_a_value_error_naming_the_layer():
    model, layer_name, reason = unconvertible_classifiers()[0]

    def refuses(model):
        raise ValueError(f"cannot convert {layer_name}")

    check_rejects_classifier(refuses, model, layer_name, reason)
    with pytest.raises(AssertionError, match="should name the layer"):
        check_rejects_classifier(lambda m: (_ for _ in ()).throw(ValueError("no")), model, layer_name, reason)
    with pytest.raises(AssertionError, match="should raise ValueError"):
        check_rejects_classifier(lambda m: m, model, layer_name, reason)


def test_a_failing_kernel_check_counts_every_configuration_and_names_the_flatten_order():
    def channels_last_order(dense_kernel, feature_shape, data_format="channels_last"):
        channels, height, width = feature_shape
        return np.asarray(dense_kernel, dtype=float).reshape(height, width, channels, -1)

    cases = dense_kernel_cases(10, seed=4201, data_format="channels_first")
    with pytest.raises(AssertionError) as failure:
        check_dense_to_conv_kernel(channels_last_order, cases, seed=1)
    message = str(failure.value)
    assert re.match(r"channels_last_order is wrong: (\d+) of 10 configurations failed; (\d+) passed\.", message)
    assert "Likely mistake" in message and "(C, H, W) order" in message
    assert 1 <= message.count("\n- configuration ") <= 3


class InKernel:
    """``function`` as the grading proxy presents it: run elsewhere, its model sent back as config and weights."""

    runs_in_kernel = True

    def __init__(self, function):
        self.function, self.__name__ = function, "to_fully_convolutional"

    def prefetch(self, arg_lists):
        pass

    def __call__(self, spec):
        # What the student's kernel does: rebuild the model it was sent, convert it, send the result back.
        converted = self.function(spec.copy().keras_model())
        sent = ModelSpec.from_keras(converted)
        return ReturnedModel(json.loads(json.dumps(sent.config)), sent.weights)


def test_the_solutions_model_returned_again_is_judged_on_its_kept_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    monkeypatch.setattr(checks, "_REFERENCE_CACHE", {})
    models = hidden_classifiers("score_map")
    monkeypatch.setattr(checks, "_MISTAKES_AHEAD", [True])  # the solution's tests, while the references are computed
    check_fully_convolutional(converter(), models, larger_inputs=2, seed=3)
    monkeypatch.setattr(checks, "_MISTAKES_AHEAD", [False])
    built = []
    original_build = ReturnedModel.keras_model
    monkeypatch.setattr(ReturnedModel, "keras_model", lambda self: built.append(1) or original_build(self))
    # The same conversion, written by a student (its layers named otherwise): nothing is built.
    check_fully_convolutional(InKernel(converter()), hidden_classifiers("score_map"), larger_inputs=2, seed=3)
    assert built == []
    # Another model (here a wrong one) is built and run, and fails.
    with pytest.raises(AssertionError, match="activation"):
        check_fully_convolutional(InKernel(converter(drop_activation=True)), hidden_classifiers("dense_activation"))
    assert built
    # Models the solution never returned for these originals are built.
    built.clear()
    check_fully_convolutional(InKernel(converter()), hidden_classifiers("one_dense"))
    assert len(built) == len(hidden_classifiers("one_dense"))


def test_names_and_shared_object_ids_do_not_change_the_canonical_digest():
    model = classifier_cases(1, seed=5)[0]
    spec = ModelSpec.from_keras(converter()(model))
    again = ModelSpec.from_keras(converter()(model))  # Keras numbers the new layers anew
    assert spec.digest() != again.digest() and spec.canonical_digest() == again.canonical_digest()
    other = ModelSpec.from_keras(converter(drop_activation=True)(classifier_cases(1, seed=5,
                                                                                 options=ClassifierOptions(
                                                                                     dense_activation=True))[0]))
    assert other.canonical_digest() != spec.canonical_digest()
    weights = [w.copy() for w in spec.weights]
    weights[0][0, 0, 0, 0] += 1e-7
    assert ModelSpec(spec.config, weights).canonical_digest() != spec.canonical_digest()


def test_a_config_keras_would_not_make_gets_its_plain_digest_not_an_error():
    spec = ModelSpec.from_keras(converter()(classifier_cases(1, seed=5)[0]))
    for odd_name in ({"a": 1}, None, spec.layers()[1][1]):  # not a string, missing, a duplicate
        config = json.loads(json.dumps(spec.config))
        config["config"]["layers"][0]["name"] = odd_name
        odd = ModelSpec(config, spec.weights)
        assert odd.canonical_digest() == odd.digest()


def test_a_specs_digests_follow_its_weights():
    spec = hidden_classifiers("structure")[0]
    first, canonical = spec.digest(), spec.canonical_digest()
    assert spec.digest() == first  # kept
    spec.weights = [w + 1 for w in spec.weights]  # as a mirrored change does
    assert spec.digest() != first and spec.canonical_digest() != canonical
    built = spec.keras_model()
    before = spec.digest()
    built.set_weights([w * 2 for w in built.get_weights()])  # a function of this process changing the model
    assert spec.digest() != before


def test_shared_object_marks_count_where_keras_would_build_one_object_for_two_configs():
    spec = ModelSpec.from_keras(converter()(classifier_cases(1, seed=5)[0]))
    config = json.loads(json.dumps(spec.config))
    first, second = (layer["config"] for layer in config["config"]["layers"][1:3])
    first["bias_initializer"]["shared_object_id"] = second["kernel_initializer"]["shared_object_id"] = 7
    assert first["bias_initializer"] != second["kernel_initializer"]  # Zeros and GlorotUniform: one of them is lost
    assert ModelSpec(config, spec.weights).canonical_digest() != spec.canonical_digest()
