"""A kernel that fails to start is an incident for its own student and a retry, never a 0 for the next student.

The fault is injected at the tool boundary, with no hook in the course's code: a ``bwrap`` put first on ``PATH``
numbers every kernel launch of the class and fails the chosen ones as bubblewrap itself fails (a message on stderr,
exit status 1), and hands every other launch to the real bubblewrap.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from corpus import REPO

from convcourse.grader import classroom, grading
from convcourse.grader.sandbox import isolation_problems

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(isolation_problems()), reason="kernels start under bubblewrap only with the sandbox"),
]
ASSIGNMENT = "01_cross_correlation"
# One grading process, four notebooks, each in a worker of its own that boots its kernel once the notebook before
# has its kernel answering:
#   launch 1: a-first's kernel; launch 2: the kernel b-after-dead-spare's worker boots ahead, which dies at start;
#   launch 3: b's own kernel, started because the booted one was dead; launch 4: booted for c, dies too;
#   launch 5: c's own kernel, which fails as well: nbgrader cannot grade c-failed-start at all;
#   launch 6: d-next's kernel; c is graded again, alone, in a process of its own.
FAILING_LAUNCHES = (2, 4, 5)
STUDENTS = ("a-first", "b-after-dead-spare", "c-failed-start", "d-next")


@pytest.fixture
def failing_bubblewrap(monkeypatch):
    """A ``bwrap`` first on ``PATH`` that fails FAILING_LAUNCHES; returns the folder that counts launches."""
    real = shutil.which("bwrap")
    # Outside pytest's private temporary folder: the launcher runs bubblewrap as the sandbox user, who must reach it.
    folder = Path(tempfile.mkdtemp(prefix="convcourse-failing-bwrap-"))
    launches = folder / "launches"
    launches.mkdir()
    os.chmod(folder, 0o755)
    os.chmod(launches, 0o777)
    failing = "|".join(str(n) for n in FAILING_LAUNCHES)
    wrapper = folder / "bwrap"
    # mkdir is atomic: concurrent launches still get distinct numbers. The launcher clears the environment, so
    # every program is named by its full path.
    wrapper.write_text(f"""#!/bin/sh
n=1
while ! /bin/mkdir "{launches}/$n" 2>/dev/null; do n=$((n + 1)); done
case $n in {failing}) echo "bwrap: Creating new namespace failed: Resource temporarily unavailable" >&2; exit 1;; esac
exec {real} "$@"
""")
    os.chmod(wrapper, 0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    yield launches
    shutil.rmtree(folder, ignore_errors=True)


def test_a_kernel_that_fails_to_start_is_retried_for_its_student_alone(tmp_path, failing_bubblewrap):
    course = grading.prepare_course(tmp_path / "course", [ASSIGNMENT])
    release = grading.generate_assignment(course, ASSIGNMENT)
    answers = grading.solution_answers(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    for student in STUDENTS:
        grading.submit(course, ASSIGNMENT, student, grading.student_notebook(release, answers))

    outcome = classroom.autograde(course, ASSIGNMENT, workers=1)

    launches = sorted(int(p.name) for p in failing_bubblewrap.iterdir())
    assert set(FAILING_LAUNCHES) <= set(launches), f"the faults were not all injected: launches {launches}"
    for student in STUDENTS:
        result = outcome[student]
        assert result["max_score"] > 0 and result["score"] == result["max_score"], (student, result)
    retried = {s for s in STUDENTS if any("graded again, alone" in note for note in outcome[s]["notes"])}
    assert retried == {"c-failed-start"}, {s: outcome[s]["notes"] for s in STUDENTS}
