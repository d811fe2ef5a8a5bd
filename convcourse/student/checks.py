"""The visible checks: call a graded function on a worked example and say what differs.

:func:`call_graded` calls the function under :func:`convcourse.student.guard.hand_written` on copies of the
arguments and fails if it mutates an input; :func:`array_difference` says, in one sentence, why an array is not
the expected one. NumPy only: this runs in a student's notebook and in a grading kernel. When an assignment is
graded, the same checks run in the grader's own process (:mod:`convcourse.grader.execute`), where the student's
functions are reached only through the values they return.

:func:`check_example` is the visible tests' check. A failure says first what is wrong (and, when the result is
what a known mistake gives, which mistake: the worked example's mistaken results are literal data in the test
cell, computed once with the Keras-backed catalogues of ``convcourse.assignments``), then shows the result beside
the expected one: arrays of more than two axes as the 2-D slice (which sample, which channel) where they differ.
The checks' own frames carry ``__tracebackhide__``, so IPython shows only the test cell and the student's code;
IPython always shows the frame that raised, so in an IPython kernel a failed check's ``AssertionError`` is shown
through :func:`_show_without_hidden_frames`, which leaves that frame out too.
"""


import builtins as _builtins
import contextlib
import sys
import types
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
_array2string = _np.array2string
_asarray = _np.asarray
_float64 = _np.float64
_max = _builtins.max
_range = _builtins.range
_repr = _builtins.repr

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
    __tracebackhide__ = True  # IPython shows the student's frames, not the course's
    name = _function_name(function)
    originals = _copies(case)
    args = _copies(case)
    # A warning is printed on stderr, and nbgrader fails a cell with any stderr output: a correct answer that
    # happens to warn (an empty slice, a division by zero it then handles) must not lose points for it.
    # In grading, the function runs in the student's kernel, which applies the guard itself (the grader's own
    # code, proxy included, would trip it here).
    guard = _no_guard() if getattr(function, "runs_in_kernel", False) is True else hand_written(name)
    # Described before the call: while the guard watches, the course's own code (Case.describe) is refused too.
    described = case.describe()
    with warnings.catch_warnings(), _np.errstate(all="ignore"), guard as watch:
        warnings.simplefilter("ignore")
        try:
            result = function(*args)
        except ForbiddenCallError as error:
            failed = error
        else:
            failed = None
    # Messages are made after the guard: inside it the course's own code would be refused too.
    # The refusal is the message's last line, the one a student reads first.
    if watch.violations:
        raise AssertionError(f"(configuration: {described})\n{watch.violations[0]}")
    if failed is not None:
        raise AssertionError(f"(configuration: {described})\n{failed}")
    for arg_name, before, after in zip(case.names, originals, args):
        if type(before) is _ndarray and not _same_array(before, after):
            raise AssertionError(
                f"{name} changed its input {arg_name!r}. A graded function must not modify its arguments: "
                f"work on a copy (for example np.pad or x.astype(float) make new arrays).\n"
                f"(configuration: {case.describe()})"
            )
    return result


def _layout(value):
    """What each axis of an example's array means, by its number of axes."""
    return {4: "(N, H, W, C): sample, row, column, channel (channels-last)",
            3: "(N, L, C): sample, position, channel (channels-last)",
            2: "(H, W): rows, columns"}.get(value.ndim)


def _own_error(name, error, case, described):
    """The message for an exception raised by the student's own code on a worked example: which example, the
    shapes and layout of its arrays, and the original error (whose traceback, with the student's line, is shown
    above it)."""
    layouts = [f"{arg_name} {value.shape} is {_layout(value)}" for arg_name, value in zip(case.names, case.args)
               if type(value) is _ndarray and _layout(value) is not None and arg_name in ("x", "image", "grad_output")]
    layout = f" Here {'; '.join(layouts)}." if layouts else ""
    return (f"{name} raised {type(error).__name__} on this worked example: {name}({described}).{layout} "
            f"The error ({type(error).__name__}: {str(error)[:500]}) comes from your code, in the lines shown "
            "above: check the axes it indexes against these shapes.")


def _shape_hint(actual_shape, expected_shape):
    if len(actual_shape) != len(expected_shape):
        return f"the result has {len(actual_shape)} axes, the reference {len(expected_shape)}"
    if sorted(actual_shape) == sorted(expected_shape):
        return "the axes are in the wrong order (images are channels-last: (N, H, W, C))"
    diffs = [a - e for a, e in zip(actual_shape, expected_shape)]
    if all(-2 <= d <= 2 for d in diffs):
        return "an off-by-one in the output size (count the positions where the window fits)"
    return None


