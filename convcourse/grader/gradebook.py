"""A new course's gradebook: a copy of the empty one nbgrader makes, made once per nbgrader and SQLAlchemy version.

nbgrader makes a course's gradebook the first time a command opens it, and asks ``alembic heads``, in an
interpreter of its own, for the schema's version: about 1.2 s of CPU for every new course (each class the tests
grade is one). The empty gradebook is made once by nbgrader's own code, kept in the user's cache folder, and
copied into each new course. The grading service's PostgreSQL gradebook is made by nbgrader, as before.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

# nbgrader's own code makes it: the tables, the alembic version, nothing else (a command opens it as nbgrader
# would have made it).
_MAKE = "import sys; from nbgrader.api import Gradebook; Gradebook('sqlite:///' + sys.argv[1]).close()"


def course_gradebook(course_root):
    return Path(course_root) / ".grading" / "gradebook.db"


def cache_folder():
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "convcourse"


def empty_gradebook(environment):
    """The path of the empty gradebook of this nbgrader and SQLAlchemy, made first if need be, by nbgrader's code
    run in ``environment`` (:func:`convcourse.grader.grading.nbgrader_environment`: it finds ``alembic`` there)."""
    folder = cache_folder()
    path = folder / f"gradebook-nbgrader-{version('nbgrader')}-sqlalchemy-{version('sqlalchemy')}.db"
    if path.exists():
        return path
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Made beside it, then renamed: a process that finds it finds it whole.
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        made = Path(scratch) / "gradebook.db"
        subprocess.run([sys.executable, "-c", _MAKE, str(made)], check=True, capture_output=True, cwd=scratch,
                       env=environment)
        os.replace(made, path)
    return path


def place_empty_gradebook(course_root, environment):
    """Give a new course (one with no gradebook yet) the empty gradebook, unless its gradebook is the service's."""
    from convcourse.grader.service import settings

    target = course_gradebook(course_root)
    if settings.configured() or target.exists():
        return
    try:
        empty = empty_gradebook(environment)
    except (OSError, subprocess.CalledProcessError):  # no cache folder to write to: nbgrader makes it, as before
        return
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(empty, target)
