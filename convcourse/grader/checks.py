"""The hidden tests' checks: call a graded function on many cases and compare it with the Keras oracle.

They run in the grader's process (:mod:`convcourse.grader.execute`); the function is then a proxy whose calls run
in the student's kernel, sent all at once (:func:`prefetch`). Every call goes through
:func:`convcourse.student.checks.call_graded`, on copies of the case's arrays, and then requires

* an exact ``numpy.ndarray`` (no masked array, no subclass) of a float dtype,
* the shape of the reference, finite values, within ``rtol=1e-4, atol=1e-4``
  relative to the output's scale,
* the inputs left unchanged.

A check tries every configuration, even after a failure. Its ``AssertionError`` then says how many failed
and passed ("3 of 60 configurations failed; 57 passed"), the likely mistake (where results match a known
mistake: ``mistakes`` maps a description to the reference computed with that mistake) and up to
:data:`MAX_SHOWN` failing configurations, each as the call with its arguments described
(:meth:`Case.describe`), what differs and by how much, so a student can set one up and reproduce it.

References of seeded cases are computed once per grading process (:func:`reference_value`), and so are the
known mistakes' results on them (:func:`mistake_value`); both are kept in the reference cache, which
:mod:`convcourse.grader.precompute` fills before a class is graded.
"""

import builtins as _builtins
import functools
import hashlib
import inspect
import os
import sys

import numpy as _np

from convcourse.grader.proxy import KernelCallFailed, StudentRaised
from convcourse.student.case import Case
from convcourse.student.checks import (
    _copies,
    _function_name,
    array_difference,
    call_graded,
    same_result,
)
from convcourse.student.pristine import (  # noqa: A004 (shadowing the builtins is the point)
    AssertionError,
    BaseException,
    Exception,
    TypeError,
    ValueError,
    all,
    any,
    bool,
    enumerate,
    list,
    getattr,
    int,
    isinstance,
    len,
    str,
    type,
)


#: Failing configurations a message lists; the rest are counted.
MAX_SHOWN = 3


def _diagnose(actual, case, mistakes):
    """The description of the first known mistake whose result on ``case`` equals ``actual``, or ``None``."""
    for description, mistaken in mistakes.items():
        try:
            reference = mistake_value(mistaken, case)
        except Exception:
            continue
        if reference is not None and same_result(actual, reference):
            return description
    return None


def check_each(function, cases, expected_values, judge, mistakes=None):
    """Call ``function`` on every case (one batch) and require ``judge(actual, expected)`` to be ``None``.

    ``judge`` returns a sentence saying why ``actual`` is not ``expected``. A configuration where the function
    raises fails with that exception's type and message; a forbidden call or a mutated input fails at once
    (it breaks a rule of the whole exercise), and a kernel that cannot answer (:class:`KernelCallFailed`) passes
    through unchanged. After all configurations, raises the summary described in the module docstring.
    """
    name = _function_name(function)
    if _MISTAKES_AHEAD[0]:
        _compute_mistakes(cases, mistakes or {})
    prefetch(function, cases)
    failures = []
    for number, (case, expected) in enumerate(zip(cases, expected_values), start=1):
        try:
            actual = call_graded(function, case)
        except KernelCallFailed:
            raise
        except Exception as error:  # noqa: BLE001 (a student's exception is that configuration's verdict)
            if isinstance(error, AssertionError) and not isinstance(error, StudentRaised):
                raise  # the checks' own verdict on a broken rule, not a configuration's
            failures.append((number, case, f"it raised {type(error).__name__}: {str(error)[:300]}", None, False))
            continue
        problem = judge(actual, expected)
        if problem is not None:
            failures.append((number, case, problem, actual, True))
    if failures:
        raise AssertionError(_summary(name, cases, failures, mistakes or {}))
    return None


def _summary(name, cases, failures, mistakes):
    shown = failures[:MAX_SHOWN]
    causes = [_diagnose(actual, case, mistakes) if returned else None for _, case, _, actual, returned in shown]
    summary = failure_summary(name, len(cases), [
        (f"configuration {number} of {len(cases)}: {name}({case.describe()})", problem, cause)
        for (number, case, problem, _, _), cause in zip(shown, causes)
    ], len(failures))
    # The smallest failing configuration, exactly, so that a student can run it again in a cell of their own.
    number, case = min(((number, case) for number, case, *_ in failures),
                        key=lambda item: sum(a.size for a in item[1].arrays()))
    code = case.as_code(name)
    return summary if code is None else f"{summary}\nTo run configuration {number} again: {code}"