def _tolerance(expected):
    scale = float(_absolute(expected).max()) if expected.size else 0.0
    return _add(ATOL * (scale if scale > 1.0 else 1.0), _multiply(RTOL, _absolute(expected)))


def _worst_index(actual, expected):
    """The index where ``actual`` is furthest outside the tolerance around ``expected`` (same shapes), or ``None``."""
    error = _absolute(_subtract(actual.astype(_float64), expected))
    excess = _subtract(error, _tolerance(expected))
    if not bool(_greater(excess, 0).any()):
        return None
    return tuple(int(i) for i in _unravel_index(int(_argmax(excess)), actual.shape))


def array_difference(actual, expected, hint=True):
    """Why ``actual`` is not ``expected`` (a sentence), or ``None`` when it matches within tolerance; ``hint=False``
    leaves out the guess at a wrong shape's cause (when a named mistake explains it)."""
    __tracebackhide__ = True
    if type(actual) is not _ndarray:
        kind = type(actual)
        if isinstance(actual, _ndarray):
            return (f"it returned a {kind.__module__}.{kind.__name__}, a subclass of numpy.ndarray; "
                    "return a plain numpy.ndarray (np.asarray(result))")
        return f"it returned {kind.__name__}, not a numpy.ndarray"
    if actual.dtype.kind != "f":
        return f"it returned an array of dtype {actual.dtype}; return floats"
    if actual.shape != expected.shape:
        hint = _shape_hint(actual.shape, expected.shape) if hint else None
        return f"it returned shape {actual.shape}, Keras gives {expected.shape}" + (f" — likely {hint}" if hint else "")
    if actual.size == 0:
        return None
    finite = _isfinite(actual)
    if not bool(finite.all()):
        where = tuple(int(i) for i in _unravel_index(int(_argmax(~finite)), actual.shape))
        return f"it returned {actual[where]!r} at index {where}"
    where = _worst_index(actual, expected)
    if where is None:
        return None
    error = _absolute(_subtract(actual.astype(_float64), expected))
    wrong = _greater(error, _tolerance(expected))
    return (
        f"at index {where} it returned {float(actual[where]):.6g}, Keras gives {float(expected[where]):.6g} "
        f"(off by {float(error[where]):.3g}; {int(wrong.sum())} of {actual.size} values are off)"
    )


def _lines(array):
    return _array2string(array, precision=4, suppress_small=True, max_line_width=200).split("\n")


def _side_by_side(left_title, left_lines, right_title, right_lines):
    left_lines, right_lines = [left_title, *left_lines], [right_title, *right_lines]
    width = _max(len(line) for line in left_lines) + 4
    rows = _max(len(left_lines), len(right_lines))
    left_lines += [""] * (rows - len(left_lines))
    right_lines += [""] * (rows - len(right_lines))
    return "\n".join((left + " " * (width - len(left)) + right).rstrip() for left, right in zip(left_lines, right_lines))


def _slice_at(array, index):
    """The 2-D slice of ``array`` through ``index`` and its label: ``[n, :, :, c]`` for ``(N, H, W, C)``,
    ``[n]`` for a 3-D ``(N, L, C)``; arrays of at most two axes whole."""
    if array.ndim <= 2:
        return array, ""
    if array.ndim == 3:  # (N, L, C): one row per channel, time running left to right
        return array[index[0]].T, f" of sample {index[0]}, one row per channel ([{index[0]}].T)"
    key = (index[0], slice(None), slice(None), *index[3:])
    where = ", ".join([str(index[0]), ":", ":", *(str(i) for i in index[3:])])
    label = f" of sample {index[0]}, channel {index[3]}" if array.ndim == 4 else f" at [{where}]"
    return array[key], label + (f" ([{where}])" if array.ndim == 4 else "")


