"""Unit tests of convcourse.digits: the contract's split and training protocol."""

import keras
import numpy as np
import pytest

from convcourse.assignments.a05_cnn_in_practice.digits import (
    held_out_accuracy,
    load_digits_split,
    train_as_contract,
)


def test_split_follows_the_contract():
    X_train, X_test, y_train, y_test = load_digits_split()
    assert X_train.shape == (1347, 8, 8, 1) and X_test.shape == (450, 8, 8, 1)
    assert 0.0 <= X_train.min() and X_train.max() == 1.0
    assert np.bincount(y_test).min() >= 43  # stratified: 43 to 46 of each digit
    assert np.array_equal(load_digits_split()[3], y_test)


class _Constant:
    """A stand-in model that always predicts one class."""

    def __init__(self, label, classes=10):
        self.scores = np.eye(classes)[label]

    def predict(self, X, verbose=0):
        return np.tile(self.scores, (len(X), 1))


def test_accuracy_counts_argmax_hits_and_checks_the_output_shape():
    assert held_out_accuracy(_Constant(3), np.zeros((4, 8, 8, 1)), np.array([3, 3, 1, 2])) == 0.5
    with pytest.raises(ValueError, match="10 scores"):
        held_out_accuracy(_Constant(3, classes=4), np.zeros((2, 8, 8, 1)), np.array([3, 3]))


def test_training_reseeds_before_building():
    seen = []

    def build():
        seen.append(float(keras.random.uniform(()).numpy()))
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    data = load_digits_split()
    small = tuple(part[:64] for part in data[:2]) + tuple(part[:64] for part in data[2:])
    keras.utils.set_random_seed(123)
    model, history, accuracy = train_as_contract(build, small)
    train_as_contract(build, small)
    assert seen[0] == seen[1]
    assert len(history.history["loss"]) == 20 and 0.0 <= accuracy <= 1.0
