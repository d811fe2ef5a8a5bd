"""Unit tests of convcourse.transposed_mistakes: the Keras-measured references agree with the definitions written
out here in NumPy, and every mistaken reference is the mistake it names."""

import numpy as np
import pytest

from convcourse.assignments.a03_transposed_convolution.cases import (
    as_pair,
    conv2d_transpose_cases,
    conv_matrix_cases,
    conv_transpose_output_length_cases,
    dilate_cases,
)
from convcourse.assignments.a03_transposed_convolution.mistakes import (
    conv2d_transpose_mistakes,
    conv_matrix_mistakes,
    dilate_mistakes,
)
from convcourse.assignments.a03_transposed_convolution.references import (
    keras_conv_matrix,
    keras_conv_transpose_output_length,
    keras_dilate,
)
from convcourse.grader.oracle import keras_conv2d, keras_conv2d_transpose

SEED_IMAGE = np.array([[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]], dtype=float)
SEED_KERNEL = np.array([[10, -4, 10], [10, 0, 30], [30, 30, -1]], dtype=float)
SEED_MATRIX = np.array([
    [10, -4, 10, 0, 10, 0, 30, 0, 30, 30, -1, 0, 0, 0, 0, 0],
    [0, 10, -4, 10, 0, 10, 0, 30, 0, 30, 30, -1, 0, 0, 0, 0],
    [0, 0, 0, 0, 10, -4, 10, 0, 10, 0, 30, 0, 30, 30, -1, 0],
    [0, 0, 0, 0, 0, 10, -4, 10, 0, 10, 0, 30, 0, 30, 30, -1]], dtype=float)


def _mistake(mistakes, words):
    (function,) = [f for description, f in mistakes.items() if words in description]
    return function


def _keras_table(i, k, s, padding, a, d):
    """facts.md's table of Conv2DTranspose output lengths."""
    k = (k - 1) * d + 1
    if padding == "valid":
        return (i - 1) * s + (max(k, s) if a is None else k + a)
    return i * s if a is None else (i - 1) * s + k % 2 + a


def _scatter(x, kernel, strides):
    """The uncropped transposed convolution: each input pixel adds its weighted kernel, strides apart."""
    (sh, sw), (n, h, w, _), (kh, kw, c_out, _) = as_pair(strides), x.shape, kernel.shape
    full = np.zeros((n, (h - 1) * sh + kh, (w - 1) * sw + kw, c_out))
    for i in range(h):
        for j in range(w):
            full[:, i * sh:i * sh + kh, j * sw:j * sw + kw] += np.einsum("nc,aboc->nabo", x[:, i, j], kernel)
    return full


def test_conv_matrix_reproduces_the_seed_and_conv2d():
    assert np.array_equal(keras_conv_matrix(SEED_KERNEL, (4, 4)), SEED_MATRIX)
    assert np.allclose((SEED_MATRIX @ SEED_IMAGE.ravel()).reshape(2, 2), [[614, 764], [591, 660]])
    for case in conv_matrix_cases(20, seed=0):
        kernel, (h, w), strides = case.args
        x = np.random.default_rng(0).normal(size=(h, w))
        expected = keras_conv2d(x[None, :, :, None], kernel[:, :, None, None], None, strides)[0, :, :, 0]
        matrix = keras_conv_matrix(kernel, (h, w), strides)
        assert matrix.shape == (expected.size, h * w)
        assert np.allclose(matrix @ x.ravel(), expected.ravel())


def test_conv_matrix_mistakes():
    mistakes = conv_matrix_mistakes(keras_conv_matrix)
    column_major = _mistake(mistakes, "column by column")
    for case in conv_matrix_cases(15, seed=1):
        kernel, (h, w), strides = case.args
        x = np.random.default_rng(1).normal(size=(h, w))
        right = keras_conv_matrix(*case.args)
        output_shape = keras_conv2d(np.zeros((1, h, w, 1)), kernel[:, :, None, None], None, strides).shape[1:3]
        fortran = column_major(*case.args) @ x.ravel(order="F")
        assert np.allclose(fortran.reshape(output_shape, order="F"), (right @ x.ravel()).reshape(output_shape))
    kernel = np.arange(6.0).reshape(2, 3)
    assert np.allclose(_mistake(mistakes, "flipped")(kernel, (3, 4), 1), keras_conv_matrix(kernel[::-1, ::-1], (3, 4)))
    assert _mistake(mistakes, "swapped")(kernel, (3, 4), 2) is None
    assert np.allclose(_mistake(mistakes, "swapped")(kernel, (5, 7), (1, 2)), keras_conv_matrix(kernel, (5, 7), (2, 1)))


def test_dilate_is_zeros_between_neighbours():
    for case in dilate_cases(20, seed=0) + dilate_cases(20, seed=0, per_axis=True):
        x, strides = case.args
        (sh, sw), (n, h, w, c) = as_pair(strides), x.shape
        expected = np.zeros((n, (h - 1) * sh + 1, (w - 1) * sw + 1, c))
        expected[:, ::sh, ::sw] = x
        assert np.array_equal(keras_dilate(x, strides), expected)


