"""Checks for ``conv2d_backward``, whose answer is a triple ``(grad_x, grad_kernel, grad_bias)``.

Built on :mod:`convcourse.student.checks` (``call_graded``, ``array_difference``) like
:func:`convcourse.grader.checks.check_against_reference`; a failure names the function, the configuration,
which of the three gradients is wrong and, where the wrong gradient equals the one a known mistake gives
(:func:`convcourse.assignments.a06_backpropagation.mistakes.conv2d_backward_mistakes`), that mistake.
NumPy only: the visible example check runs in a student's notebook.
"""

import numpy as _np

from convcourse.student.checks import _copies, _function_name, array_difference, call_graded
from convcourse.student.pristine import (  # noqa: A004 (shadowing the builtins is the point)
    AssertionError,
    Exception,
    enumerate,
    len,
    list,
    tuple,
    type,
)

GRADIENTS = ("grad_x", "grad_kernel", "grad_bias")


def _triple(name, actual, case):
    if type(actual) not in (tuple, list) or len(actual) != 3:
        kind = type(actual).__name__
        size = f" of {len(actual)} values" if type(actual) in (tuple, list) else ""
        raise AssertionError(
            f"{name}({case.describe()}) returned a {kind}{size}; return the tuple (grad_x, grad_kernel, grad_bias)"
        )
    return actual


def _diagnose(index, actual, case, mistakes):
    for description, mistaken in mistakes.items():
        try:
            triple = mistaken(*_copies(case))
        except Exception:
            continue
        if triple is not None and array_difference(actual, _np.asarray(triple[index], dtype=_np.float64)) is None:
            return f"\nThis is exactly what you get if {description}."
    return ""


def check_gradients(function, cases, reference, mistakes=None, gradients=GRADIENTS):
    """Require each of ``gradients`` (names from ``grad_x, grad_kernel, grad_bias``) of ``function(*case.args)``
    to match ``reference(*case.args)`` for every case; ``mistakes`` maps a description to the triple an
    implementation with that mistake returns."""
    from convcourse.grader.checks import prefetch, reference_values

    name = _function_name(function)
    references = reference_values(reference, cases)
    prefetch(function, cases)
    for number, (case, expected) in enumerate(zip(cases, references), start=1):
        actual = _triple(name, call_graded(function, case), case)
        for index, gradient in enumerate(GRADIENTS):
            if gradient not in gradients:
                continue
            problem = array_difference(actual[index], _np.asarray(expected[index], dtype=_np.float64))
            if problem is not None:
                diagnosis = _diagnose(index, actual[index], case, mistakes or {})
                raise AssertionError(
                    f"{name} is wrong in configuration {number} of {len(cases)} ({case.describe()}): "
                    f"{gradient} (element {index} of the returned tuple) is wrong: {problem}.{diagnosis}"
                )
    return None
