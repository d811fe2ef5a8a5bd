"""The service's record of every submission it was given, in the gradebook's PostgreSQL database.

One row per submission (its id is a hash of what was submitted, so the same submission enqueued or delivered
twice is one row): who, which assignment, when, its state (``queued``, ``running``, ``graded``, ``failed``,
``over_quota``, ``late``) and the reason of a failure, how often a worker started it and how often a grading
completed, the score, the autograded notebook and the feedback page, and when that page was released to the
student. nbgrader's
own tables, in the same database, hold the grades cell by cell as they always do.

Every call survives a database restart: it is retried, with a pause, for up to ``CONVCOURSE_DB_PATIENCE`` seconds
(default 300), so a restart delays the service and loses nothing.
"""

import functools
import hashlib
import os
import time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from convcourse.grader.service import settings

STATES = ("queued", "running", "graded", "failed", "over_quota", "late")

metadata = sa.MetaData()
submissions = sa.Table(
    "convcourse_submissions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("purpose", sa.String(16), nullable=False),  # "submit" (graded on submission) or "final"
    sa.Column("student", sa.String(256), nullable=False),
    sa.Column("assignment", sa.String(256), nullable=False),
    sa.Column("notebook_id", sa.String(256), nullable=False),
    sa.Column("timestamp", sa.String(64), nullable=False),  # nbgrader's, as the student's submission has it
    sa.Column("day", sa.String(10), nullable=False),  # UTC day it reached the service, for the quota
    sa.Column("inbound", sa.String(1024), unique=True),  # the exchange's folder name, when it came from one
    sa.Column("secret", sa.String(256)),  # nbgrader's submission secret: names the feedback page in the exchange
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("deliveries", sa.Integer, nullable=False, default=0),
    sa.Column("gradings", sa.Integer, nullable=False, default=0),
    sa.Column("worker", sa.String(256)),
    sa.Column("score", sa.Float),
    sa.Column("max_score", sa.Float),
    sa.Column("notebook", sa.LargeBinary, nullable=False),
    sa.Column("autograded", sa.Text),
    sa.Column("feedback", sa.Text),
    sa.Column("submitted_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("graded_at", sa.Float),
    sa.Column("released_at", sa.Float),
)
sa.Index("convcourse_submissions_quota", submissions.c.student, submissions.c.assignment, submissions.c.day)


def submission_id(purpose, student, assignment, timestamp, notebook, batch=""):
    digest = hashlib.sha256()
    for part in (purpose, batch, student, assignment, timestamp):
        digest.update(part.encode() + b"\0")
    digest.update(notebook)
    return digest.hexdigest()


def _patience():
    return float(os.environ.get("CONVCOURSE_DB_PATIENCE", 300))


def patient(function):
    """Retry ``function`` while the database cannot be reached (a restart, a network blip)."""
    @functools.wraps(function)
    def retried(*args, **kwargs):
        deadline = time.monotonic() + _patience()
        pause = 0.5
        while True:
            try:
                return function(*args, **kwargs)
            except (sa.exc.OperationalError, sa.exc.InterfaceError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 5)
    return retried


# Any 64-bit number that no other user of the database locks: the service's table is created under it.
_SCHEMA_LOCK = 0x636F6E76636F7572  # "convcour"


@functools.lru_cache(maxsize=None)
def _engine(url):
    """The engine of ``url``, its table created once per process. Processes that start together (the watcher,
    the workers, the instructor's client) would each see no table and race to create it, and all but one fail
    with DuplicateTable: the check and the creation happen under a lock that the database holds until the
    transaction ends. Not cached when it fails (the database was down): the next call tries again."""
    handle = sa.create_engine(url, pool_pre_ping=True, future=True)
    try:
        with handle.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            metadata.create_all(connection, checkfirst=True)
    except BaseException:
        handle.dispose()
        raise
    return handle


@patient
def engine():
    """The database's engine, its table created on first use."""
    return _engine(settings.database_url())


@patient
def add(row):
    """Record a new submission (``row`` without the counters); ``False`` when it was already recorded."""
    values = dict(deliveries=0, gradings=0, submitted_at=time.time(), **row)
    values.setdefault("day", time.strftime("%Y-%m-%d", time.gmtime(values["submitted_at"])))
    with engine().begin() as connection:
        inserted = connection.execute(insert(submissions).values(**values).on_conflict_do_nothing())
        return inserted.rowcount == 1


@patient
def get(identifier):
    with engine().connect() as connection:
        row = connection.execute(sa.select(submissions).where(submissions.c.id == identifier)).mappings().first()
        return dict(row) if row else None


@patient
def known_inbound():
    with engine().connect() as connection:
        return {name for (name,) in connection.execute(
            sa.select(submissions.c.inbound).where(submissions.c.inbound.is_not(None)))}


@patient
def quota_used(student, assignment, day):
    """Submissions of ``student`` for ``assignment`` accepted for grading on ``day``."""
    with engine().connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(submissions).where(
            submissions.c.purpose == "submit", submissions.c.student == student,
            submissions.c.assignment == assignment, submissions.c.day == day,
            submissions.c.status.not_in(("over_quota", "late")))).scalar_one()


