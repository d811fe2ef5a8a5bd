"""Unit tests of convcourse.oracle: the Keras layers run with the weights they are given."""

import keras
import numpy as np

from convcourse.assignments.a01_cross_correlation.references import (
    keras_conv_params,
    keras_corr2d,
)
from convcourse.grader.oracle import (
    keras_conv1d,
    keras_conv2d,
    keras_conv2d_transpose,
    keras_output_shape,
    keras_pool2d,
)


def test_corr2d_worked_example():
    image = np.array([[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]], dtype=float)
    kernel = np.array([[10, -4, 10], [10, 0, 30], [30, 30, -1]], dtype=float)
    assert keras_corr2d(image, kernel).tolist() == [[614.0, 764.0], [591.0, 660.0]]


def test_conv2d_uses_the_bias_and_returns_float64():
    out = keras_conv2d(np.ones((1, 2, 2, 1)), np.ones((2, 2, 1, 2)), np.array([0.5, -1.0]))
    assert out.dtype == np.float64 and out.tolist() == [[[[4.5, 3.0]]]]


def test_conv1d_causal_pads_on_the_left():
    out = keras_conv1d(np.arange(1.0, 4.0).reshape(1, 3, 1), np.array([1.0, 0.0]).reshape(2, 1, 1), padding="causal")
    assert out[0, :, 0].tolist() == [0.0, 1.0, 2.0]


def test_conv2d_transpose_layout_is_out_in():
    out = keras_conv2d_transpose(np.ones((1, 1, 1, 3)), np.ones((2, 2, 4, 3)))
    assert out.shape == (1, 2, 2, 4) and np.all(out == 3.0)


def test_pooling_and_errors():
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    assert keras_pool2d(x, "max", 2, padding="same")[0, :, :, 0].tolist() == [[-1.0, -3.0], [-7.0, -9.0]]
    try:
        keras_pool2d(x, "min")
    except ValueError as error:
        assert "kind must be 'max' or 'avg', got 'min'" in str(error)


def test_counts_and_shapes():
    assert keras_conv_params(3, 3, 64) == 1792 and keras_conv_params((3, 3), 3, 64, use_bias=False) == 1728
    assert keras_output_shape(keras.layers.Conv2D, (None, 7, 7, 1), filters=2, kernel_size=3, strides=2) == (None, 3, 3, 2)


def test_a_kept_layer_gives_what_a_fresh_one_gives():
    """The oracle keeps its built layers: each call, with new weights and inputs of a shape seen before, still gives
    exactly what a newly built layer of that configuration gives."""
    rng = np.random.default_rng(0)
    for _ in range(3):
        x, kernel, bias = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        fresh = keras.layers.Conv2D(4, (3, 2), strides=2, padding="same", dtype="float64")
        fresh.build(x.shape)
        fresh.set_weights([kernel, bias])
        assert np.array_equal(keras_conv2d(x, kernel, bias, strides=2, padding="same"), np.asarray(fresh(x)))
        y, transposed_kernel = rng.normal(size=(2, 7, 6, 4)), rng.normal(size=(3, 2, 3, 4))
        fresh = keras.layers.Conv2DTranspose(3, (3, 2), strides=2, use_bias=False, dtype="float64")
        fresh.build(y.shape)
        fresh.set_weights([transposed_kernel])
        assert np.array_equal(keras_conv2d_transpose(y, transposed_kernel, strides=2), np.asarray(fresh(y)))
