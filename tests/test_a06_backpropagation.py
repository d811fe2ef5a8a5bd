"""Unit tests of assignment 06's test material: the TensorFlow references agree with each other, with
``Conv2D``/``MaxPooling2D`` and with facts.md; the NumPy model behind the mistakes equals them with every switch
off; every mistake differs from the reference on the cases it is meant for; the visible examples' literals are
TensorFlow's values."""

from pathlib import Path

import numpy as np
import pytest

from convcourse.assignments.a06_backpropagation.cases import (
    as_pair,
    conv2d_backward_cases,
    im2col_cases,
    max_pool2d_backward_cases,
)
from convcourse.assignments.a06_backpropagation.checks import check_gradients
from convcourse.student.checks import check_example_parts

GRADIENTS = ("grad_x", "grad_kernel", "grad_bias")
from convcourse.assignments.a06_backpropagation.mistakes import (
    conv2d_backward_mistakes,
    im2col_mistakes,
    max_pool2d_backward_mistakes,
    numpy_conv2d_backward,
    numpy_im2col,
    numpy_max_pool2d_backward,
)
from convcourse.assignments.a06_backpropagation.references import (
    keras_conv2d_backward,
    keras_max_pool2d_backward,
    tf_im2col,
    tf_module,
)
from convcourse.grader.checks import check_against_reference
from convcourse.grader.oracle import keras_conv2d, keras_pool2d

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent / "submissions" / "06_backpropagation"

IM2COL_SWEEP = im2col_cases(30, seed=1, paddings=("valid", "same"), strided=True)
CONV_SWEEP = conv2d_backward_cases(25, seed=2, paddings=("valid", "same"), strided=True) + conv2d_backward_cases(
    15, seed=3, paddings=("valid", "same"), dilated=True)
POOL_SWEEP = (max_pool2d_backward_cases(20, seed=4) + max_pool2d_backward_cases(20, seed=5, overlapping=True)
              + max_pool2d_backward_cases(20, seed=6, padding="same"))

# The visible examples of the notebook, with the values TensorFlow gives.
X9 = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
KERNEL4 = np.array([[1.0, 2.0], [3.0, 4.0]])[:, :, None, None]
IM2COL_EXAMPLES = [
    ((X9, 2), [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]),
    ((X9, 2, 2, "same"), [[1, 2, 4, 5], [3, 0, 6, 0], [7, 8, 0, 0], [9, 0, 0, 0]]),
    ((np.array([1.0, 10.0, 2.0, 20.0]).reshape(1, 1, 2, 2), (1, 2)), [[1, 10, 2, 20]]),
]
CONV_EXAMPLES = [
    ((X9, KERNEL4, np.ones((1, 2, 2, 1))),
     ([[1, 3, 2], [4, 10, 6], [3, 7, 4]], [[12, 16], [24, 28]], [4])),
    ((np.arange(16.0).reshape(1, 4, 4, 1), KERNEL4, np.array([[1.0, -1.0], [2.0, 0.5]]).reshape(1, 2, 2, 1), 2),
     ([[1, 2, -1, -2], [3, 4, -3, -4], [2, 4, 0.5, 1], [6, 8, 1.5, 2]], [[19, 21.5], [29, 31.5]], [2.5])),
    ((X9, KERNEL4, np.ones((1, 3, 3, 1)), 1, "same"),
     ([[1, 3, 3], [4, 10, 10], [4, 10, 10]], [[45, 33], [39, 28]], [9])),
    ((np.array([1.0, 2.0, 3.0, 4.0]).reshape(2, 1, 1, 2), np.arange(6.0).reshape(1, 1, 2, 3),
      np.array([1.0, 0.0, -1.0, 2.0, 1.0, 0.0]).reshape(2, 1, 1, 3)),
     ([[-2, -2], [1, 10]], [[7, 3, -1], [10, 4, -2]], [3, 1, -1])),
]
POOL_X = np.array([[1, 5, 2, 0], [3, 4, 8, 6], [7, 9, 11, 10], [12, 16, 15, 14]], dtype=float)
POOL_EXAMPLES = [
    ((POOL_X[None, :, :, None], np.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None]),
     [[0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0], [0, 3, 4, 0]]),
    ((np.array([[1, 2, 3], [4, 9, 5], [6, 7, 8]], dtype=float)[None, :, :, None],
      np.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None], 2, 1),
     [[0, 0, 0], [0, 10, 0], [0, 0, 0]]),
    ((-X9, np.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None], 2, 2, "same"),
     [[1, 0, 2], [0, 0, 0], [3, 0, 4]]),
]


