"""The digits protocol of assignment 05 (``../shared/exercise-api.md``): data, training and test accuracy.

The data are scikit-learn's ``load_digits`` (1797 images of 8×8 pixels, values 0–16), bundled with
scikit-learn, so nothing is downloaded. Pixels are divided by 16 and the images reshaped to
channels-last ``(N, 8, 8, 1)``; labels stay integers 0–9 (train with
``sparse_categorical_crossentropy``). The split is
``train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)``: 1347 training and
450 test images.
"""

import numpy as np

SPLIT_SEED = 0
TEST_SIZE = 0.25
MODEL_SEED = 0
EPOCHS = 20
BATCH_SIZE = 32


def load_digits_split():
    """``(X_train, X_test, y_train, y_test)``: images ``(N, 8, 8, 1)`` float64 in ``[0, 1]``, integer labels ``(N,)``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).reshape(-1, 8, 8, 1)
    return train_test_split(images, digits.target, test_size=TEST_SIZE, stratify=digits.target,
                            random_state=SPLIT_SEED)


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
