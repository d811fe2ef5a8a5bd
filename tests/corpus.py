"""The submissions every assignment is graded with: the solution, the untouched release, and the corpus
of wrong and of differently-written correct implementations in ``tests/submissions/NN_name/``.

A file ``wrong/<function>__<mistake>.py`` (or ``correct/<function>__<style>.py``) is the whole answer cell
for ``<function>``; the other answer cells keep the solution. A wrong file may name, in a first-line
comment ``# also fails: test_a, test_b``, test cells of other functions that call the wrong one.
"""

import dataclasses
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUBMISSIONS = REPO / "tests" / "submissions"
ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir() and p.name[:2].isdigit())


@dataclasses.dataclass(frozen=True)
class Submission:
    assignment: str
    student: str
    kind: str  # "solution", "release", "wrong" or "correct"
    function: str = ""
    source: str = ""
    also_fails: tuple = ()

    def __str__(self):
        return f"{self.assignment}/{self.student}"


def _also_fails(source):
    first = source.splitlines()[0] if source else ""
    if first.startswith("# also fails:"):
        return tuple(name.strip() for name in first.split(":", 1)[1].split(",") if name.strip())
    return ()


def corpus(assignment):
    submissions = [Submission(assignment, "solution", "solution"), Submission(assignment, "release", "release")]
    for kind in ("wrong", "correct"):
        for path in sorted((SUBMISSIONS / assignment / kind).glob("*.py")):
            function = path.stem.split("__")[0]
            source = path.read_text()
            submissions.append(Submission(assignment, f"{kind}-{path.stem.replace('_', '-')}", kind, function,
                                          source, _also_fails(source)))
    return submissions


def all_submissions(kind):
    return [s for assignment in ASSIGNMENTS for s in corpus(assignment) if s.kind == kind]


def owns(function, grade_id, functions):
    """Is ``grade_id`` one of ``function``'s test cells? (``test_conv2d_x`` is conv2d's, not conv2d_transpose's.)"""
    if not grade_id.startswith(f"test_{function}"):
        return False
    longer = [f for f in functions if f != function and f.startswith(function) and grade_id.startswith(f"test_{f}")]
    return not longer
