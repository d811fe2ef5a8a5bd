"""Unit tests of convcourse.checks_cnn: pair checks under the guard, and the checks of student-built models."""

import keras
import numpy as np
import pytest

from convcourse.assignments.a05_cnn_in_practice import checks as checks_cnn
from convcourse.assignments.a05_cnn_in_practice.checks import (
    check_digits_cnn_accuracy,
    check_generator_budget,
    check_generator_layers,
    check_generator_range,
    check_pair_results,
)
from convcourse.student.checks import check_example
from convcourse.student.models import check_digits_cnn_structure, check_generator_shape, flat_layers
from convcourse.grader import checks as grader_checks
from convcourse.grader.cases import Case

LAYERS = ("layers",)
KNOWN = {((3, 1, 1),): (3, 1), ((3, 2, 1), (3, 1, 1)): (7, 2)}


def known_field(layers):
    return KNOWN[tuple(layers)]


def cases():
    return [Case(LAYERS, ([tuple(layer) for layer in stack],)) for stack in KNOWN]


def test_pairs_may_be_tuples_lists_or_numpy_ints():
    for kind in (tuple, list, lambda pair: np.array(pair, dtype=np.int64)):
        check_pair_results(lambda layers, kind=kind: kind(known_field(layers)), cases(), known_field)
    check_example(lambda layers: (np.int32(7), np.int64(2)), LAYERS, [[(3, 2, 1), (3, 1, 1)]], (7, 2))


def test_pairs_of_floats_or_bools_are_refused():
    with pytest.raises(AssertionError, match="pair of ints"):
        check_pair_results(lambda layers: tuple(float(v) for v in known_field(layers)), cases(), known_field)
    with pytest.raises(AssertionError, match="tuple of 2 ints"):
        check_example(lambda layers: (True, 1), LAYERS, [[]], (1, 1))


def test_wrong_pairs_name_the_wrong_part_and_the_mistake():
    def wrong_jump(layers):
        return known_field(layers)[0], 1

    mistakes = {"strides are ignored": lambda layers: (known_field(layers)[0], 1)}
    with pytest.raises(AssertionError, match=r"(?s)jump 1 \(Keras. gradient gives 2\).*strides are ignored"):
        check_pair_results(wrong_jump, cases(), known_field, mistakes)


def test_a_function_that_empties_its_list_fails():
    def popping(layers):
        while layers:
            layers.pop()
        return 3, 1

    with pytest.raises(AssertionError, match="changed its input 'layers'"):
        check_pair_results(popping, cases()[:1], known_field)


def test_keras_inside_a_hand_written_function_is_refused():
    def asks_keras(layers):
        keras.ops.convert_to_tensor(np.zeros(2))
        return 3, 1

    with pytest.raises(AssertionError, match="Keras"):
        check_pair_results(asks_keras, cases()[:1], known_field)


def digits_cnn(conv=True, softmax=True, compiled=True, hidden_units=0):
    def build():
        layers = [keras.Input((8, 8, 1))]
        layers += [keras.layers.Conv2D(4, 3, activation="relu")] if conv else []
        layers += [keras.layers.Flatten()]
        layers += [keras.layers.Dense(hidden_units, activation="relu")] if hidden_units else []
        layers += [keras.layers.Dense(10, activation="softmax" if softmax else None)]
        model = keras.Sequential(layers)
        if compiled:
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    return build


def test_digits_structure_accepts_a_small_compiled_cnn():
    check_digits_cnn_structure(digits_cnn())


@pytest.mark.parametrize("build, message", [
    (digits_cnn(conv=False), "no Conv2D"),
    (digits_cnn(softmax=False), "not softmax probabilities"),
    (digits_cnn(compiled=False), "not compiled"),
    (digits_cnn(hidden_units=100), "15,550 parameters; the budget is 10,000"),
    (lambda: "model", "returned str, not a keras.Model"),
])
def test_digits_structure_explains_each_failure(build, message):
    with pytest.raises(AssertionError, match=message):
        check_digits_cnn_structure(build)


def test_digits_structure_reads_the_declared_input():
    def wrong_input():
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    with pytest.raises(AssertionError, match=r"\(None, 64\)"):
        check_digits_cnn_structure(wrong_input)


def test_accuracy_check_never_trains_a_model_out_of_budget(monkeypatch):
    def must_not_train(*args, **kwargs):
        raise RuntimeError("trained")

    monkeypatch.setattr(checks_cnn._digits, "train_as_contract", must_not_train)
    with pytest.raises(AssertionError, match="meets the contract.*parameters"):
        check_digits_cnn_accuracy(digits_cnn(hidden_units=100))


def test_accuracy_check_compares_with_the_minimum(monkeypatch):
    monkeypatch.setattr(checks_cnn._digits, "train_as_contract", lambda build: (None, None, 0.9311))
    with pytest.raises(AssertionError, match="0.9311, below 0.95"):
        check_digits_cnn_accuracy(digits_cnn())
    monkeypatch.setattr(checks_cnn._digits, "train_as_contract", lambda build: (None, None, 0.96))
    check_digits_cnn_accuracy(digits_cnn())