@pytest.mark.parametrize("case", IM2COL_SWEEP, ids=lambda c: c.describe())
def test_im2col_reference_reproduces_conv2d_and_the_numpy_model(case):
    x, kernel_size, strides, padding = case.args
    kernel = np.random.default_rng(0).normal(size=(*as_pair(kernel_size), x.shape[3], 2))
    columns = tf_im2col(*case.args)
    output = keras_conv2d(x, kernel, None, strides, padding)
    assert columns.shape == (output.shape[0] * output.shape[1] * output.shape[2], kernel[..., 0].size)
    assert np.allclose((columns @ kernel.reshape(-1, 2)).reshape(output.shape), output, atol=1e-12)
    assert np.array_equal(numpy_im2col(*case.args), columns)


@pytest.mark.parametrize("case", CONV_SWEEP, ids=lambda c: c.describe())
def test_conv2d_backward_reference_matches_facts_and_the_numpy_model(case):
    x, kernel, grad_output, strides, padding, dilation = case.args
    grad_x, grad_kernel, grad_bias = keras_conv2d_backward(*case.args)
    assert grad_x.shape == x.shape and grad_kernel.shape == kernel.shape and grad_bias.shape == (kernel.shape[3],)
    assert np.allclose(grad_bias, grad_output.sum(axis=(0, 1, 2)))
    if as_pair(dilation) == (1, 1):  # facts.md: dL/dx is conv2d_transpose of the upstream gradient
        transposed = tf_module().nn.conv2d_transpose(grad_output, kernel, output_shape=x.shape,
                                                     strides=[1, *as_pair(strides), 1], padding=padding.upper())
        assert np.allclose(np.asarray(transposed), grad_x, atol=1e-12)
        # dL/dK = im2col(x)^T @ grad_output, reshaped to the kernel.
        columns = tf_im2col(x, kernel.shape[:2], strides, padding)
        assert np.allclose((columns.T @ grad_output.reshape(-1, kernel.shape[3])).reshape(kernel.shape), grad_kernel)
    for ours, theirs in zip(numpy_conv2d_backward(*case.args), (grad_x, grad_kernel, grad_bias)):
        assert np.allclose(ours, theirs, atol=1e-10)


@pytest.mark.parametrize("case", POOL_SWEEP, ids=lambda c: c.describe())
def test_max_pool2d_backward_reference_routes_to_the_maxima(case):
    x, grad_output, pool_size, strides, padding = case.args
    assert grad_output.shape == keras_pool2d(x, "max", pool_size, strides, padding).shape
    grad_x = keras_max_pool2d_backward(*case.args)
    assert np.isclose(grad_x.sum(), grad_output.sum())  # every window's gradient lands somewhere in x
    assert np.allclose(numpy_max_pool2d_backward(*case.args), grad_x, atol=1e-12)


def test_pool_inputs_have_no_ties():
    for case in POOL_SWEEP:
        x = case["x"]
        assert np.unique(x).size == x.size


def _differs(mistaken, reference):
    return mistaken is not None and (mistaken.shape != reference.shape or not np.allclose(mistaken, reference))


def test_every_im2col_mistake_differs_from_the_reference():
    for description, mistaken in im2col_mistakes().items():
        assert any(_differs(mistaken(*c.args), tf_im2col(*c.args)) for c in IM2COL_SWEEP), description


def test_every_conv2d_backward_mistake_differs_from_the_reference():
    references = [keras_conv2d_backward(*c.args) for c in CONV_SWEEP]
    for description, mistaken in conv2d_backward_mistakes().items():
        assert any(triple is not None and any(_differs(m, r) for m, r in zip(triple, reference))
                   for triple, reference in zip((mistaken(*c.args) for c in CONV_SWEEP), references)), description


