"""Submitting through a JupyterHub exchange, end to end, with nbgrader's own commands on a local exchange folder:
the instructor releases, two students (alice, bob) fetch and submit, the instructor collects, autogrades,
generates and releases feedback, and each student fetches their own feedback, and only their own.

On a hub every student is a different Unix user, whose name nbgrader takes as the student id. Here all run as
one user, so each student's commands say who they are (``CourseDirectory.student_id``) and keep their own cache
(``Exchange.cache``, where nbgrader remembers what that student submitted), and collect does not compare the
submission's file owner with the student id (``ExchangeCollect.check_owner``). The students' configuration is
the hub image's (``kit/hub/nbgrader_config.py``), with the exchange moved to the test's folder."""

import re

import nbformat
import pytest
from corpus import REPO

from convcourse.grader import grading

pytestmark = pytest.mark.slow

ASSIGNMENT = "01_cross_correlation"


def _student_home(tmp_path, student, exchange):
    home = tmp_path / student
    home.mkdir()
    config = (REPO / "kit" / "hub" / "nbgrader_config.py").read_text()
    config += (f"c.Exchange.root = {str(exchange)!r}\n"
               f"c.Exchange.cache = {str(home / '.nbgrader_cache')!r}\n"
               f"c.CourseDirectory.student_id = {student!r}\n")
    (home / "nbgrader_config.py").write_text(config)
    return home


def test_release_fetch_submit_collect_autograde_feedback(tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    instructor = [f"--Exchange.root={exchange}"]
    course = grading.prepare_course(tmp_path / "course", [ASSIGNMENT])
    grading.generate_assignment(course, ASSIGNMENT)
    grading.nbgrader(course, "release_assignment", ASSIGNMENT, *instructor)

    answers = grading.solution_answers(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    # alice answers everything correctly; bob's conv2d forgets the bias (a mistake of the corpus).
    wrong = (REPO / "tests" / "submissions" / ASSIGNMENT / "wrong" / "conv2d__missing_bias.py").read_text()
    work = {"alice": answers, "bob": dict(answers, conv2d=wrong)}
    homes = {}
    for student, filled in work.items():
        home = homes[student] = _student_home(tmp_path, student, exchange)
        grading.nbgrader(home, "fetch_assignment", ASSIGNMENT)
        fetched = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert "YOUR CODE HERE" in fetched.read_text()
        nbformat.write(grading.student_notebook(fetched, filled), fetched)
        grading.nbgrader(home, "submit", ASSIGNMENT)
    inbound = sorted(p.name.split("+")[0] for p in (exchange / "convolutions-by-hand" / "inbound").iterdir())
    assert inbound == ["alice", "bob"]

    grading.nbgrader(course, "collect", ASSIGNMENT, *instructor, "--ExchangeCollect.check_owner=False")
    assert grading.submitted_students(course, ASSIGNMENT) == ["alice", "bob"]
    grading.nbgrader(course, "autograde", ASSIGNMENT, "--force")
    scores = grading.scores(course, ASSIGNMENT)
    total = {student: sum(score for score, _ in grades.values()) for student, grades in scores.items()}
    maximum = sum(top for _, top in scores["alice"].values())
    assert total["alice"] == maximum and total["bob"] < maximum, total
    grading.nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    grading.nbgrader(course, "release_feedback", ASSIGNMENT, *instructor)

    pages = {}
    for student, home in homes.items():
        grading.nbgrader(home, "fetch_feedback", ASSIGNMENT)
        found = list((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(found) == 1, f"{student} fetched {found}"
        pages[student] = found[0].read_text(encoding="utf-8")
    score = re.compile(r"<h1[^>]*>[^<]*: ([\d.]+) of\s+([\d.]+) points</h1>")
    assert score.search(pages["alice"]).groups() == (f"{maximum:.1f}", f"{maximum:.1f}")
    assert float(score.search(pages["bob"]).group(1)) == total["bob"]
    assert "BEGIN HIDDEN TESTS" not in pages["bob"]
