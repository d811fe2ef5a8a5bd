"""The Keras references of an assignment's tests, computed once, before any of its notebooks is graded.

Seeded cases are the same for every student, so every reference a hidden test needs can be known in advance:
this runs the instructor's notebook from ``solutions/`` in a process of its own — its setup cells, its solutions,
then its test cells (hidden lines included) against those solutions — and every reference the checks ask for
lands in the reference cache (:func:`convcourse.grader.checks.reference_value`), with what every known mistake gives
on every case (to name a student's mistake) and the reference of every call a solution makes of a helper that
grading answers with a stand-in. Grading processes then read them from disk and never import TensorFlow for
them, however many workers share the class — a wrong submission included.

It runs when an assignment is released and again before a class is autograded; a marker named after the
instructor's notebook and the grading code makes the second run free when nothing changed. Nothing depends on
it for correctness: a reference not found in the cache is computed where it is needed, as before.

    python -m convcourse.grader.precompute COURSE_ROOT ASSIGNMENT
"""

import contextlib
import fcntl
import hashlib
import importlib
import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def cache_folder(course_root, environment=os.environ):
    """Where the references live: ``CONVCOURSE_REFERENCE_CACHE``, else the course's grading folder's cache (as
    ``environment`` names them)."""
    grading = environment.get("CONVCOURSE_GRADING_DIR") or os.path.join(course_root, ".grading")
    return environment.get("CONVCOURSE_REFERENCE_CACHE") or os.path.join(grading, "reference-cache")


def _marker(course_root, assignment, environment=os.environ):
    """The file that says this assignment's references are complete for this notebook and this grading code."""
    digest = hashlib.sha1()
    sources = [Path(course_root) / "solutions" / assignment / f"{assignment}.ipynb"]
    for part in ("grader", "student", f"assignments/a{assignment}"):
        sources += sorted((PACKAGE / part).glob("*.py"))
    for source in sources:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return Path(cache_folder(course_root, environment)) / f"complete-{assignment}-{digest.hexdigest()[:16]}"


def is_complete(course_root, assignment, environment=os.environ):
    return _marker(course_root, assignment, environment).exists()


def _cells(notebook):
    """The instructor's code cells in order, as ``(kind, grade_id, source)``: setup, solution or test."""
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            yield "solution", meta.get("grade_id"), cell.source
        elif meta.get("grade"):
            yield "test", meta.get("grade_id"), cell.source
        elif meta.get("locked"):
            yield "setup", meta.get("grade_id"), cell.source


def known_ahead(assignment, functions):
    """The graded functions whose tests' references depend on seeded cases alone: the assignment's references
    module lists them as ``KNOWN_AHEAD``; by default, every function but those that build Keras models (their
    tests judge the model a student returns, so there is nothing to compute before)."""
    references = importlib.import_module(f"convcourse.assignments.a{assignment}.references")
    builders = frozenset(getattr(references, "BUILDS_MODELS", ()))
    return frozenset(getattr(references, "KNOWN_AHEAD", (f for f in functions if f not in builders)))


def compute(course_root, assignment):
    """Run the instructor's notebook here (references into the cache); return the test cells that failed."""
    import nbformat

    from convcourse.grader.checks import compute_mistakes_ahead
    from convcourse.grader.execute import owner

    os.environ["CONVCOURSE_REFERENCE_CACHE"] = cache_folder(course_root)
    compute_mistakes_ahead()
    notebook = nbformat.read(Path(course_root) / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    cells = list(_cells(notebook))
    functions = [grade_id for kind, grade_id, _ in cells if kind == "solution"]
    ahead = known_ahead(assignment, functions)
    if not ahead:
        return []
    references = importlib.import_module(f"convcourse.assignments.a{assignment}.references")
    stand_ins, helpers = getattr(references, "STAND_INS", {}), getattr(references, "HELPERS", {})
    namespace = {"__name__": "__precompute__"}
    failed = []
    for kind, grade_id, source in cells:
        if kind == "test" and owner(grade_id, functions) not in ahead:
            continue
        called = helpers.get(owner(grade_id, functions), ()) if kind == "test" else ()
        try:
            with _stand_ins_recorded(namespace, {name: stand_ins[name] for name in called if name in stand_ins}):
                exec(compile(source, f"<{kind} cell {grade_id}>", "exec"), namespace)  # noqa: S102 (instructor code)
        except Exception as error:  # noqa: BLE001 (reported; the grading itself will show the same failure)
            failed.append(f"{grade_id}: {type(error).__name__}: {str(error)[:200]}")
    return failed


@contextlib.contextmanager
def _stand_ins_recorded(namespace, references):
    """While a caller's test runs, every call it makes of a helper that grading answers with a stand-in
    (``references``: helper name -> reference) also puts that call's reference in the cache, where
    :func:`convcourse.grader.checks.stand_in_value` finds it when a student's caller makes the same call: the
    grading process then imports no Keras for it."""
    from convcourse.grader.checks import reference_value
    from convcourse.student.case import Case

    def recording(name, helper):
        def call(*args, **keywords):
            if not keywords:  # a stand-in takes its arguments by position only
                try:
                    reference_value(references[name], Case(names=(), args=args))
                except Exception:  # noqa: BLE001, S110 (a call the reference refuses has no value to keep)
                    pass
            return helper(*args, **keywords)

        return call

    originals = {name: namespace[name] for name in references if name in namespace}
    namespace.update({name: recording(name, helper) for name, helper in originals.items()})
    try:
        yield
    finally:
        namespace.update(originals)


@contextlib.contextmanager
def _computing_alone(course_root, assignment):
    """Held while this assignment's references are computed into their cache: a second run for the same cache
    (another command, another class graded at the same time) waits for the first and then finds them complete,
    instead of computing them all again beside it."""
    folder = Path(cache_folder(course_root))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"computing-{assignment}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when this process ends
        yield


def main(argv=None):
    course_root, assignment = (argv or sys.argv[1:])[:2]
    marker = _marker(course_root, assignment)  # it hashes the grading code: once
    if marker.exists():
        return 0
    with _computing_alone(course_root, assignment):
        if marker.exists():
            return 0
        failed = compute(course_root, assignment)
        for line in failed:
            print(f"precompute {assignment}: the solution fails {line}", file=sys.stderr)
        if not failed:
            marker.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
