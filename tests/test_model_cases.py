"""Unit tests of convcourse.model_cases: seeded classifiers as asked, and references that agree with plain NumPy."""

import numpy as np
import pytest

from convcourse.assignments.a04_fully_convolutional.cases import (
    HIDDEN_SWEEPS,
    ClassifierOptions,
    build_classifier,
    build_classifier_cases,
    classifier_cases,
    classifier_variant,
    dense_kernel_cases,
    describe_classifier,
    feature_map_size,
    hidden_classifiers,
    input_shape,
    larger_input_sizes,
    layer_kind,
    total_stride,
    unconvertible_classifiers,
)
from convcourse.assignments.a04_fully_convolutional.references import (
    keras_flatten_dense,
    window_scores,
)


def _kinds(model):
    return [type(layer).__name__ for layer in model.layers]


def test_dense_kernel_cases_are_seeded_and_led_by_corners():
    first, second = dense_kernel_cases(20, seed=3), dense_kernel_cases(20, seed=3)
    assert all(np.array_equal(a["dense_kernel"], b["dense_kernel"]) for a, b in zip(first, second))
    assert first[0]["feature_shape"] == (1, 1, 1) and len(first) == 20
    channels_first = dense_kernel_cases(10, seed=3, data_format="channels_first")
    for case in channels_first:
        channels, height, width = case["feature_shape"]
        assert case["dense_kernel"].shape[0] == channels * height * width
        assert case["data_format"] == "channels_first"
    with pytest.raises(ValueError, match="data_format"):
        dense_kernel_cases(3, seed=0, data_format="NHWC")


def test_flatten_dense_reference_flattens_in_either_order():
    rng = np.random.default_rng(0)
    features, kernel = rng.normal(size=(2, 3, 4, 2)), rng.normal(size=(24, 3))
    assert np.allclose(keras_flatten_dense(features, kernel), features.reshape(2, -1) @ kernel)
    channels_first = features.transpose(0, 3, 1, 2).reshape(2, -1) @ kernel
    assert np.allclose(keras_flatten_dense(features, kernel, None, "channels_first"), channels_first)
    assert np.allclose(keras_flatten_dense(features, kernel, np.ones(3)), features.reshape(2, -1) @ kernel + 1)


def test_classifiers_are_seeded_and_follow_the_options():
    options = ClassifierOptions(dense_layers=(2, 3), batch_norm=True, dropout=True, dense_activation=False)
    first, second = build_classifier_cases(6, seed=1, options=options), build_classifier_cases(6, seed=1, options=options)
    for a, b in zip(first, second, strict=True):
        assert describe_classifier(a) == describe_classifier(b)
        assert all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))
    for model in first:
        kinds = _kinds(model)
        assert kinds[0] == "InputLayer" and kinds[1] == "Conv2D" and kinds.count("Flatten") == 1
        assert "BatchNormalization" in kinds and "Dropout" in kinds
        assert 2 <= kinds.count("Dense") <= 3 and kinds[kinds.index("Flatten") + 1:] == ["Dense"] * kinds.count("Dense")
        assert all(layer.get_config()["activation"] == "linear" for layer in model.layers if type(layer).__name__ == "Dense")
        norm = next(layer for layer in model.layers if type(layer).__name__ == "BatchNormalization")
        gamma, beta, mean, variance = norm.get_weights()
        assert not np.allclose(mean, 0) and not np.allclose(variance, 1)


def test_forced_activations_and_valid_padding():
    options = ClassifierOptions(dense_layers=(1, 2), dense_activation=True)
    for model in classifier_cases(8, seed=2, options=options):
        assert all(layer.get_config()["activation"] != "linear"
                   for layer in model.layers if type(layer).__name__ == "Dense")
        assert all(layer.get_config().get("padding", "valid") == "valid" for layer in model.layers)
        assert all(layer.units > 1 for layer in model.layers
                   if type(layer).__name__ == "Dense" and layer.get_config()["activation"] == "softmax")


def test_total_stride_and_feature_map_size():
    model = classifier_cases(4, seed=0)[3]  # strided convolution, then pooling with stride 1
    assert total_stride(model) == (2, 2)
    assert feature_map_size(model, 9, 7) == (3, 2) and feature_map_size(model, 13, 11) == (5, 4)


def test_window_scores_equal_the_model_on_each_crop():
    model = classifier_cases(4, seed=0)[3]
    rng = np.random.default_rng(0)
    for size in larger_input_sizes(model, rng, 2):
        x = rng.normal(size=(2, *size, 3)).astype("float32")
        scores = window_scores(model, x)
        rows, cols = scores.shape[1:3]
        assert (rows, cols) == (feature_map_size(model, *size)[0] - 2, feature_map_size(model, *size)[1] - 1)
        i, j = rows - 1, cols - 1
        crop = np.zeros((2, 9, 7, 3), "float32")
        part = x[:, 2 * i:2 * i + 9, 2 * j:2 * j + 7]
        crop[:, :part.shape[1], :part.shape[2]] = part
        assert np.allclose(scores[:, i, j], np.asarray(model(crop)), atol=1e-5)
    with pytest.raises(ValueError, match="x must be"):
        window_scores(model, np.zeros((1, 4, 4, 3)))


def test_variants_name_the_mistakes_or_return_none():
    model = classifier_cases(1, seed=0, options=ClassifierOptions(dense_activation=True))[0]
    x = np.random.default_rng(0).normal(size=(2, 5, 7, 1)).astype("float32")
    linear = classifier_variant(model, linear_dense=True)
    assert not np.allclose(np.asarray(linear(x)), np.asarray(model(x)))
    assert classifier_variant(model, without_batch_norm=True) is None
    assert classifier_variant(model, channels_first_flatten=True).output_shape == model.output_shape
    assert model.layers[-1].get_config()["activation"] != "linear"  # the original is untouched


def test_unconvertible_classifiers_name_an_existing_layer():
    for model, layer_name, reason in unconvertible_classifiers():
        assert model.keras_model().get_layer(layer_name) is not None and reason
        assert layer_kind(model, layer_name) == type(model.keras_model().get_layer(layer_name)).__name__


def test_build_classifier_chains_the_layers():
    import keras

    model = build_classifier((4, 4, 1), [keras.layers.Conv2D(2, 3)], [keras.layers.Dense(3)])
    assert model.output_shape == (None, 3) and _kinds(model) == ["InputLayer", "Conv2D", "Flatten", "Dense"]


def test_classifiers_are_built_once_and_handed_out_with_their_original_weights():
    options = ClassifierOptions(dense_layers=(1, 2))
    fresh = build_classifier_cases(5, seed=7, options=options)
    first = classifier_cases(5, seed=7, options=options)
    first[2].layers[1].set_weights([w + 1 for w in first[2].layers[1].get_weights()])  # as a mirrored mutation does
    second = classifier_cases(5, seed=7, options=options)
    assert all(a is b for a, b in zip(first, second, strict=True)), "built once"
    for model, original in zip(second, fresh, strict=True):
        assert all(np.array_equal(u, v) for u, v in zip(model.get_weights(), original.get_weights(), strict=True))


def test_a_classifier_as_config_and_weights_is_described_as_the_built_model_is():
    for sweep in HIDDEN_SWEEPS:
        for spec in hidden_classifiers(sweep):
            model = spec.keras_model()
            assert describe_classifier(spec) == describe_classifier(model)
            assert total_stride(spec) == total_stride(model)
            assert input_shape(spec) == input_shape(model) == tuple(model.inputs[0].shape[1:])
            assert spec.weight_count() == model.count_params()
