"""Unit tests of convcourse.transposed_cases: seeded, within Keras' limits, hard corners always there."""

import numpy as np
import pytest

from convcourse.assignments.a03_transposed_convolution.cases import (
    TransposeGeometry,
    as_pair,
    conv2d_transpose_cases,
    conv_matrix_cases,
    conv_transpose_output_length_cases,
    dilate_cases,
    keras_cannot_run,
)
from convcourse.grader.oracle import keras_conv2d_transpose


def _same(first, second):
    for a, b in zip(first, second):
        for x, y in zip(a.args, b.args):
            if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                assert np.array_equal(x, y)
            else:
                assert x == y
    return len(first) == len(second)


def test_every_generator_is_reproducible():
    assert _same(conv_matrix_cases(20, 5), conv_matrix_cases(20, 5))
    assert _same(dilate_cases(20, 5, per_axis=True), dilate_cases(20, 5, per_axis=True))
    assert _same(conv_transpose_output_length_cases(20, 5, "both", True), conv_transpose_output_length_cases(20, 5, "both", True))
    kwargs = dict(paddings=("valid", "same"), strided=True, output_padding=True, single_channel=False, use_bias=True)
    assert _same(conv2d_transpose_cases(20, 5, **kwargs), conv2d_transpose_cases(20, 5, **kwargs))


def test_as_pair():
    assert as_pair(3) == (3, 3) and as_pair(np.int64(2)) == (2, 2) and as_pair([1, 4]) == (1, 4) and as_pair(None) is None


def test_conv_matrix_cases_fit_and_cover_strides():
    cases = conv_matrix_cases(60, seed=0)
    assert len(cases) == 60
    assert cases[0]["input_shape"] == (4, 4) and cases[0]["kernel"].shape == (3, 3)  # the seed's example
    for case in cases:
        kh, kw = case["kernel"].shape
        assert kh <= case["input_shape"][0] and kw <= case["input_shape"][1]
    strides = [as_pair(c["strides"]) for c in cases]
    assert any(s[0] != s[1] for s in strides)
    assert any(max(s) > max(c["kernel"].shape) for s, c in zip(strides, cases))
    assert all(c["strides"] == 1 for c in conv_matrix_cases(30, seed=0, strided=False))


def test_dilate_cases():
    square = dilate_cases(50, seed=0)
    assert len(square) == 50 and all(isinstance(c["strides"], int) for c in square)
    assert any(c["strides"] == 1 for c in square) and any(c["x"].shape[1:3] == (1, 1) for c in square)
    per_axis = dilate_cases(50, seed=0, per_axis=True)
    assert all(c["strides"][0] != c["strides"][1] for c in per_axis)


@pytest.mark.parametrize("padding", ["valid", "same", "both"])
@pytest.mark.parametrize("output_padding", [False, True])
@pytest.mark.parametrize("dilated", [False, True])
def test_output_length_cases_stay_within_keras_limits(padding, output_padding, dilated):
    cases = conv_transpose_output_length_cases(60, seed=1, padding=padding, output_padding=output_padding,
                                               dilated=dilated)
    assert len(cases) == 60
    for case in cases:
        assert case["padding"] in (("valid", "same") if padding == "both" else (padding,))
        assert (case["output_padding"] is not None) == output_padding
        if output_padding:
            assert 0 <= case["output_padding"] < case["stride"]
        assert (case["dilation"] > 1) == dilated and (case["stride"] == 1 or case["dilation"] == 1)
    if not dilated and not output_padding:
        assert any(c["stride"] > c["kernel_size"] for c in cases)  # where max(k, s) matters


def test_keras_cannot_run_is_the_same_output_padding_zero_even_kernel_corner():
    crash = TransposeGeometry(1, 3, 3, 2, 3, 1, 1, strides=1, padding="same", output_padding=0)
    assert keras_cannot_run(crash)
    assert not keras_cannot_run(TransposeGeometry(1, 3, 3, 3, 3, 1, 1, padding="same", output_padding=0))
    assert not keras_cannot_run(TransposeGeometry(1, 3, 3, 2, 2, 1, 1, padding="same"))
    assert not keras_cannot_run(TransposeGeometry(1, 3, 3, 2, 2, 1, 1, strides=2, padding="same", output_padding=1))
    assert not keras_cannot_run(TransposeGeometry(1, 3, 3, 2, 2, 1, 1, padding="valid", output_padding=0))
    with pytest.raises(Exception, match="Conv2DCustomBackpropInput"):
        keras_conv2d_transpose(np.ones((1, 3, 3, 1)), np.ones((2, 3, 1, 1)), None, 1, "same", 0)


def test_conv2d_transpose_cases_cover_the_corners_and_keras_runs_them():
    cases = conv2d_transpose_cases(80, seed=2, paddings=("valid", "same"), strided=True, output_padding=True,
                                   single_channel=False, use_bias=True)
    assert len(cases) == 80
    kernels = [c["kernel"].shape for c in cases]
    strides = [as_pair(c["strides"]) for c in cases]
    assert any(k[0] % 2 == 0 for k in kernels) and any(k[0] % 2 == 1 for k in kernels)
    assert any(k[2] != k[3] for k in kernels) and any(k[2] == k[3] > 1 for k in kernels)
    assert any(s[0] != s[1] for s in strides)
    assert any(min(s) > max(k[:2]) for s, k in zip(strides, kernels))
    assert any(c["padding"] == "same" and c["output_padding"] == 0 for c in cases)
    for case, stride in zip(cases, strides):
        assert case["x"].shape[3] == case["kernel"].shape[3]  # (kh, kw, C_out, C_in)
        assert case["bias"].shape == (case["kernel"].shape[2],)
        if case["output_padding"] is not None:
            assert all(0 <= a < s for a, s in zip(as_pair(case["output_padding"]), stride))
        geometry = TransposeGeometry(1, 1, 1, *case["kernel"].shape[:2], 1, 1, case["strides"], case["padding"],
                                     case["output_padding"])
        assert not keras_cannot_run(geometry)
        keras_conv2d_transpose(*case.args)


def test_conv2d_transpose_case_switches():
    assert [c.names for c in conv2d_transpose_cases(5, 0, names=("x", "kernel"))] == [("x", "kernel")] * 5
    single = conv2d_transpose_cases(30, 0, strided=True)
    assert all(c["x"].shape[3] == 1 and c["kernel"].shape[2:] == (1, 1) and c["bias"] is None for c in single)
    assert all(c["padding"] == "valid" and c["output_padding"] is None for c in single)
