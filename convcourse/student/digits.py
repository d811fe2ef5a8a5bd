"""The digits protocol of assignment 05 (the exercise contract): data, training and test accuracy, in the kit.

The data are scikit-learn's ``load_digits`` (1797 images of 8×8 pixels, values 0–16) split by
``train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)``: 1347 training and 450 test images. That
split ships with this package (``digits.npz``, 47 kB, the pixel values as integers), so the self-check needs
neither scikit-learn nor a download; ``tests/student/test_digits_data.py`` checks it against scikit-learn.
Pixels are divided by 16 and the images are channels-last ``(N, 8, 8, 1)`` float64 in ``[0, 1]``; labels are
integers 0–9 (train with ``sparse_categorical_crossentropy``).

In the exercise: ``from convcourse.student.digits import train_as_contract`` and
``train_as_contract(build_digits_cnn)[2]`` is the test accuracy the grader will measure (on TensorFlow; on JAX,
the kit's backend for CPython 3.14, it may differ a little).
"""

from pathlib import Path

import numpy as np

SPLIT_SEED = 0
TEST_SIZE = 0.25
MODEL_SEED = 0
EPOCHS = 20
BATCH_SIZE = 32
REQUIRED_ACCURACY = 0.95
DATA = Path(__file__).with_name("digits.npz")


def load_digits_split():
    """``(X_train, X_test, y_train, y_test)``: images ``(N, 8, 8, 1)`` float64 in ``[0, 1]``, integer labels ``(N,)``."""
    with np.load(DATA, allow_pickle=False) as data:
        return ((data["train_images"] / 16.0).reshape(-1, 8, 8, 1), (data["test_images"] / 16.0).reshape(-1, 8, 8, 1),
                data["train_labels"].astype(np.int64), data["test_labels"].astype(np.int64))


def held_out_accuracy(model, X_test, y_test):
    """The fraction of ``X_test`` whose most probable class (argmax of ``model``'s output) is ``y_test``."""
    predictions = np.asarray(model.predict(X_test, verbose=0))
    if predictions.shape != (len(y_test), 10):
        raise ValueError(f"model must give 10 scores per image, got output shape {predictions.shape}")
    return float(np.mean(np.argmax(predictions, axis=1) == y_test))


def train_as_contract(build_model, data=None):
    """Train ``build_model()`` exactly as the contract says and return ``(model, history, accuracy)``.

    ``keras.utils.set_random_seed(0)`` right before ``build_model()``, then
    ``model.fit(X_train, y_train, epochs=20, batch_size=32, verbose=0)``; ``accuracy`` is the test
    split's accuracy (a float). ``data`` is the result of :func:`load_digits_split` (loaded when ``None``).
    """
    from convcourse.student.models import seeded_call

    model = seeded_call(build_model, MODEL_SEED)
    history, accuracy = fit_as_contract(model, data)
    return model, history, accuracy


def fit_as_contract(model, data=None):
    """``(history, accuracy)`` of ``model.fit(X_train, y_train, epochs=20, batch_size=32, verbose=0)`` and the test
    split's accuracy; ``data`` as in :func:`train_as_contract`."""
    X_train, X_test, y_train, y_test = load_digits_split() if data is None else data
    history = model.fit(X_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
    return history, held_out_accuracy(model, X_test, y_test)