def _comparison(actual, expected):
    """The expected value beside the returned one; arrays of more than two axes as the 2-D slice where they differ."""
    if type(actual) is _ndarray and actual.ndim == expected.ndim and actual.dtype.kind in "biuf":
        index = None
        if actual.shape == expected.shape and actual.size:
            finite = _isfinite(actual.astype(_float64))
            index = (tuple(int(i) for i in _unravel_index(int(_argmax(~finite)), actual.shape))
                     if not bool(finite.all()) else _worst_index(actual, expected))
        if index is None:
            index = (0,) * expected.ndim
        if all(i < n for i, n in zip(index, actual.shape)) and all(i < n for i, n in zip(index, expected.shape)):
            wanted, label = _slice_at(expected, index)
            got, _ = _slice_at(actual, index)
            return _side_by_side(f"expected{label}:", _lines(wanted), "you returned:", _lines(got))
    wanted, label = _slice_at(expected, (0,) * expected.ndim)
    shown = _repr(actual)
    shown = shown if len(shown) <= 2000 else shown[:2000] + " ..."
    return _side_by_side(f"expected{label}:", _lines(wanted), "you returned:", shown.split("\n"))


def _int_value(value):
    if isinstance(value, bool) or not isinstance(value, (int, _integer)):
        return None
    return int(value)


def _int_tuple(value):
    """``value`` as a tuple of Python ints (a tuple, a list or a 1-D integer array of them), or ``None``."""
    if type(value) is _ndarray and value.ndim == 1 and value.dtype.kind in "iu":
        return tuple(int(v) for v in value)
    if type(value) not in (tuple, list):
        return None
    ints = tuple(_int_value(v) for v in value)
    return None if any(v is None for v in ints) else ints


def _is_int_tuple(value):
    return type(value) in (tuple, list) and _int_tuple(value) is not None


def same_result(actual, expected):
    """Does ``actual`` equal ``expected``: an int, a tuple of ints, or an array within the tolerance?"""
    __tracebackhide__ = True
    if _int_value(expected) is not None:
        return _int_value(actual) == int(expected)
    if _is_int_tuple(expected):
        return _int_tuple(actual) == _int_tuple(expected)
    return array_difference(actual, _asarray(expected, dtype=_float64)) is None


def diagnosis(actual, mistakes):
    """``"This is exactly what you get if <description>."`` for the first of ``mistakes`` (description -> the
    result that mistake gives) that ``actual`` equals, or ``""``."""
    __tracebackhide__ = True
    for description, mistaken in (mistakes or {}).items():
        if mistaken is not None and same_result(actual, mistaken):
            return f"This is exactly what you get if {description}."
    return ""


def _call_example(function, case):
    """``call_graded`` for a visible check: an exception raised by the student's own code is reported as an
    ``AssertionError`` that names the worked example, its shapes and their layout (the student's traceback stays
    above it, as its cause). An unwritten answer (``NotImplementedError``), a failed check and a grading kernel
    that cannot answer pass through unchanged."""
    __tracebackhide__ = True
    try:
        return call_graded(function, case)
    except (AssertionError, NotImplementedError):
        raise
    except Exception as error:  # noqa: BLE001 (the student's own code failed: say on which example)
        if any(kind.__name__ == "KernelCallFailed" for kind in type(error).__mro__):
            raise
        raise AssertionError(_own_error(_function_name(function), error, case, case.describe())) from error


# The graded functions whose visible check failed last, by name: the function object that failed.
_FAILED = {}


def _names_used(code, depth=0):
    names = set(code.co_names)
    for const in code.co_consts:
        if type(const) is types.CodeType and depth < 8:
            names |= _names_used(const, depth + 1)
    return names


def _failing_helpers(function):
    """The graded functions ``function`` calls whose own visible check failed (the same function objects, not
    redefined since), in order of name."""
    code, namespace = getattr(function, "__code__", None), getattr(function, "__globals__", None)
    if code is None or namespace is None:
        return []
    name = _function_name(function)
    return sorted(other for other in _names_used(code) if other != name and other in _FAILED
                  and namespace.get(other) is _FAILED[other])


def _remembering_failures(check):
    """``check`` that remembers a failed function and, when the function calls another graded function whose own
    visible check failed, ends its message with "fix that one first": no correct helper ships with the exercise,
    so a wrong helper fails every check that uses it."""

    def checked(function, *args, **kwargs):
        __tracebackhide__ = True
        try:
            result = check(function, *args, **kwargs)
        except AssertionError as failure:
            name = _function_name(function)
            if getattr(function, "__code__", None) is not None:
                _FAILED[name] = function
            helpers = _failing_helpers(function)
            if not helpers:
                raise
            listed = " and ".join(helpers)
            one = "that one" if len(helpers) == 1 else "those"
            raise AssertionError(
                f"{failure}\n\n{name} calls {listed}, whose own visible check above fails too: fix {one} first "
                f"(this check may well pass once {listed} {'is' if len(helpers) == 1 else 'are'} right)."
            ) from failure.__cause__
        _FAILED.pop(_function_name(function), None)
        return result

    checked.__name__, checked.__qualname__, checked.__doc__ = check.__name__, check.__qualname__, check.__doc__
    return checked


