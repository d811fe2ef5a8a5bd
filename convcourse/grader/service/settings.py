"""The one setting that turns the grading service on: ``CONVCOURSE_SERVICE``, the broker's URL and the database's.

    CONVCOURSE_SERVICE="redis://10.0.0.5:6379/0 postgresql://grader:secret@10.0.0.5:5432/gradebook"

Unset, grading stays local (SQLite gradebook in ``.grading/``, processes on this machine).
"""

import os
from pathlib import Path

VARIABLE = "CONVCOURSE_SERVICE"


class ServiceSetting(ValueError):
    """``CONVCOURSE_SERVICE`` is set but does not name a Redis broker and a PostgreSQL database."""


def configured():
    return bool(os.environ.get(VARIABLE, "").strip())


def _parts():
    parts = os.environ.get(VARIABLE, "").split()
    brokers = [p for p in parts if p.startswith(("redis://", "rediss://"))]
    databases = [p for p in parts if p.startswith("postgresql")]
    if len(parts) != 2 or len(brokers) != 1 or len(databases) != 1:
        raise ServiceSetting(f"{VARIABLE} must be 'redis://HOST:PORT/N postgresql://USER@HOST:PORT/DB', "
                             f"got {os.environ.get(VARIABLE)!r}")
    return brokers[0], databases[0]


def broker_url():
    return _parts()[0]


def database_url():
    """The SQLAlchemy URL of the PostgreSQL database (nbgrader's gradebook and the service's table)."""
    url = _parts()[1]
    return "postgresql+psycopg2://" + url.split("://", 1)[1] if url.startswith(("postgresql://", "postgres://")) \
        else url


def gradebook_url(course_root):
    """nbgrader's ``db_url``: the service's database when the service is on, the course's SQLite file otherwise."""
    if configured():
        return database_url()
    grading = os.environ.get("CONVCOURSE_GRADING_DIR") or os.path.join(course_root, ".grading")
    return "sqlite:///" + str(Path(grading) / "gradebook.db")


def daily_quota():
    """Graded submissions per student, assignment and day (``CONVCOURSE_DAILY_QUOTA``, default 3; 0: no limit)."""
    value = os.environ.get("CONVCOURSE_DAILY_QUOTA", "3")
    if not value.isdigit():
        raise ServiceSetting(f"CONVCOURSE_DAILY_QUOTA must be a whole number, got {value!r}")
    return int(value)