def failure_summary(name, total, shown, failed, unit="configurations"):
    """The message of a check that failed ``failed`` of ``total`` ``unit``: counts, the likely mistake, and
    ``shown``, a list of at most :data:`MAX_SHOWN` ``(what was called, what is wrong, mistake or None)``."""
    named = [cause for _, _, cause in shown if cause is not None]
    lines = [f"{name} is wrong: {failed} of {total} {unit} failed; {total - failed} passed."]
    if named:
        likely = _builtins.max(_builtins.set(named), key=named.count)
        lines.append(f"Likely mistake (in {named.count(likely)} of the {len(shown)} failing {unit} below): "
                     f"this is exactly what you get if {likely}.")
    lines.append(f"{'The first failing ' + unit if failed > 1 else 'The failing one'} "
                 "(set one up as described and call your function to see it for yourself):")
    for call, problem, cause in shown:
        lines.append(f"- {call}: {problem}." + (f" This is exactly what you get if {cause}." if cause else ""))
    if failed > len(shown):
        lines.append(f"(and {failed - len(shown)} more)")
    return "\n".join(lines)


def prefetch(function, cases):
    """Send every case to the student's kernel in one round trip when ``function`` runs there (grading)."""
    if getattr(function, "runs_in_kernel", False) is True:
        function.prefetch([_copies(case) for case in cases])


_REFERENCE_CACHE = {}


def _call_key(reference, args):
    return _digest_call(repr((reference.__module__, reference.__qualname__, _source_digest(reference))), args)