def generator(start=7, activation="tanh", up_sampling="transpose", units_per_pixel=8):
    def build(latent_dim=64):
        layers = [keras.Input((latent_dim,)), keras.layers.Dense(start * start * units_per_pixel),
                  keras.layers.Reshape((start, start, units_per_pixel))]
        for last in (False, True):
            filters, act = (1, activation) if last else (4, "relu")
            if up_sampling == "transpose":
                layers.append(keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation=act))
            else:
                layers += [keras.layers.UpSampling2D(2), keras.layers.Conv2D(filters, 3, padding="same", activation=act)]
        return keras.Sequential(layers)

    return build


def test_generator_checks_accept_a_small_generator():
    for check in (check_generator_shape, check_generator_range, check_generator_layers, check_generator_budget):
        check(generator())


@pytest.mark.parametrize("check, build, message", [
    (check_generator_shape, generator(start=8), r"\(3, 32, 32, 1\)"),
    (check_generator_range, generator(activation=None), "must stay in \\[-1, 1\\]"),
    (check_generator_layers, generator(up_sampling="repeat"), "UpSampling2D"),
    (check_generator_budget, generator(units_per_pixel=256), "budget is 500,000"),
])
def test_generator_checks_explain_each_failure(check, build, message):
    with pytest.raises(AssertionError, match=message):
        check(build)


def test_generator_layers_need_dense_reshape_then_stride_two():
    def stride_one(latent_dim=64):
        return keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(24 * 24),
                                 keras.layers.Reshape((24, 24, 1)),
                                 keras.layers.Conv2DTranspose(1, 5, activation="tanh")])

    with pytest.raises(AssertionError, match="strides=\\(2, 2\\)"):
        check_generator_layers(stride_one)


def test_flat_layers_opens_nested_models():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(2)])
    outer = keras.Sequential([keras.Input((3,)), inner, keras.layers.Dense(1)])
    assert [type(layer).__name__ for layer in flat_layers(outer)] == ["Dense", "Dense", "Dense"]


def test_a_failing_pair_check_tries_every_configuration():
    with pytest.raises(AssertionError, match=r"is wrong: \d+ of \d+ configurations failed; \d+ passed\.\n"):
        check_pair_results(lambda layers: (1, 1), cases(), known_field)


class BuiltInAKernel:
    """Stands in for a graded build function when grading: the model comes from the student's kernel."""

    runs_in_kernel = True
    __name__ = "build_digits_cnn"

    def __init__(self, build):
        self.build = build

    def call(self, seed=None):
        keras.backend.clear_session()  # a fresh kernel: layers get the same automatic names as in any other
        keras.utils.set_random_seed(seed)
        return self.build()


@pytest.mark.slow
def test_an_identical_model_is_trained_once_and_a_different_one_again(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    fits = []
    real_fit = checks_cnn._digits.fit_as_contract
    monkeypatch.setattr(checks_cnn._digits, "fit_as_contract", lambda model: fits.append(model) or real_fit(model))
    first = checks_cnn.trained_accuracy(BuiltInAKernel(digits_cnn()))
    keras.utils.set_random_seed(123)  # whatever ran before in this grading process
    again = checks_cnn.trained_accuracy(BuiltInAKernel(digits_cnn()))
    assert again == first and len(fits) == 1, "the same model, compiled alike, with the same weights: trained once"
    checks_cnn.trained_accuracy(BuiltInAKernel(digits_cnn(hidden_units=8)))
    assert len(fits) == 2, "another architecture is trained"


@pytest.mark.slow
def test_training_in_the_grader_starts_from_the_contracts_seed(tmp_path, monkeypatch):
    """Two grading processes in different states give a kernel-built model the same accuracy (no cache here)."""
    monkeypatch.delenv("CONVCOURSE_REFERENCE_CACHE", raising=False)
    keras.utils.set_random_seed(1)
    one = checks_cnn.trained_accuracy(BuiltInAKernel(digits_cnn()))
    keras.utils.set_random_seed(2)
    np.random.default_rng(5).normal(size=10)
    two = checks_cnn.trained_accuracy(BuiltInAKernel(digits_cnn()))
    assert one == two


@pytest.mark.slow
def test_the_solutions_model_is_trained_at_release_and_a_kernels_identical_model_is_not_trained_again(
        tmp_path, monkeypatch):
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    fits = []
    real_fit = checks_cnn._digits.fit_as_contract
    monkeypatch.setattr(checks_cnn._digits, "fit_as_contract", lambda model: fits.append(model) or real_fit(model))
    monkeypatch.setattr(grader_checks, "_MISTAKES_AHEAD", [True])  # the references are being computed
    digits_cnn()()  # the release process has built models of its own: its layers and optimizers are numbered on
    at_release = checks_cnn.trained_accuracy(digits_cnn())
    assert len(fits) == 1
    monkeypatch.setattr(grader_checks, "_MISTAKES_AHEAD", [False])
    assert checks_cnn.trained_accuracy(BuiltInAKernel(digits_cnn())) == at_release
    assert len(fits) == 1, "the kernel's model, the solution's, was trained again"