def test_dilate_mistakes():
    mistakes = dilate_mistakes(keras_dilate)
    x = np.arange(12.0).reshape(1, 2, 3, 2)
    trailing = _mistake(mistakes, "last row")(x, (2, 3))
    assert trailing.shape == (1, 4, 9, 2) and np.array_equal(trailing[:, :3, :7], keras_dilate(x, (2, 3)))
    assert _mistake(mistakes, "s zeros")(x, 2).shape == (1, 4, 7, 2)
    assert _mistake(mistakes, "swapped")(x, 2) is None
    assert _mistake(mistakes, "swapped")(x, (1, 3)).shape == (1, 4, 3, 2)


def test_output_length_is_keras_table_and_the_seed():
    assert keras_conv_transpose_output_length(2, 3) == 4 and keras_conv_transpose_output_length(2, 3, 2) == 5
    assert keras_conv_transpose_output_length(2, 1, 2) == 4 and keras_conv_transpose_output_length(5, 3, 2, "same") == 10
    for padding in ("valid", "same"):
        for output_padding in (False, True):
            for dilated in (False, True):
                for case in conv_transpose_output_length_cases(30, 0, padding, output_padding, dilated):
                    assert keras_conv_transpose_output_length(*case.args) == _keras_table(*case.args)


def test_conv2d_transpose_unflipped_mistake_is_the_dilate_and_pad_view_without_the_flip():
    unflipped = _mistake(conv2d_transpose_mistakes(keras_conv2d_transpose), "not flipped")
    for case in conv2d_transpose_cases(15, seed=0, strided=True, single_channel=False):
        x, kernel, _, strides, _, _ = case.args
        (kh, kw, _, _) = kernel.shape
        dilated = keras_dilate(x, strides)
        padded = np.pad(dilated, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
        conv2d_kernel = kernel.transpose(0, 1, 3, 2)  # (kh, kw, C_in, C_out): not turned
        correlated = keras_conv2d(padded, conv2d_kernel)
        mistaken = unflipped(*case.args)
        rows, cols = min(mistaken.shape[1], correlated.shape[1]), min(mistaken.shape[2], correlated.shape[2])
        assert np.allclose(mistaken[:, :rows, :cols], correlated[:, :rows, :cols])


def test_conv2d_transpose_crop_mistake_keeps_the_other_half():
    crop = _mistake(conv2d_transpose_mistakes(keras_conv2d_transpose), "wrong side")
    seen = 0
    for case in conv2d_transpose_cases(40, seed=3, paddings=("same",), strided=True, output_padding=True):
        x, kernel, _, strides, _, output_padding = case.args
        expected = keras_conv2d_transpose(*case.args)
        full = _scatter(x, kernel, strides)
        mistaken = crop(*case.args)
        if any(e > f for e, f in zip(expected.shape[1:3], full.shape[1:3])):
            assert mistaken is None
            continue
        seen += 1
        top, left = (-(-(f - e) // 2) for f, e in zip(full.shape[1:3], expected.shape[1:3]))
        right_top, right_left = ((f - e) // 2 for f, e in zip(full.shape[1:3], expected.shape[1:3]))
        assert np.allclose(expected, full[:, right_top:right_top + expected.shape[1],
                                          right_left:right_left + expected.shape[2]])
        assert np.allclose(mistaken, full[:, top:top + expected.shape[1], left:left + expected.shape[2]])
    assert seen > 10
    assert crop(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)), None, 1, "valid", None) is None


@pytest.mark.parametrize("words, args, expected_shape", [
    ("C_in, C_out", (np.ones((1, 2, 2, 2)), np.ones((3, 3, 2, 2))), (1, 4, 4, 2)),
    ("bias", (np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)), np.ones(1)), (1, 4, 4, 1)),
    ("output_padding is ignored", (np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)), None, 2, "valid", 1), (1, 5, 5, 1)),
    ("max(k, s)", (np.ones((1, 2, 2, 1)), np.ones((2, 2, 1, 1)), None, 3, "valid", None), (1, 5, 5, 1)),
])
def test_conv2d_transpose_other_mistakes(words, args, expected_shape):
    assert _mistake(conv2d_transpose_mistakes(keras_conv2d_transpose), words)(*args).shape == expected_shape


def test_conv2d_transpose_mistakes_say_nothing_where_they_cannot_be_told_apart():
    mistakes = conv2d_transpose_mistakes(keras_conv2d_transpose)
    x = np.ones((1, 2, 2, 2))
    assert _mistake(mistakes, "C_in, C_out")(x, np.ones((3, 3, 1, 2))) is None
    assert _mistake(mistakes, "bias")(x, np.ones((3, 3, 1, 2))) is None
    assert _mistake(mistakes, "output_padding is ignored")(x, np.ones((3, 3, 1, 2)), None, 2, "same", None) is None
    assert _mistake(mistakes, "max(k, s)")(x, np.ones((3, 3, 1, 2)), None, 2, "same", None) is None