def _digest_call(identity, args):
    digest = hashlib.sha1(identity.encode())
    for value in args:
        digest.update(repr(type(value)).encode())
        if isinstance(value, _np.ndarray):
            digest.update(repr((value.dtype.str, value.shape)).encode())
            digest.update(_np.ascontiguousarray(value).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def _source_digest(reference):
    try:
        return hashlib.sha1(inspect.getsource(reference).encode()).hexdigest()
    except (OSError, TypeError):
        return ""


def reference_value(reference, case):
    """``reference(*case.args)`` for a module-level reference, computed once and kept.

    Seeded cases are the same for every student, so a class is checked against one set of Keras runs: kept in
    this process and, when ``CONVCOURSE_REFERENCE_CACHE`` names a folder (the grading folder's), on disk for the
    other grading processes and later runs (keyed by the reference's source and the case's exact values).
    """
    if not _module_level(reference):
        return reference(*_copies(case))
    return _kept_value(_call_key(reference, case.args), lambda: reference(*_copies(case)))


def cached_reference(identity, key_args, compute):
    """``compute()``, kept like :func:`reference_value`'s values under ``identity`` (a string naming what is computed
    and the code that computes it) and the exact values of ``key_args``: for references whose arguments are not
    plain values (a model given as its config and weights, by its digest)."""
    return _kept_value(_digest_call(identity, key_args), compute)


def _kept_value(key, compute):
    if key in _REFERENCE_CACHE:
        return _REFERENCE_CACHE[key]
    folder = os.environ.get("CONVCOURSE_REFERENCE_CACHE")
    value = cached_on_disk(folder, key) if folder else None
    if value is None:
        value = compute()
        if folder:
            keep_on_disk(folder, key, value)
    _REFERENCE_CACHE[key] = value
    return value


def solution_value(reference, args):
    """``reference(*args)`` where ``args`` hold what a student's function returned (a kernel to run in Keras): kept,
    as :func:`reference_value` keeps a reference, only while the instructor's solution runs
    (:mod:`convcourse.grader.precompute`); when grading, read from the cache where the solution returned exactly the
    same and otherwise computed, never kept, as a stand-in's answer (:func:`stand_in_value`): one submission must not
    fill the folder the class reads."""
    if computing_ahead():
        return reference_value(reference, Case(names=(), args=tuple(args)))
    return stand_in_value(reference, args)


def stand_in_value(reference, args, before_computing=lambda: None):
    """``reference(*args)`` for a stand-in (a graded helper the kernel asked the grader to answer): read from the
    reference cache when the instructor's solution made the very same call while the references were computed
    (:mod:`convcourse.grader.precompute`), else computed here, ``before_computing()`` first. Never written to the
    cache: the arguments are the kernel's choice, and one submission must not fill the folder the class reads."""
    folder = os.environ.get("CONVCOURSE_REFERENCE_CACHE")
    kept = cached_on_disk(folder, _call_key(reference, args)) if folder and _module_level(reference) else None
    if kept is not None:
        return kept
    before_computing()
    return reference(*args)


def _module_level(reference):
    """Is ``reference`` a function of a module (which keys the cache by name and source), not a local or lambda?"""
    qualname = getattr(reference, "__qualname__", "<locals>")
    return "<locals>" not in qualname and "<lambda>" not in qualname


#: Set by :mod:`convcourse.grader.precompute`: each check then also runs every known mistake on every case.
_MISTAKES_AHEAD = [False]


def computing_ahead():
    """Is this process computing the references of an assignment (:mod:`convcourse.grader.precompute`), running the
    instructor's solution, whose results alone may be kept for the class?"""
    return _MISTAKES_AHEAD[0]


def compute_mistakes_ahead():
    """From now on in this process, each check also computes what every known mistake gives on every case, into
    the reference cache (:func:`mistake_value`): grading then names a student's mistake without running Keras."""
    _MISTAKES_AHEAD[0] = True


def _compute_mistakes(cases, mistakes):
    for case in cases:
        for mistaken in mistakes.values():
            try:
                mistake_value(mistaken, case)
            except Exception:  # noqa: BLE001, S110 (a mistake that does not apply to a case has no value to keep)
                pass


def mistake_value(mistaken, case):
    """``mistaken(*case.args)``: what a known mistake gives on a seeded case, kept in the reference cache like a
    reference (it is the catalogue's code on the test's own case, never the student's), so that naming a student's
    mistake needs no Keras once :mod:`convcourse.grader.precompute` has run it."""
    identity = _function_identity(mistaken)
    folder = os.environ.get("CONVCOURSE_REFERENCE_CACHE")
    if identity is None or not folder:
        return mistaken(*_copies(case))
    key = _digest_call(repr(("mistake", identity)), case.args)
    kept = cached_on_disk(folder, key)
    if kept is not None:
        return kept
    value = mistaken(*_copies(case))
    if value is not None:
        keep_on_disk(folder, key, value)
    return value


def _function_identity(function, depth=0):
    """What decides ``function``'s result besides its arguments: its module's source, its name and code there (two
    lambdas of one catalogue share a name), its defaults and, for a closure, what it closed over (functions, the
    same way; plain values by ``repr``); ``None`` where that cannot be told (a function defined in a notebook, a
    closure or default of any other kind)."""
    code = getattr(function, "__code__", None)
    module = getattr(function, "__module__", None)
    source_digest = module_digest(module) if code is not None and module else None
    if source_digest is None or depth > 3:
        return None
    constants = [c for c in code.co_consts if c is None or type(c) in (bool, int, float, str, tuple)]
    parts = [module, function.__qualname__, source_digest, module_digest("convcourse.grader.oracle"),
             code.co_firstlineno, code.co_code.hex(), code.co_names, repr(constants)]
    closed = [cell.cell_contents for cell in function.__closure__ or ()]
    keywords = [part for item in sorted((function.__kwdefaults__ or {}).items()) for part in item]
    for value in closed + list(function.__defaults__ or ()) + keywords:
        if _plain(value) or (type(value) is tuple and all(_plain(item) for item in value)):
            parts.append(repr(value))
        elif hasattr(value, "__code__"):
            inner = _function_identity(value, depth + 1)
            if inner is None:
                return None
            parts.append(inner)
        else:
            return None
    return repr(parts)


def _plain(value):
    return value is None or type(value) in (bool, int, float, str)


@functools.lru_cache(maxsize=None)
def module_digest(name):
    """The digest of the source of the imported module ``name`` (``None`` where it has none to read)."""
    module = sys.modules.get(name)
    try:
        return hashlib.sha1(inspect.getsource(module).encode()).hexdigest()
    except (OSError, TypeError):
        return None


def cached_on_disk(folder, key):
    """The value kept under ``key``: an array, a number, a tuple of ints (kept as ``<key>-tuple.npy``) or a tuple
    of arrays (``<key>-arrays.npz``)."""
    for suffix in ("", "-tuple"):
        value = _kept(folder, f"{key}{suffix}.npy")
        if value is not None:
            if suffix:
                return _builtins.tuple(int(v) for v in value)
            return value[()] if value.ndim == 0 else value
    return _kept(folder, f"{key}-arrays.npz")


#: The reference cache as a batch's fork server read it: ``{(folder, file name): contents}``.
_PRELOADED = {}
PRELOAD_LIMIT_BYTES = 64 * 1024 * 1024


def preload_reference_cache():
    """Read the whole reference cache into this process, the fork server of a grading batch, when it holds at most
    :data:`PRELOAD_LIMIT_BYTES`: each worker forked from it then finds the references, the known mistakes' values
    and the stand-ins' answers in memory instead of opening hundreds of files (01: about 700). Files are never
    rewritten (a key names its contents), so what was read stays right; one added later is read from disk."""
    folder = os.environ.get("CONVCOURSE_REFERENCE_CACHE")
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name.endswith((".npy", ".npz"))
                   and ".tmp" not in entry.name] if folder else []
        if sum(entry.stat().st_size for entry in entries) > PRELOAD_LIMIT_BYTES:
            return
        contents = {(folder, entry.name): _read_kept(entry.path) for entry in entries}
    except (OSError, ValueError):  # a cache being written or removed meanwhile: the workers read the disk
        return
    _PRELOADED.update(contents)


