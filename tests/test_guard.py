"""Unit tests of convcourse.guard: library routines are refused while a graded function runs, and only then."""

import numpy as np
import pytest

from convcourse.grader.cases import Case
from convcourse.student.checks import call_graded
from convcourse.student.guard import ForbiddenCallError, hand_written


def test_numpy_convolve_is_refused_with_a_clear_message():
    with pytest.raises(ForbiddenCallError, match="f called np.convolve. Graded functions must be written by hand"):
        with hand_written("f"):
            np.convolve([1.0, 2.0], [1.0])


def test_routines_work_again_afterwards():
    with pytest.raises(ForbiddenCallError):
        with hand_written("f"):
            np.correlate([1.0, 2.0], [1.0])
    assert np.convolve([1.0, 2.0], [1.0]).tolist() == [1.0, 2.0]


def test_scipy_signal_imported_before_is_refused():
    from scipy.signal import correlate2d

    with pytest.raises(ForbiddenCallError, match="scipy.signal"):
        with hand_written("corr2d"):
            correlate2d(np.ones((3, 3)), np.ones((2, 2)), mode="valid")


def test_keras_is_refused():
    import keras

    with pytest.raises(ForbiddenCallError, match="Keras|TensorFlow"):
        with hand_written("conv2d"):
            keras.layers.Conv2D(1, 2)


def test_a_swallowed_refusal_is_still_reported():
    def sneaky(x):
        try:
            return np.convolve(x, [1.0])
        except Exception:
            return x.copy()

    with pytest.raises(AssertionError, match="sneaky called np.convolve"):
        call_graded(sneaky, Case(("x",), (np.ones(3),)))


def test_plain_numpy_is_allowed():
    def fine(x):
        padded = np.pad(x, 1)
        return np.einsum("i,i->", padded, padded) + np.lib.stride_tricks.sliding_window_view(x, 2).sum()

    assert call_graded(fine, Case(("x",), (np.ones(3),))) == 7.0


def test_the_course_package_is_refused_too():
    from convcourse.grader.cases import same_total_padding

    with pytest.raises(ForbiddenCallError, match="the course package convcourse"):
        with hand_written("same_padding"):
            same_total_padding(5, 2)


def test_an_import_inside_a_graded_function_after_the_notebook_setup_is_allowed():
    # In a kernel, setup_notebook leaves an import hook on sys.meta_path (it styles Matplotlib once imported), and
    # every import consults it. That is no call of the course package by the student: it was refused as
    # "find_spec in notebook.py".
    import sys

    from convcourse.student.notebook import _StyleOnImport

    hook = _StyleOnImport()
    sys.meta_path.insert(0, hook)
    sys.modules.pop("fractions", None)
    try:
        with hand_written("conv_params") as watch:
            import fractions  # noqa: F401 (the import is the point)
    finally:
        if hook in sys.meta_path:
            sys.meta_path.remove(hook)
    assert watch.violations == []
