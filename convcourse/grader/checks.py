"""The checks the tests use: call a graded function safely and compare it with the Keras oracle.

Every check calls the function under :func:`convcourse.guard.hand_written`,
on the case's own arrays, and then requires

* an exact ``numpy.ndarray`` (no masked array, no subclass) of a float dtype,
* the shape of the reference, finite values, within ``rtol=1e-4, atol=1e-4``
  relative to the output's scale,
* the inputs left unchanged.

On failure the ``AssertionError`` names the function and the configuration,
where the values differ and by how much and, where the result matches a known
mistake (``mistakes``: name -> reference computed with that mistake), says so.

Tamper resistance: the names below are bound when the module is first imported,
which the locked first cell of every assignment does before any student code.
A student cell that later replaces ``numpy.testing``, ``np.allclose``, ``np.abs``
or a builtin does not reach them.
"""


import numpy as _np

from convcourse.student.checks import (
    _copies,
    _function_name,
    array_difference,
    call_graded,
)
from convcourse.student.pristine import (  # noqa: A004 (shadowing the builtins is the point)
    AssertionError,
    BaseException,
    Exception,
    TypeError,
    ValueError,
    any,
    bool,
    enumerate,
    getattr,
    int,
    isinstance,
    len,
    str,
    type,
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















def _diagnose(actual, case, mistakes):
    for description, mistaken in mistakes.items():
        try:
            reference = mistaken(*_copies(case))
        except Exception:
            continue
        if reference is not None and array_difference(actual, reference) is None:
            return f"\nThis is exactly what you get if {description}."
    return ""


def check_against_reference(function, cases, reference, mistakes=None):
    """Require ``function(*case.args)`` to match ``reference(*case.args)`` for every case.

    ``reference`` is a Keras-backed function (:mod:`convcourse.oracle`); ``mistakes`` maps a
    description ("the kernel is flipped") to the reference computed with that mistake.
    """
    name = _function_name(function)
    for number, case in enumerate(cases, start=1):
        expected = _np.asarray(reference(*_copies(case)), dtype=_np.float64)
        actual = call_graded(function, case)
        problem = array_difference(actual, expected)
        if problem is not None:
            diagnosis = _diagnose(actual, case, mistakes or {})
            raise AssertionError(
                f"{name} is wrong in configuration {number} of {len(cases)} ({case.describe()}): "
                f"{problem}.{diagnosis}"
            )
    return None


def check_integer_results(function, cases, reference):
    """Require ``function(*case.args)`` to return the integer ``reference(*case.args)`` for every case."""
    name = _function_name(function)
    for number, case in enumerate(cases, start=1):
        expected = reference(*_copies(case))
        actual = call_graded(function, case)
        if isinstance(actual, bool) or not isinstance(actual, (int, _integer)):
            raise AssertionError(
                f"{name}({case.describe()}) returned {actual!r} of type {type(actual).__name__}; return an int"
            )
        if int(actual) != expected:
            raise AssertionError(
                f"{name} is wrong in configuration {number} of {len(cases)}: {name}({case.describe()}) "
                f"returned {int(actual)}, Keras gives {expected}"
            )
    return None


def check_rejects(function, case, argument_names, reason):
    """Require ``function(*case.args)`` to raise ``ValueError`` or ``TypeError`` whose message names one of
    ``argument_names``; ``reason`` says what is wrong with the arguments."""
    name = _function_name(function)
    try:
        result = call_graded(function, case)
    except (ValueError, TypeError) as error:
        message = str(error)
        if not any(argument in message for argument in argument_names):
            raise AssertionError(
                f"{name} raised {type(error).__name__}({message!r}) for {reason}; the message should name "
                f"the argument ({' or '.join(argument_names)})"
            ) from None
        return
    except AssertionError:
        raise
    except BaseException as error:
        raise AssertionError(
            f"{name} raised {type(error).__name__} for {reason} ({case.describe()}); "
            "raise ValueError (or TypeError for a wrong type) with a message that names the argument"
        ) from None
    shape = getattr(result, "shape", None)
    raise AssertionError(
        f"{name} returned {type(result).__name__}{'' if shape is None else f' of shape {shape}'} for {reason} "
        f"({case.describe()}); it should raise ValueError naming {' or '.join(argument_names)}"
    )