def test_every_max_pool2d_backward_mistake_differs_from_the_reference():
    for description, mistaken in max_pool2d_backward_mistakes().items():
        assert any(_differs(mistaken(*c.args), keras_max_pool2d_backward(*c.args)) for c in POOL_SWEEP), description


def test_im2col_examples_are_tensorflows_values():
    for args, expected in IM2COL_EXAMPLES:
        assert np.array_equal(tf_im2col(*args), np.array(expected, dtype=float))


def test_conv2d_backward_examples_are_tensorflows_values():
    for args, expected in CONV_EXAMPLES:
        for ours, theirs in zip(expected, keras_conv2d_backward(*args)):
            assert np.allclose(np.array(ours, dtype=float).reshape(theirs.shape), theirs, atol=1e-12)


def test_max_pool2d_backward_examples_are_tensorflows_values():
    for args, expected in POOL_EXAMPLES:
        assert np.array_equal(keras_max_pool2d_backward(*args)[0, :, :, 0], np.array(expected, dtype=float))


def _corpus_function(kind, stem):
    """A corpus answer (``tests/submissions/06_backpropagation``), defined outside the course package as a
    student's is, so that the hand-written guard lets it run."""
    path = CORPUS / kind / f"{stem}.py"
    namespace = {"np": np}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace[stem.split("__")[0]]


def test_check_gradients_names_the_gradient_and_the_mistake():
    cases = conv2d_backward_cases(5, seed=7)
    unflipped = _corpus_function("wrong", "conv2d_backward__unflipped_kernel")
    with pytest.raises(AssertionError, match=r"(?s)conv2d_backward is wrong .*grad_x \(element 0.*not turned by 180"):
        check_gradients(unflipped, cases, keras_conv2d_backward, conv2d_backward_mistakes())
    check_gradients(unflipped, cases, keras_conv2d_backward, conv2d_backward_mistakes(), gradients=("grad_kernel",))
    averaged = _corpus_function("wrong", "conv2d_backward__bias_averaged_over_batch")
    with pytest.raises(AssertionError, match=r"(?s)grad_bias \(element 2.*averaged over the batch"):
        check_gradients(averaged, conv2d_backward_cases(10, seed=8), keras_conv2d_backward, conv2d_backward_mistakes())


def test_check_example_parts_wants_a_triple():
    def two(x, kernel, grad_output):
        return x, kernel

    args, expected = CONV_EXAMPLES[0]
    with pytest.raises(AssertionError, match="return the tuple"):
        check_example_parts(two, ["x", "kernel", "grad_output"], args, expected, GRADIENTS)
    expected = [np.array(e, dtype=float).reshape(s) for e, s in zip(expected, [(1, 3, 3, 1), (2, 2, 1, 1), (1,)])]
    check_example_parts(_corpus_function("correct", "conv2d_backward__window_loops_float32"),
                            ["x", "kernel", "grad_output"], args, expected, GRADIENTS)
    with pytest.raises(AssertionError, match=r"grad_x \(element 0 of the returned tuple\) is wrong"):
        check_example_parts(_corpus_function("wrong", "conv2d_backward__unflipped_kernel"),
                                ["x", "kernel", "grad_output"], args, expected, GRADIENTS)


@pytest.mark.parametrize("stem", ["im2col__channels_first_rows", "im2col__positions_column_by_column",
                                  "im2col__same_top_heavy"])
def test_wrong_im2col_is_diagnosed(stem):
    cases = im2col_cases(30, seed=9, paddings=("same",), strided=True)
    with pytest.raises(AssertionError, match="This is exactly what you get if"):
        check_against_reference(_corpus_function("wrong", stem), cases, tf_im2col, im2col_mistakes())


@pytest.mark.parametrize("stem", ["max_pool2d_backward__every_cell", "max_pool2d_backward__overlaps_overwritten",
                                  "max_pool2d_backward__zero_padding", "max_pool2d_backward__same_top_heavy"])
def test_wrong_max_pool2d_backward_is_diagnosed(stem):
    cases = max_pool2d_backward_cases(30, seed=10, padding="same")
    with pytest.raises(AssertionError, match="This is exactly what you get if"):
        check_against_reference(_corpus_function("wrong", stem), cases, keras_max_pool2d_backward,
                                max_pool2d_backward_mistakes())
