"""A returned model's config is read as data before Keras sees it (convcourse.grader.modelcheck)."""

import numpy as np
import pytest

from convcourse.assignments.a04_fully_convolutional.references import MODEL_POLICIES as POLICIES_04
from convcourse.assignments.a05_cnn_in_practice.references import MODEL_POLICIES as POLICIES_05
from convcourse.grader.modelcheck import ModelPolicy, ModelRefused, check_model
from convcourse.student.callee import model_config

keras = pytest.importorskip("keras")
CONVERSION = POLICIES_04["to_fully_convolutional"]
GENEROUS = ModelPolicy(layers=frozenset({"InputLayer", "Conv2D", "MaxPooling2D", "UpSampling2D", "Lambda",
                                         "Dense", "Flatten"}))


def _conversion(*extra, channels=3):
    inputs = keras.Input((None, None, channels))
    tensor = inputs
    for layer in (*extra, keras.layers.Conv2D(4, 3), keras.layers.Conv2D(2, 1)):
        tensor = layer(tensor)
    return keras.Model(inputs, tensor)


def _check(model, policy=CONVERSION):
    check_model(model_config(model), model.get_weights(), policy)


def test_a_correct_conversion_passes():
    _check(_conversion(keras.layers.MaxPooling2D(2), keras.layers.Activation("relu")))


@pytest.mark.parametrize(("model", "why"), [
    (lambda: _conversion(keras.layers.Lambda(keras.ops.relu6)), "holds a function"),
    (lambda: _conversion(keras.layers.Lambda(lambda t: t * 2)), "holds a function"),
])
def test_a_lambda_is_refused_even_where_its_layer_class_is_allowed(model, why):
    with pytest.raises(ModelRefused, match=why):
        _check(model(), GENEROUS)


def test_a_layer_outside_the_policy_is_refused_by_name():
    with pytest.raises(ModelRefused, match="uses a UpSampling2D layer; the layers allowed here are"):
        _check(_conversion(keras.layers.UpSampling2D(2)))


def test_weightless_layers_that_cancel_out_are_refused_for_their_cost():
    # Up-sample by 16, pool by 16: the same scores at 256 times the work, no weight added.
    with pytest.raises(ModelRefused, match="costs more than the grader runs"):
        _check(_conversion(keras.layers.UpSampling2D(16), keras.layers.MaxPooling2D(16)),
               ModelPolicy(layers=GENEROUS.layers, max_macs_per_value=CONVERSION.max_macs_per_value,
                           max_activations_per_value=CONVERSION.max_activations_per_value))


@pytest.mark.parametrize(("change", "why"), [
    (lambda c: c["config"]["layers"][1].__setitem__("module", "os"), "from outside Keras"),
    (lambda c: c["config"]["layers"][1].__setitem__("registered_name", "Custom>Conv2D"), "custom or registered"),
    (lambda c: c["config"]["layers"][1].__setitem__("class_name", "function"), "not a Keras layer or setting"),
    (lambda c: c["config"]["layers"][1]["config"].__setitem__("kernel_initializer", {
        "module": "builtins", "class_name": "Eval", "config": {}, "registered_name": None}), "from outside Keras"),
    (lambda c: c.__setitem__("class_name", "Conv2D"), "not a Keras model's config"),
])
def test_objects_keras_would_build_are_refused_when_they_are_not_its_own(change, why):
    model = _conversion()
    config = model_config(model)
    change(config)
    with pytest.raises(ModelRefused, match=why):
        check_model(config, model.get_weights(), CONVERSION)


def test_size_bounds():
    with pytest.raises(ModelRefused, match="parameters"):
        check_model(model_config(_conversion()), [np.zeros(CONVERSION.max_params + 1)], CONVERSION)
    deep = _conversion(*(keras.layers.Activation("relu") for _ in range(CONVERSION.max_layers)))
    with pytest.raises(ModelRefused, match="layers; the grader runs models of at most"):
        _check(deep)


def test_no_model_is_taken_where_none_is_expected():
    with pytest.raises(ModelRefused, match="not an answer the grader expects"):
        check_model(model_config(_conversion()), [], None)


def test_the_solutions_models_pass_their_policies():
    digits = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
                               keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2),
                               keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    digits.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _check(digits, POLICIES_05["build_digits_cnn"])
    generator = keras.Sequential([keras.Input((64,)), keras.layers.Dense(7 * 7 * 128), keras.layers.Reshape((7, 7, 128)),
                                  keras.layers.Conv2DTranspose(64, 4, strides=2, padding="same", activation="relu"),
                                  keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")])
    _check(generator, POLICIES_05["build_generator"])
