"""The instructor's side: a class graded through the service, and what the service is doing.

:func:`grade_class` is what ``make autograde`` does when ``CONVCOURSE_SERVICE`` is set: every (tidied) submission
in ``.grading/submitted/`` goes on the queue as one task, and as results come in, each student's autograded
notebook and feedback page are written where nbgrader's own commands put them (``.grading/autograded/``,
``.grading/feedback/``); the grades are in the PostgreSQL gradebook, so ``make feedback``, ``make grades`` and
``make report`` work as they do locally. :func:`status` counts the states and lists the failures.
"""

import time
import uuid
from pathlib import Path

from convcourse.grader import grading
from convcourse.grader.service import intake, store


def grade_class(course_root, assignment, students, progress=None, poll=1.0):
    """Queue and wait for ``students``' submissions (final grading: always graded, no quota); return
    ``{student: row}``."""
    batch = uuid.uuid4().hex
    identifiers = {}
    for student in students:
        path = grading.submission_path(course_root, assignment, student)
        stamp = path.parent / "timestamp.txt"
        timestamp = stamp.read_text().strip() if stamp.exists() else ""
        row = intake.submit("final", student, assignment, path.read_bytes(), timestamp, batch=batch)
        identifiers[row["id"]] = student
    done = {}
    while len(done) < len(identifiers):
        for row in store.rows(id=tuple(identifiers), status=("graded", "failed")):
            student = identifiers[row["id"]]
            if student not in done:
                done[student] = row
                _write_results(course_root, assignment, student, row)
                if progress is not None:
                    progress(student, len(done), len(identifiers))
        if len(done) < len(identifiers):
            time.sleep(poll)
    return done


def _write_results(course_root, assignment, student, row):
    if row["status"] != "graded":
        return
    autograded = grading.autograded_path(course_root, assignment, student)
    autograded.parent.mkdir(parents=True, exist_ok=True)
    autograded.write_text(row["autograded"], encoding="utf-8")
    page = Path(course_root) / ".grading" / "feedback" / student / assignment / f"{assignment}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(row["feedback"], encoding="utf-8")


def status(assignment=None):
    """``(counts by state, [(student, assignment, reason)] of the failed)``."""
    failures = [(row["student"], row["assignment"], row["reason"])
                for row in store.rows(status="failed") if assignment in (None, row["assignment"])]
    return store.counts(assignment), failures
