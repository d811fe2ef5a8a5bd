"""A new course's gradebook is a copy of the empty one nbgrader makes, made once: the same as nbgrader's own."""

import sqlite3
import subprocess

import pytest

from convcourse.grader import gradebook, grading

ASSIGNMENT = "01_cross_correlation"


def _contents(course):
    with sqlite3.connect(gradebook.course_gradebook(course)) as database:
        tables = sorted(database.execute("SELECT type, name, sql FROM sqlite_master"))
        counts = {name: database.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                  for kind, name, _ in tables if kind == "table"}
        return {
            "schema": tables,
            "rows": counts,
            "alembic": database.execute("SELECT version_num FROM alembic_version").fetchall(),
            "courses": sorted(database.execute("SELECT id FROM course")),
            "grade cells": sorted(database.execute(
                "SELECT base_cell.name, max_score FROM grade_cells JOIN base_cell USING (id)")),
        }


def test_a_new_course_gets_the_gradebook_nbgrader_would_make(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    copied = grading.prepare_course(tmp_path / "copied", [ASSIGNMENT])
    made = grading.prepare_course(tmp_path / "made", [ASSIGNMENT])
    gradebook.course_gradebook(made).unlink()  # nbgrader makes this one, asking alembic for its version
    for course in (copied, made):
        grading.nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert _contents(copied) == _contents(made)
    assert _contents(copied)["alembic"] and _contents(copied)["grade cells"]


def test_the_empty_gradebook_is_made_once(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    environment = grading.nbgrader_environment(tmp_path)
    first = gradebook.empty_gradebook(environment)

    def refused(*args, **kwargs):
        raise AssertionError("the empty gradebook was made again")

    monkeypatch.setattr(subprocess, "run", refused)
    assert gradebook.empty_gradebook(environment) == first
    grading.prepare_course(tmp_path / "course", [ASSIGNMENT])
    assert gradebook.course_gradebook(tmp_path / "course").read_bytes() == first.read_bytes()


@pytest.mark.parametrize("existing", [b"a gradebook with grades"])
def test_a_course_that_has_a_gradebook_keeps_it(tmp_path, monkeypatch, existing):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    target = gradebook.course_gradebook(tmp_path / "course")
    target.parent.mkdir(parents=True)
    target.write_bytes(existing)
    grading.prepare_course(tmp_path / "course", [ASSIGNMENT])
    assert target.read_bytes() == existing


def test_without_a_cache_folder_nbgrader_makes_the_gradebook(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    course = grading.prepare_course(tmp_path / "course", [ASSIGNMENT])
    assert not gradebook.course_gradebook(course).exists()
    grading.nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert _contents(course)["alembic"] and _contents(course)["grade cells"]
