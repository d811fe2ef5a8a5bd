"""The submissions every assignment is graded with: the solution, the untouched release, and the corpus
of wrong and of differently-written correct implementations in ``tests/submissions/NN_name/``.

A file ``wrong/<function>__<mistake>.py`` (or ``correct/<function>__<style>.py``) is the whole answer cell
for ``<function>``. Files for *different* functions share a notebook ("pack"): pack k holds the k-th file of
every function, so one autograde run tests several independent answers at once, and the other answer cells
keep the solution. A wrong file whose first line is ``# grade alone`` (it changes something global, such as
NumPy itself) gets a notebook of its own. A wrong file may name, in a first-line comment
``# also fails: test_a, test_b``, test cells of other functions that call the wrong one.

A *folder* ``wrong/<function>__<mistake>/`` holds several answer cells, ``<name>.py`` each: the wrong
``<function>`` and correct functions that call it. It is graded alone, and the grader must charge the mistake to
``<function>`` only (while another function is tested, calls to an already graded one get the correct answer).
"""

import collections
import dataclasses
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUBMISSIONS = REPO / "tests" / "submissions"
ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir() and p.name[:2].isdigit())


@dataclasses.dataclass(frozen=True)
class Submission:
    """One corpus file (or the solution, or the release) and the student notebook it is graded in."""

    assignment: str
    student: str
    kind: str  # "solution", "release", "wrong" or "correct"
    name: str = ""
    function: str = ""
    source: str = ""
    also_fails: tuple = ()
    callers: tuple = ()  # ((function, source), ...): correct answers that call the wrong function

    def __str__(self):
        return f"{self.assignment}/{self.name or self.student}"


def _directives(source):
    first = source.splitlines()[0] if source else ""
    also = ()
    if first.startswith("# also fails:"):
        also = tuple(name.strip() for name in first.split(":", 1)[1].split(",") if name.strip())
    return also, first.strip() == "# grade alone"


def corpus(assignment):
    """Every submission of ``assignment``, each with the student (notebook) it is graded in."""
    submissions = [Submission(assignment, "solution", "solution"), Submission(assignment, "release", "release")]
    for kind in ("wrong", "correct"):
        by_function, alone = collections.defaultdict(list), []
        for path in sorted((SUBMISSIONS / assignment / kind).glob("*.py")):
            function = path.stem.split("__")[0]
            source = path.read_text()
            also_fails, grade_alone = _directives(source)
            entry = (path.stem, function, source, also_fails)
            if grade_alone:
                alone.append(entry)
            else:
                by_function[function].append(entry)
        for entries in by_function.values():
            for pack, (name, function, source, also_fails) in enumerate(entries, start=1):
                submissions.append(Submission(assignment, f"{kind}-pack-{pack}", kind, name, function, source, also_fails))
        for name, function, source, also_fails in alone:
            student = f"{kind}-{name.replace('_', '-')}"
            submissions.append(Submission(assignment, student, kind, name, function, source, also_fails))
        for folder in sorted(p for p in (SUBMISSIONS / assignment / kind).glob("*__*") if p.is_dir()):
            function = folder.name.split("__")[0]
            cells = {path.stem: path.read_text() for path in sorted(folder.glob("*.py"))}
            student = f"{kind}-{folder.name.replace('_', '-')}"
            callers = tuple((f, s) for f, s in cells.items() if f != function)
            submissions.append(Submission(assignment, student, kind, folder.name, function, cells[function],
                                          callers=callers))
    return submissions


def notebooks(assignment):
    """``{student: {function: answer source}}`` of every notebook to grade (an empty dict: the solution)."""
    answers = collections.defaultdict(dict)
    for submission in corpus(assignment):
        answers[submission.student]
        if submission.function:
            answers[submission.student][submission.function] = submission.source
            answers[submission.student].update(submission.callers)
    return dict(answers)


def all_submissions(kind):
    return [s for assignment in ASSIGNMENTS for s in corpus(assignment) if s.kind == kind]


def owns(function, grade_id, functions):
    """Is ``grade_id`` one of ``function``'s test cells? (``test_conv2d_x`` is conv2d's, not conv2d_transpose's.)"""
    if not grade_id.startswith(f"test_{function}"):
        return False
    longer = [f for f in functions if f != function and f.startswith(function) and grade_id.startswith(f"test_{f}")]
    return not longer