@patient
def start(identifier, worker):
    """A worker begins ``identifier``: its row, after counting the delivery (``None`` if it is not recorded)."""
    with engine().begin() as connection:
        row = connection.execute(sa.select(submissions).where(submissions.c.id == identifier)
                                 .with_for_update()).mappings().first()
        if row is None or row["status"] == "graded":
            return dict(row) if row else None
        connection.execute(submissions.update().where(submissions.c.id == identifier).values(
            status="running", worker=worker, started_at=time.time(), deliveries=submissions.c.deliveries + 1))
        return dict(row, status="running")


@patient
def finish(identifier, score, max_score, autograded, feedback, reason=None):
    """Store a completed grading. A submission already graded keeps its first record (a redelivered task)."""
    with engine().begin() as connection:
        connection.execute(submissions.update().where(submissions.c.id == identifier).values(
            gradings=submissions.c.gradings + 1))
        connection.execute(submissions.update().where(
            submissions.c.id == identifier, submissions.c.status != "graded").values(
            status="graded", score=score, max_score=max_score, autograded=autograded, feedback=feedback,
            reason=reason, graded_at=time.time()))


@patient
def failed(identifier, reason, final):
    """A grading attempt failed: the reason is kept; ``final`` ends the submission as ``failed``."""
    with engine().begin() as connection:
        connection.execute(submissions.update().where(
            submissions.c.id == identifier, submissions.c.status != "graded").values(
            status="failed" if final else "queued", reason=reason))


@patient
def rows(**where):
    """The rows matching ``where`` (column=value; a tuple value means any of these), oldest first."""
    query = sa.select(submissions).order_by(submissions.c.submitted_at)
    for column, value in where.items():
        column = submissions.c[column]
        query = query.where(column.in_(value) if isinstance(value, tuple) else column == value)
    with engine().connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


@patient
def to_release():
    """Rows from the exchange whose page (feedback, or the notice of the quota or the due date) is not yet in it."""
    with engine().connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(
            submissions.c.id, submissions.c.student, submissions.c.notebook_id, submissions.c.secret,
            submissions.c.feedback, submissions.c.submitted_at).where(
            submissions.c.status.in_(("graded", "over_quota", "late")), submissions.c.secret.is_not(None),
            submissions.c.feedback.is_not(None), submissions.c.released_at.is_(None))).mappings()]


@patient
def released(identifier):
    with engine().begin() as connection:
        connection.execute(submissions.update().where(submissions.c.id == identifier).values(
            released_at=time.time()))


@patient
def counts(assignment=None):
    """``{state: number}`` of every state, for ``assignment`` or all."""
    query = sa.select(submissions.c.status, sa.func.count()).group_by(submissions.c.status)
    if assignment:
        query = query.where(submissions.c.assignment == assignment)
    with engine().connect() as connection:
        found = dict(connection.execute(query).all())
    return {state: found.get(state, 0) for state in STATES}