def check_example(function, names, args, expected, mistakes=None):
    """The visible tests' check: ``function(*args)`` on one small worked example must give ``expected``.

    ``expected`` is an int, a tuple of ints or an array. ``mistakes`` maps a known mistake's description to what
    that mistake gives on this example (literal data, computed with the Keras-backed catalogue of the assignment);
    a result equal to one of them is named: "This is exactly what you get if <description>."
    """
    __tracebackhide__ = True
    case = Case(tuple(names), tuple(args))
    name = _function_name(function)
    actual = _call_example(function, case)
    if same_result(actual, expected):
        return
    call = f"{name}({case.describe()})"
    named = diagnosis(actual, mistakes)
    named = f"\n{named}" if named else ""
    if _int_value(expected) is not None or _is_int_tuple(expected):
        if _int_value(expected) is not None:
            wanted, kind, right_kind = int(expected), "an int", _int_value(actual) is not None
        else:
            wanted, kind = _int_tuple(expected), f"a tuple of {len(expected)} ints"
            right_kind = _int_tuple(actual) is not None
        note = "" if right_kind else f" (return {kind})"
        raise AssertionError(f"{call} returned {actual!r}{note}, expected {wanted!r}.{named}")
    expected = _asarray(expected, dtype=_float64)
    problem = array_difference(actual, expected, hint=not named).replace("Keras gives", "expected")
    raise AssertionError(f"{call}: {problem}.{named}\n\n{_comparison(actual, expected)}")


def check_example_parts(function, names, args, expected, parts, mistakes=None):
    """``check_example`` for a function that returns a tuple of arrays (``conv2d_backward``'s three gradients):
    each of ``parts`` (their names, in order) must match the array of ``expected`` at the same place; a wrong part
    is named, shown beside the expected one and, when it equals what a known mistake gives for that part
    (``mistakes``: description -> tuple), diagnosed."""
    __tracebackhide__ = True
    case = Case(tuple(names), tuple(args))
    name = _function_name(function)
    actual = _call_example(function, case)
    call = f"{name}({case.describe()})"
    if type(actual) not in (tuple, list) or len(actual) != len(parts):
        raise AssertionError(f"{call} returned {type(actual).__name__}"
                             f"{f' of {len(actual)} values' if type(actual) in (tuple, list) else ''}; "
                             f"return the tuple ({', '.join(parts)})")
    for index, part in enumerate(parts):
        wanted = _asarray(expected[index], dtype=_float64)
        if array_difference(actual[index], wanted) is None:
            continue
        named = diagnosis(actual[index], {description: values[index]
                                          for description, values in (mistakes or {}).items()})
        problem = array_difference(actual[index], wanted, hint=not named)
        named = f"\n{named}" if named else ""
        raise AssertionError(f"{call}: {part} (element {index} of the returned tuple) is wrong: "
                             f"{problem.replace('Keras gives', 'expected')}.{named}\n\n"
                             f"{_comparison(actual[index], wanted)}")


check_example = _remembering_failures(check_example)
check_example_parts = _remembering_failures(check_example_parts)


def _show_without_hidden_frames(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for ``AssertionError``: the usual traceback, minus every frame that sets
    ``__tracebackhide__`` (IPython itself keeps the last frame, the one that raised: here a check's)."""
    kept = []
    while tb is not None:
        if not tb.tb_frame.f_locals.get("__tracebackhide__"):
            kept.append(tb)
        tb = tb.tb_next
    shown = None
    for entry in reversed(kept):
        shown = types.TracebackType(shown, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    shell.showtraceback((etype, value, shown), tb_offset=tb_offset)
    return []


def _hide_check_frames_in_ipython():
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and not shell.custom_exceptions:  # never replace a handler someone else installed
        shell.set_custom_exc((AssertionError,), _show_without_hidden_frames)


_hide_check_frames_in_ipython()
