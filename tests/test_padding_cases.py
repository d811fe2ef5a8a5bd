"""Unit tests of convcourse.padding_cases: the references agree with Keras, the cases are seeded, Keras accepts
them and the corners the assignment promises are there."""

import numpy as np
import pytest

from convcourse.assignments.a02_padding_and_stride.cases import (
    conv1d_cases,
    conv2d_padding_cases,
    conv_output_length_cases,
    conv_output_length_unfit_cases,
    pool2d_cases,
    same_padding_cases,
)
from convcourse.assignments.a02_padding_and_stride.references import (
    keras_avg_pool2d,
    keras_conv_output_length,
    keras_max_pool2d,
    keras_same_padding,
)
from convcourse.grader.oracle import keras_conv1d, keras_conv2d, keras_pool2d

pytestmark = pytest.mark.slow


def test_output_length_of_the_keras_paddings_is_compute_output_shape():
    assert keras_conv_output_length(7, 3, 2, "same") == 4
    assert keras_conv_output_length(5, 4, 1, "same") == 5
    assert keras_conv_output_length(7, 4, 2, "causal") == 4
    assert keras_conv_output_length(9, 4, 3, "valid") == 2
    assert keras_conv_output_length(7, 3, 1, "valid", 2) == 3


@pytest.mark.parametrize("args", [(4, 3, 1, "full", 1), (6, 3, 4, "full", 1), (6, 3, 1, "full", 2),
                                  (5, 3, 1, 1, 1), (6, 4, 2, 2, 1), (3, 5, 1, 1, 1), (8, 3, 1, 1, 2)])
def test_full_and_explicit_padding_agree_with_a_valid_conv1d_on_a_padded_input(args):
    input_length, kernel_size, stride, padding, dilation = args
    zeros = (kernel_size - 1) * dilation if padding == "full" else padding
    x = np.pad(np.ones((1, input_length, 1)), ((0, 0), (zeros, zeros), (0, 0)))
    run = keras_conv1d(x, np.ones((kernel_size, 1, 1)), None, stride, "valid", dilation)
    assert keras_conv_output_length(*args) == run.shape[1]


def test_unfit_cases_make_keras_raise():
    for case in conv_output_length_unfit_cases():
        with pytest.raises(ValueError):
            keras_conv_output_length(*case.args)


def test_unknown_padding_is_refused_with_its_name():
    with pytest.raises(ValueError, match="padding"):
        keras_conv_output_length(5, 3, 1, "SAME")


def test_output_length_cases_fit_are_seeded_and_hold_the_corners():
    cases = conv_output_length_cases(40, seed=5, dilated=True)
    assert len(cases) == 40 and [c.args for c in cases] == [c.args for c in conv_output_length_cases(40, 5, dilated=True)]
    for case in cases:
        assert keras_conv_output_length(*case.args) >= 1
        assert not (case["stride"] > 1 and case["dilation"] > 1)
    same = [c for c in cases if c["padding"] == "same"]
    assert any(c["kernel_size"] % 2 == 0 for c in same)
    assert any(c["stride"] > 1 for c in same)
    assert any(c["input_length"] < c["kernel_size"] for c in same)
    assert any(isinstance(c["padding"], int) for c in cases)
    assert any(c["dilation"] > 1 for c in cases)
    only_causal = conv_output_length_cases(12, seed=1, paddings=("causal",), dilated=False)
    assert {c["padding"] for c in only_causal} == {"causal"} and all(c["dilation"] == 1 for c in only_causal)


@pytest.mark.parametrize("args", [(5, 3, 1, 1), (5, 4, 1, 1), (8, 3, 2, 1), (2, 5, 3, 1), (6, 1, 4, 1),
                                  (4, 2, 1, 3), (9, 6, 4, 1), (3, 7, 2, 1)])
def test_measured_same_split_reproduces_keras_same_as_valid_on_a_padded_input(args):
    input_length, kernel_size, stride, dilation = args
    rng = np.random.default_rng(0)
    x, kernel = rng.normal(size=(2, input_length, 2)), rng.normal(size=(kernel_size, 2, 3))
    before, after = keras_same_padding(*args)
    padded = np.pad(x, ((0, 0), (before, after), (0, 0)))
    expected = keras_conv1d(x, kernel, None, stride, "same", dilation)
    np.testing.assert_allclose(keras_conv1d(padded, kernel, None, stride, "valid", dilation), expected, atol=1e-12)


def test_measured_split_on_known_corners():
    assert keras_same_padding(5, 4) == (1, 2)
    assert keras_same_padding(8, 3, 2) == (0, 1)
    assert keras_same_padding(1, 5) == (2, 2)


def test_an_invisible_split_is_refused():
    with pytest.raises(ValueError, match="no kernel tap"):
        keras_same_padding(1, 2, 1, 3)


def test_same_padding_cases_are_measurable_and_include_odd_totals():
    cases = same_padding_cases(30, seed=2, dilated=True)
    assert len(cases) == 30
    splits = [keras_same_padding(*case.args) for case in cases]
    assert any(after == before + 1 for before, after in splits)
    assert any(c["stride"] > 1 for c in cases) and any(c["dilation"] > 1 for c in cases)
    assert all(c["stride"] == 1 for c in same_padding_cases(10, seed=2, strided=False))


def test_conv2d_padding_cases_mix_ints_and_pairs_and_keras_accepts_them():
    cases = conv2d_padding_cases(30, seed=3, paddings=("valid", "same"), strided=True, dilated=True)
    assert any(isinstance(c["strides"], int) for c in cases) and any(isinstance(c["strides"], tuple) for c in cases)
    assert any(isinstance(c["strides"], tuple) and c["strides"][0] != c["strides"][1] for c in cases)
    for case in cases:
        keras_conv2d(*case.args)


def test_conv1d_cases_are_accepted_by_keras_and_hold_the_corners():
    cases = conv1d_cases(40, seed=4, paddings=("valid", "same", "causal"), strided=True, dilated=True)
    assert len(cases) >= 40
    for case in cases:
        assert case["x"].ndim == 3 and case["kernel"].shape[1] == case["x"].shape[2]
        assert not (case["strides"] > 1 and case["dilation_rate"] > 1)
        keras_conv1d(*case.args)
    assert any(c["padding"] == "causal" and c["dilation_rate"] > 1 for c in cases)
    assert any(c["padding"] == "same" and c["x"].shape[1] < c["kernel"].shape[0] for c in cases)
    assert any(c["kernel"].shape[0] % 2 == 0 for c in cases)


def test_pool_cases_negative_values_strides_and_corners():
    same = pool2d_cases(20, seed=6, paddings=("same",), custom_strides=True, negative=True)
    assert all((c["x"] < 0).all() for c in same)
    assert any(isinstance(c["strides"], tuple) and c["strides"][0] != c["strides"][1] for c in same)
    default = pool2d_cases(20, seed=7, paddings=("valid", "same"))
    assert all(c["strides"] is None for c in default)
    assert any(c["padding"] == "same" and c["x"].shape[1] < 3 and c["pool_size"] == 3 for c in default)
    for case in same + default:
        output = keras_pool2d(case["x"], "max", case["pool_size"], case["strides"], case["padding"])
        assert output.size > 0


def test_pool_references_take_the_contract_order():
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(keras_max_pool2d(x, 2, None, "same")[0, :, :, 0], [[-1, -3], [-7, -9]])
    np.testing.assert_array_equal(keras_avg_pool2d(x, 2, None, "same")[0, :, :, 0], [[-3, -4.5], [-7.5, -9]])
