"""Unit tests of convcourse.padding_mistakes: every mistake differs from Keras where it applies (so a check can
recognise it) and gives ``None`` where it changes nothing."""

import numpy as np
import pytest

from convcourse.assignments.a02_padding_and_stride.cases import (
    CONV1D_NAMES,
    CONV2D_NAMES,
    POOL2D_NAMES,
)
from convcourse.assignments.a02_padding_and_stride.mistakes import (
    conv1d_padding_mistakes,
    conv2d_padding_mistakes,
    pool2d_mistakes,
    same_padding_mistakes,
)
from convcourse.assignments.a02_padding_and_stride.references import keras_same_padding
from convcourse.grader.cases import Case
from convcourse.grader.oracle import keras_conv1d, keras_conv2d, keras_pool2d

pytestmark = pytest.mark.slow

RNG = np.random.default_rng(0)


def _differs(mistaken, correct):
    return mistaken is not None and (mistaken.shape != correct.shape or not np.allclose(mistaken, correct))


def _find(mistakes, words):
    (description,) = [d for d in mistakes if words in d]
    return mistakes[description]


def test_same_padding_mistakes():
    mistakes = same_padding_mistakes()
    assert _find(mistakes, "goes before")(5, 4) == (2, 1) != keras_same_padding(5, 4)
    assert _find(mistakes, "dilation")(5, 3, 1, 2) == keras_same_padding(5, 3) != keras_same_padding(5, 3, 1, 2)
    assert _find(mistakes, "dilation")(5, 3) is None
    assert _find(mistakes, "floor(k/2)")(8, 3, 2) == (1, 1) != keras_same_padding(8, 3, 2)


CONV2D_CORNERS = {
    "top/left": ((1, 5, 5, 1), (2, 2), (1, 1), "same", (1, 1)),
    "floor(k/2)": ((1, 8, 8, 1), (3, 3), (2, 2), "same", (1, 1)),
    "dilation is ignored": ((1, 7, 7, 1), (3, 3), (1, 1), "valid", (2, 1)),
    "first stride": ((1, 7, 7, 1), (2, 2), (3, 1), "valid", (1, 1)),
    "rows only": ((1, 7, 7, 1), (2, 2), (2, 2), "valid", (1, 1)),
    "flipped": ((1, 4, 4, 1), (2, 2), (1, 1), "valid", (1, 1)),
}


@pytest.mark.parametrize("words", sorted(CONV2D_CORNERS))
def test_conv2d_mistakes_differ_from_keras_where_they_apply(words):
    shape, kernel_size, strides, padding, dilation = CONV2D_CORNERS[words]
    x, kernel = RNG.normal(size=shape), RNG.normal(size=(*kernel_size, shape[3], 2))
    args = (x, kernel, np.ones(2), strides, padding, dilation)
    mistaken = _find(conv2d_padding_mistakes(), words)
    assert _differs(mistaken(*args), keras_conv2d(*args))


def test_conv2d_mistakes_that_do_not_apply_give_none():
    args = (np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), None, 1, "valid", 1)
    mistakes = conv2d_padding_mistakes()
    for words in ("top/left", "floor(k/2)", "dilation is ignored", "first stride", "rows only"):
        assert _find(mistakes, words)(*args) is None


def test_conv2d_top_heavy_mistake_is_keras_on_an_input_padded_top_heavy():
    x, kernel = RNG.normal(size=(1, 5, 6, 1)), RNG.normal(size=(2, 4, 1, 1))
    mistaken = _find(conv2d_padding_mistakes(), "top/left")(x, kernel, None, 1, "same", 1)
    padded = np.pad(x, ((0, 0), (1, 0), (2, 1), (0, 0)))
    np.testing.assert_allclose(mistaken, keras_conv2d(padded, kernel), atol=1e-12)


@pytest.mark.parametrize("words,padding,dilation", [("after the sequence", "causal", 1), ("like 'same'", "causal", 1),
                                                    ("first; TensorFlow", "same", 1), ("dilation", "valid", 2),
                                                    ("flipped", "valid", 1), ("bias", "valid", 1)])
def test_conv1d_mistakes_differ_from_keras_where_they_apply(words, padding, dilation):
    x, kernel = RNG.normal(size=(2, 7, 2)), RNG.normal(size=(4, 2, 3))
    args = (x, kernel, RNG.normal(size=3), 1, padding, dilation)
    assert _differs(_find(conv1d_padding_mistakes(), words)(*args), keras_conv1d(*args))


def test_causal_on_the_right_is_keras_on_an_input_padded_after():
    x, kernel = RNG.normal(size=(1, 6, 1)), RNG.normal(size=(3, 1, 1))
    mistaken = _find(conv1d_padding_mistakes(), "after the sequence")(x, kernel, None, 1, "causal", 2)
    np.testing.assert_allclose(mistaken, keras_conv1d(np.pad(x, ((0, 0), (0, 4), (0, 0))), kernel, None, 1, "valid", 2),
                               atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_mistakes_differ_from_keras_on_negative_inputs(kind):
    x = -np.abs(RNG.normal(size=(1, 5, 5, 1))) - 0.5
    mistakes = pool2d_mistakes(kind)
    padded = mistakes[[d for d in mistakes if "pad" in d][0]]
    assert _differs(padded(x, 2, None, "same"), keras_pool2d(x, kind, 2, None, "same"))
    assert padded(x, 2, None, "valid") is None
    assert _differs(_find(mistakes, "stride 1")(x, 2, None, "valid"), keras_pool2d(x, kind, 2, None, "valid"))
    assert _differs(_find(mistakes, "first stride")(x, 2, (1, 2), "valid"), keras_pool2d(x, kind, 2, (1, 2), "valid"))


def test_pool_kind_is_checked():
    with pytest.raises(ValueError, match="kind"):
        pool2d_mistakes("sum")


def test_names_are_the_contract_order():
    assert CONV2D_NAMES == CONV1D_NAMES == ("x", "kernel", "bias", "strides", "padding", "dilation_rate")
    assert POOL2D_NAMES == ("x", "pool_size", "strides", "padding")
    assert Case(POOL2D_NAMES, (np.ones((1, 2, 2, 1)), 2, None, "valid"))["pool_size"] == 2
