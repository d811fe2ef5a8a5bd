"""The visible checks: call a graded function on a worked example and say what differs.

:func:`call_graded` calls the function under :func:`convcourse.student.guard.hand_written` on copies of the
arguments and fails if it mutates an input; :func:`array_difference` says, in one sentence, why an array is not
the expected one. NumPy only: this runs in a student's notebook and in a grading kernel. When an assignment is
graded, the same checks run in the grader's own process (:mod:`convcourse.grader.execute`), where the student's
functions are reached only through the values they return.
"""


import contextlib
import warnings

import numpy as _np

from convcourse.student.case import Case
from convcourse.student.guard import ForbiddenCallError, hand_written
from convcourse.student.pristine import (  # noqa: A004 (shadowing the builtins is the point)
    AssertionError,
    all,
    bool,
    float,
    getattr,
    int,
    isinstance,
    len,
    sorted,
    tuple,
    type,
    zip,
)

# NumPy names bound once, at import, so that later patches by student cells do not reach the checks.
_ndarray = _np.ndarray
_integer = _np.integer
_absolute = _np.absolute
_subtract = _np.subtract
_multiply = _np.multiply
_add = _np.add
_greater = _np.greater
_isfinite = _np.isfinite
_argmax = _ndarray.argmax
_unravel_index = _np.unravel_index
_copy = _ndarray.copy

RTOL = 1e-4


ATOL = 1e-4


def _function_name(function):
    return getattr(function, "__name__", "the function")


def _copies(case):
    return [_copy(value) if type(value) is _ndarray else value for value in case.args]


def _same_array(before, after):
    return type(after) is _ndarray and before.shape == after.shape and bool((before == after).all())


class _NoWatch:
    violations = ()


@contextlib.contextmanager
def _no_guard():
    yield _NoWatch()


def call_graded(function, case):
    """Call ``function(*case.args)`` under the hand-written guard; fail if it mutates an input or calls a forbidden routine."""
    name = _function_name(function)
    originals = _copies(case)
    args = _copies(case)
    # A warning is printed on stderr, and nbgrader fails a cell with any stderr output: a correct answer that
    # happens to warn (an empty slice, a division by zero it then handles) must not lose points for it.
    # In grading, the function runs in the student's kernel, which applies the guard itself (the grader's own
    # code, proxy included, would trip it here).
    guard = _no_guard() if getattr(function, "runs_in_kernel", False) is True else hand_written(name)
    with warnings.catch_warnings(), _np.errstate(all="ignore"), guard as watch:
        warnings.simplefilter("ignore")
        try:
            result = function(*args)
        except ForbiddenCallError as error:
            raise AssertionError(f"{error}\n(configuration: {case.describe()})") from None
    if watch.violations:
        raise AssertionError(f"{watch.violations[0]}\n(configuration: {case.describe()})")
    for arg_name, before, after in zip(case.names, originals, args):
        if type(before) is _ndarray and not _same_array(before, after):
            raise AssertionError(
                f"{name} changed its input {arg_name!r}. A graded function must not modify its arguments: "
                f"work on a copy (for example np.pad or x.astype(float) make new arrays).\n"
                f"(configuration: {case.describe()})"
            )
    return result


def _shape_hint(actual_shape, expected_shape):
    if len(actual_shape) != len(expected_shape):
        return f"the result has {len(actual_shape)} axes, the reference {len(expected_shape)}"
    if sorted(actual_shape) == sorted(expected_shape):
        return "the axes are in the wrong order (images are channels-last: (N, H, W, C))"
    diffs = [a - e for a, e in zip(actual_shape, expected_shape)]
    if all(-2 <= d <= 2 for d in diffs):
        return "an off-by-one in the output size (count the positions where the window fits)"
    return None


def array_difference(actual, expected):
    """Why ``actual`` is not ``expected`` (a sentence), or ``None`` when it matches within tolerance."""
    if type(actual) is not _ndarray:
        kind = type(actual)
        if isinstance(actual, _ndarray):
            return (f"it returned a {kind.__module__}.{kind.__name__}, a subclass of numpy.ndarray; "
                    "return a plain numpy.ndarray (np.asarray(result))")
        return f"it returned {kind.__name__}, not a numpy.ndarray"
    if actual.dtype.kind != "f":
        return f"it returned an array of dtype {actual.dtype}; return floats"
    if actual.shape != expected.shape:
        hint = _shape_hint(actual.shape, expected.shape)
        return f"it returned shape {actual.shape}, Keras gives {expected.shape}" + (f" — likely {hint}" if hint else "")
    if actual.size == 0:
        return None
    finite = _isfinite(actual)
    if not bool(finite.all()):
        where = tuple(int(i) for i in _unravel_index(int(_argmax(~finite)), actual.shape))
        return f"it returned {actual[where]!r} at index {where}"
    error = _absolute(_subtract(actual.astype(_np.float64), expected))
    scale = float(_absolute(expected).max())
    tolerance = _add(ATOL * (scale if scale > 1.0 else 1.0), _multiply(RTOL, _absolute(expected)))
    wrong = _greater(error, tolerance)
    if not bool(wrong.any()):
        return None
    where = tuple(int(i) for i in _unravel_index(int(_argmax(_subtract(error, tolerance))), actual.shape))
    return (
        f"at index {where} it returned {float(actual[where]):.6g}, Keras gives {float(expected[where]):.6g} "
        f"(off by {float(error[where]):.3g}; {int(wrong.sum())} of {actual.size} values are off)"
    )


def check_example(function, names, args, expected):
    """The visible tests' check: ``function(*args)`` on one small worked example must give ``expected``."""
    case = Case(tuple(names), tuple(args))
    actual = call_graded(function, case)
    if isinstance(expected, (int, _integer)):
        if isinstance(actual, bool) or not isinstance(actual, (int, _integer)) or int(actual) != int(expected):
            raise AssertionError(f"{_function_name(function)}({case.describe()}) returned {actual!r}, expected {expected!r}")
        return
    expected = _np.asarray(expected, dtype=_np.float64)
    problem = array_difference(actual, expected)
    if problem is not None:
        raise AssertionError(
            f"{_function_name(function)}({case.describe()}): {problem.replace('Keras gives', 'expected')}.\n"
            f"expected:\n{expected}\nyou returned:\n{actual!r}"
        )
