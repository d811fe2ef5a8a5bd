"""The Celery app and its one task, :func:`grade_submission`: one student's submission, graded on this worker.

A worker needs this checkout (its ``solutions/`` and ``exercises/``), the kernel runtimes and the sandbox
(``make worker-machine``), and ``CONVCOURSE_SERVICE``; nothing else is shared with other machines. Start one with
``make worker`` (``celery -A convcourse.grader.service.tasks worker``). Each task grades in a working course
folder of its own under ``CONVCOURSE_WORKER_DIR`` (default: the system's temporary folder), with nbgrader's own
``autograde`` and ``generate_feedback`` for that one student (:func:`convcourse.grader.grading.autograde`), its
grades going straight into the PostgreSQL gradebook; the folder is removed afterwards.

Nothing is lost, nothing is counted twice (Celery's guidance for such tasks): a message is acknowledged only once
its task has finished (``acks_late``), and given back to the queue when the worker running it dies
(``task_reject_on_worker_lost``; a worker machine that vanishes whole gets its messages redelivered after the
broker's visibility timeout, ``CONVCOURSE_VISIBILITY_TIMEOUT``, default 3600 s, longer than any notebook may
run). A submission is one row (:mod:`.store`) and one nbgrader submission whatever the number of deliveries: a
delivery that finds it graded returns the stored result. A grading that fails is tried again, with growing
pauses, ``CONVCOURSE_GRADING_ATTEMPTS`` times (default 4) in all; then the submission ends ``failed`` with the
reason.
"""

import os
import shutil
import socket
import tempfile
import threading
import uuid
from pathlib import Path

from celery import Celery, signals

from convcourse.grader import grading
from convcourse.grader.service import settings, store

COURSE_ID = "convolutions-by-hand"

app = Celery("convcourse")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # a worker takes a submission only when a process is free for it
    task_serializer="json", result_serializer="json", accept_content=["json"],
    result_expires=7 * 24 * 3600,
    task_track_started=True, worker_send_task_events=True, task_send_sent_event=True,  # for Flower / events
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=None,  # a broker restart delays the workers, it does not stop them
    task_publish_retry_policy={"max_retries": 60, "interval_start": 0.5, "interval_step": 0.5, "interval_max": 5},
    task_default_queue="convcourse-grading",
)
_configured_for = [None]


def configure():
    """Point the app at ``CONVCOURSE_SERVICE``'s broker (again, if the setting changed since it was last used)."""
    if not settings.configured() or _configured_for[0] == os.environ[settings.VARIABLE]:
        return
    if _configured_for[0] is not None:
        app.close()  # connections to the broker named before
        app._local = threading.local()  # its result backend, kept per thread
    app.conf.update(
        broker_url=settings.broker_url(), result_backend=settings.broker_url(),
        broker_transport_options={
            "visibility_timeout": int(os.environ.get("CONVCOURSE_VISIBILITY_TIMEOUT", 3600)),
            "unacked_restore_interval": 10, "unacked_restore_throttle": 1,
        },
    )
    _configured_for[0] = os.environ[settings.VARIABLE]


configure()  # a worker: the setting is in its environment when Celery imports this module


def _attempts():
    return int(os.environ.get("CONVCOURSE_GRADING_ATTEMPTS", 4))


@signals.worker_init.connect
def _refuse_without_isolation(**_):
    from convcourse.grader.sandbox import isolation_problems, unsafe_mode

    problems = [] if unsafe_mode() else isolation_problems()
    if problems:
        raise SystemExit("Refusing to grade: student code would run without isolation: " + "; ".join(problems)
                         + ". Prepare this machine with 'make worker-machine' (see the README).")
    store.engine()


def _working_folder():
    base = Path(os.environ.get("CONVCOURSE_WORKER_DIR") or tempfile.gettempdir()) / "convcourse-worker"
    (base / "tasks").mkdir(parents=True, exist_ok=True)
    # The Keras references of the hidden tests: computed once per worker machine, reused by every task.
    os.environ.setdefault("CONVCOURSE_REFERENCE_CACHE", str(base / "reference-cache"))
    return base


