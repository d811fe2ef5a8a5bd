"""Unit tests of convcourse.receptive_field: receptive fields measured from Keras gradients."""

import numpy as np
import pytest

from convcourse.assignments.a05_cnn_in_practice.cases import random_stacks
from convcourse.assignments.a05_cnn_in_practice.references import (
    conv1d_stack,
    input_gradients,
    measured_receptive_field,
)


@pytest.mark.parametrize("layers, expected", [
    ([], (1, 1)),
    ([(1, 1, 1)], (1, 1)),
    ([(3, 1, 1), (3, 1, 1)], (5, 1)),
    ([(3, 2, 1), (3, 1, 1)], (7, 2)),  # the first stride spreads the second kernel
    ([(3, 1, 1), (3, 2, 1)], (5, 2)),  # the last stride only moves the window
    ([(3, 1, 2)], (5, 1)),  # dilation 2: a 3-wide kernel spans 5 inputs
    ([(2, 1, 1), (2, 1, 2), (2, 1, 4)], (8, 1)),  # WaveNet-style doubling dilations
    ([(3, 2, 1), (3, 2, 1), (3, 2, 1)], (15, 8)),
])
def test_worked_examples(layers, expected):
    assert measured_receptive_field(layers) == expected


def test_dilated_gradient_has_holes_inside_the_span():
    gradient = input_gradients([(3, 1, 2)], 8, (0,))[0]
    assert gradient.tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]


def test_stack_is_all_ones_float64_conv1d():
    model = conv1d_stack([(2, 1, 1), (3, 2, 1)], 9)
    assert model.output.shape == (None, 3, 1)  # 9 -> 8 -> 3
    assert all(np.all(w == 1.0) and w.dtype == np.float64 for w in model.get_weights())


def test_refuses_what_keras_refuses():
    with pytest.raises(ValueError, match="layers\\[0\\]"):
        measured_receptive_field([(3, 2, 2)])
    with pytest.raises(ValueError, match="layers\\[1\\]"):
        measured_receptive_field([(3, 1, 1), (0, 1, 1)])
    with pytest.raises(TypeError, match="layers"):
        measured_receptive_field("3,1,1")


def test_random_stacks_are_seeded_and_accepted_by_keras():
    stacks = random_stacks(30, seed=1)
    assert stacks == random_stacks(30, seed=1)
    assert all(1 <= len(stack) <= 4 for stack in stacks)
    assert not any(s > 1 and d > 1 for stack in stacks for _, s, d in stack)
    assert all(s == 1 for stack in random_stacks(10, seed=2, strided=False) for _, s, _ in stack)
    assert all(d == 1 for stack in random_stacks(10, seed=3, dilated=False) for _, _, d in stack)