def _kept(folder, name):
    """The contents of the kept file ``name`` (a copy: a check may change what it is given), or ``None``."""
    preloaded = _PRELOADED.get((folder, name))
    if preloaded is not None:
        return _builtins.tuple(a.copy() for a in preloaded) if isinstance(preloaded, _builtins.tuple) \
            else preloaded.copy()
    path = os.path.join(folder, name)
    return _read_kept(path) if os.path.exists(path) else None


def _read_kept(path):
    if path.endswith(".npz"):
        with _np.load(path, allow_pickle=False) as kept:
            return _builtins.tuple(kept[f"a{i}"] for i in range(len(kept.files)))
    return _np.load(path, allow_pickle=False)


def keep_on_disk(folder, key, value):
    """Keep ``value`` under ``key`` for every grading process; values of other kinds than those
    :func:`cached_on_disk` reads are not kept."""
    if isinstance(value, _builtins.tuple) and value and all(type(v) is _np.ndarray for v in value):
        _write_whole(os.path.join(folder, f"{key}-arrays.npz"),
                     lambda partial: _np.savez(partial, **{f"a{i}": v for i, v in enumerate(value)}))
        return
    if isinstance(value, _builtins.tuple) and all(
            isinstance(v, (int, _np.integer)) and not isinstance(v, bool) for v in value):
        suffix, kept = "-tuple", _np.asarray(value, dtype=_np.int64)
    elif isinstance(value, (_np.ndarray, int, float, _np.integer)):
        suffix, kept = "", _np.asarray(value)
    else:
        return
    _write_whole(os.path.join(folder, f"{key}{suffix}.npy"),
                 lambda partial: _np.save(partial, kept, allow_pickle=False))


def _write_whole(path, write):
    """``write(partial)`` beside ``path``, then renamed into place: another process reads the whole file or none."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.{os.getpid()}.tmp{os.path.splitext(path)[1]}"
    write(partial)
    os.replace(partial, path)


def reference_values(reference, cases):
    """Every case's reference value, computed before the student's function is called at all."""
    return [reference_value(reference, case) for case in cases]


def check_against_reference(function, cases, reference, mistakes=None):
    """Require ``function(*case.args)`` to match ``reference(*case.args)`` for every case.

    ``reference`` is a Keras-backed function (:mod:`convcourse.grader.oracle`); ``mistakes`` maps a
    description ("the kernel is flipped") to the reference computed with that mistake.
    """
    references = reference_values(reference, cases)

    def judge(actual, expected):
        return array_difference(actual, _np.asarray(expected, dtype=_np.float64))

    return check_each(function, cases, references, judge, mistakes)


def _integer_problem(actual, expected):
    if isinstance(actual, bool) or not isinstance(actual, (int, _np.integer)):
        return f"it returned {actual!r} of type {type(actual).__name__}; return an int"
    if int(actual) != expected:
        return f"it returned {int(actual)}, Keras gives {expected}"
    return None


def check_integer_results(function, cases, reference, mistakes=None):
    """Require ``function(*case.args)`` to return the integer ``reference(*case.args)`` for every case;
    ``mistakes`` maps a description to the integer that mistake gives (or ``None`` where it gives the right one)."""
    return check_each(function, cases, reference_values(reference, cases), _integer_problem, mistakes)


def _pair_problem(actual, expected):
    values = tuple(actual) if isinstance(actual, (tuple, list, _np.ndarray)) and getattr(actual, "ndim", 1) == 1 else ()
    if len(values) != len(expected) or not all(
            isinstance(v, (int, _np.integer)) and not isinstance(v, bool) for v in values):
        return f"it returned {actual!r}; return a tuple of {len(expected)} ints"
    values = tuple(int(v) for v in values)
    if values != tuple(expected):
        return f"it returned {values}, Keras gives {tuple(expected)}"
    return None


def check_int_tuples(function, cases, reference, mistakes=None):
    """Require ``function(*case.args)`` to return the tuple of ints ``reference(*case.args)`` for every case
    (a list or a 1-D integer array of the same ints is accepted too)."""
    return check_each(function, cases, reference_values(reference, cases), _pair_problem, mistakes)


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
    except (AssertionError, KernelCallFailed):
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