def grade_here(submission):
    """Grade ``submission`` (the task's payload) in a course folder of its own; return what the task returns."""
    from convcourse.grader import classroom

    assignment, student = submission["assignment"], submission["student"]
    course = Path(tempfile.mkdtemp(prefix=f"{student}-{assignment}-", dir=_working_folder() / "tasks"))
    try:
        grading.prepare_course(course, [assignment])
        shutil.copytree(grading.REPO_ROOT / "exercises" / assignment, course / "exercises" / assignment)
        folder = grading.submission_path(course, assignment, student).parent
        folder.mkdir(parents=True)
        (folder / f"{submission['notebook_id']}.ipynb").write_text(submission["notebook"], encoding="utf-8")
        (folder / "timestamp.txt").write_text(submission["timestamp"])
        notes = classroom.tidy_submission(course, assignment, student)
        log = grading.autograde(course, assignment, [student], workers=1)
        if not grading.autograded_path(course, assignment, student).exists():
            raise RuntimeError(f"nbgrader could not grade the notebook:\n{log[-3000:]}")
        incidents, _ = classroom._incidents(course, assignment, student)
        _generate_feedback(course, assignment, student)
        cells = grading.scores(course, assignment, [student]).get(student, {})
        page = course / ".grading" / "feedback" / student / assignment / f"{assignment}.html"
        return {
            "score": sum(score for score, _ in cells.values()),
            "max_score": sum(top for _, top in cells.values()),
            "cells": cells,
            "notes": notes + incidents,
            "autograded": grading.autograded_path(course, assignment, student).read_text(encoding="utf-8"),
            "feedback": page.read_text(encoding="utf-8"),
        }
    finally:
        shutil.rmtree(course, ignore_errors=True)


def _generate_feedback(course, assignment, student):
    """nbgrader's ``generate_feedback`` for one student, with the course's configuration, in this process: no
    student code runs there, and a second nbgrader process per task would cost seconds of imports."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    saved = dict(os.environ)
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        directory = CourseDirectory(config=config, assignment_id=assignment, student_id=student)
        converter = GenerateFeedback(coursedir=directory, config=config)
        converter.force = True
        converter.start()
    finally:  # the configuration file sets variables for its own grading folder
        os.environ.clear()
        os.environ.update(saved)


def _result(row, **extra):
    keys = ("id", "student", "assignment", "status", "reason", "score", "max_score", "autograded", "feedback")
    return dict({key: row.get(key) for key in keys}, **extra)


@app.task(bind=True, name="convcourse.grade_submission", max_retries=None)
def grade_submission(self, submission):
    """Grade one submission: ``{"id", "student", "assignment", "notebook_id", "timestamp", "notebook"}`` (the
    notebook as text). Returns its row: state, score, the autograded notebook and the feedback page."""
    from convcourse.grader.sandbox import destroy_boxes_of_run

    worker = self.request.hostname or socket.gethostname()
    row = store.start(submission["id"], worker)
    if row is None:
        raise ValueError(f"submission {submission['id']} is not recorded; enqueue it with the service's client")
    if row["status"] == "graded":
        return _result(row)
    run = os.environ["CONVCOURSE_RUN_ID"] = f"task-{uuid.uuid4().hex[:12]}"
    try:
        graded = grade_here(submission)
    except Exception as error:
        reason = f"{type(error).__name__}: {str(error)[-1500:]}"
        final = self.request.retries + 1 >= _attempts()
        store.failed(submission["id"], reason, final)
        if final:
            return _result(store.get(submission["id"]))
        raise self.retry(exc=error, countdown=min(60, 5 * 2 ** self.request.retries))
    finally:
        destroy_boxes_of_run(run)
        del os.environ["CONVCOURSE_RUN_ID"]
    reason = "; ".join(graded["notes"]) or None
    store.finish(submission["id"], graded["score"], graded["max_score"], graded["autograded"], graded["feedback"],
                 reason)
    return _result(store.get(submission["id"]))


def live_workers(timeout=3.0):
    """The names of the workers that answer a ping now."""
    configure()
    answers = app.control.ping(timeout=timeout) or []
    return {name for answer in answers for name in answer}


def send(row):
    """Put the grading of ``row`` (a recorded submission, see :mod:`.store`) on the queue. The notebook travels
    as text (bytes that are not UTF-8 are replaced; tidying then grades a broken file as the untouched release,
    with the reason)."""
    configure()
    payload = {key: row[key] for key in ("id", "student", "assignment", "notebook_id", "timestamp")}
    grade_submission.apply_async(args=[dict(payload, notebook=row["notebook"].decode("utf-8", errors="replace"))])
