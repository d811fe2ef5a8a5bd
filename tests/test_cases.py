"""Unit tests of convcourse.cases: seeded, Keras-valid, and the hard corners are always there."""

import numpy as np

from convcourse.assignments.a01_cross_correlation.cases import (
    conv2d_cases,
    conv_params_cases,
    corr2d_cases,
)
from convcourse.grader.cases import same_total_padding, valid_output_length
from convcourse.grader.oracle import keras_conv2d


def test_cases_are_reproducible():
    first, second = conv2d_cases(20, seed=3), conv2d_cases(20, seed=3)
    assert all(np.array_equal(a["x"], b["x"]) and np.array_equal(a["kernel"], b["kernel"]) for a, b in zip(first, second))


def test_corners_come_first_and_count_is_met():
    cases = conv2d_cases(60, seed=0)
    assert len(cases) == 60
    kernels = [c["kernel"].shape for c in cases[:6]]
    xs = [c["x"].shape for c in cases[:6]]
    assert (4, 3, 2, 3) in kernels and xs[kernels.index((4, 3, 2, 3))][1:3] == (4, 3)  # kernel as large as the input
    assert (1, 1, 1, 1) in xs  # one pixel
    assert any(k[0] % 2 == 0 for k in kernels)  # even kernel
    assert any(x[3] > x[1] * x[2] for x in xs)  # more channels than pixels
    assert any(x[0] > 1 for x in xs)  # batch > 1


def test_strided_same_cases_include_the_odd_split_and_keras_accepts_them():
    names = ("x", "kernel", "bias", "strides", "padding", "dilation_rate")
    cases = conv2d_cases(40, seed=1, names=names, paddings=("valid", "same"), strided=True, dilated=True)
    for case in cases:
        assert not (max(case["strides"]) > 1 and max(case["dilation_rate"]) > 1)
        keras_conv2d(*case.args)
    assert any(case["padding"] == "same" and same_total_padding(case["x"].shape[1], case["kernel"].shape[0]) % 2
               for case in cases)


def test_single_channel_and_bias_switches():
    assert all(c["x"].shape[3] == 1 and c["kernel"].shape[3] == 1 for c in conv2d_cases(10, 0, single_channel=True))
    assert all(c["bias"] is not None for c in conv2d_cases(10, 0, use_bias=True))
    assert all(c["bias"] is None for c in conv2d_cases(10, 0, use_bias=False))


def test_lengths():
    assert valid_output_length(5, 3) == 3 and valid_output_length(7, 3, stride=2, dilation=1) == 3
    assert same_total_padding(5, 2) == 1 and same_total_padding(1, 3) == 2


def test_other_generators():
    assert len(corr2d_cases(55, seed=0)) == 55
    sizes = [c["kernel_size"] for c in conv_params_cases(60, seed=0)]
    assert any(isinstance(s, int) for s in sizes) and any(isinstance(s, tuple) for s in sizes)
