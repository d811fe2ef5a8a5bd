"""Every assignment through real nbgrader: the solution earns full marks, the release zero, the release in
``exercises/`` is what ``generate_assignment`` makes, every wrong implementation loses points on exactly its
own function, every differently-written correct one keeps full marks, and feedback shows no hidden test."""

import json
import re
import subprocess
import sys

import nbformat
import pytest

from convcourse import grading

from corpus import ASSIGNMENTS, REPO, all_submissions, owns

pytestmark = pytest.mark.slow


def _lost(scores):
    return {grade_id: score for grade_id, score in scores.items() if score[0] < score[1]}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_earns_full_marks(graded, assignment):
    result = graded(assignment)
    scores = result.scores["solution"]
    assert scores, "no graded cells"
    assert not _lost(scores), f"the solution lost points:\n{result.explain('solution')}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_earns_zero(graded, assignment):
    result = graded(assignment)
    earned = {grade_id: score for grade_id, score in result.scores["release"].items() if score[0] > 0}
    assert not earned, f"the untouched release earned points: {earned}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_function_has_hidden_tests(assignment):
    notebook = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    hidden = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "BEGIN HIDDEN TESTS" in c.source]
    for function in answers:
        assert any(owns(function, grade_id, answers) for grade_id in hidden), f"{function} has no hidden test cell"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_drift(graded, assignment):
    generated = json.loads(graded(assignment).release.read_text())
    committed = json.loads((REPO / "exercises" / assignment / f"{assignment}.ipynb").read_text())
    assert committed == generated, (
        f"exercises/{assignment} differs from a fresh `nbgrader generate_assignment`: run `make release`"
    )


@pytest.mark.parametrize("submission", all_submissions("wrong"), ids=str)
def test_wrong_implementation_loses_points_on_its_own_function(graded, submission):
    result = graded(submission.assignment)
    scores = result.scores[submission.student]
    own = {g: s for g, s in scores.items() if owns(submission.function, g, result.answer_ids) or g in submission.also_fails}
    assert own, f"no test cells for {submission.function}"
    assert _lost(own), f"{submission.student} kept full marks on {sorted(own)}"
    others_lost = {g: s for g, s in _lost(scores).items() if g not in own}
    assert not others_lost, (
        f"{submission.student} also lost points on other functions: {others_lost}\n{result.explain(submission.student)}"
    )


@pytest.mark.parametrize("submission", all_submissions("correct"), ids=str)
def test_differently_written_correct_implementation_earns_full_marks(graded, submission):
    result = graded(submission.assignment)
    lost = _lost(result.scores[submission.student])
    assert not lost, f"{submission.student} lost points: {lost}\n{result.explain(submission.student)}"


def _hidden_test_lines(assignment):
    notebook = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    lines = set()
    for cell in notebook.cells:
        for block in re.findall(r"BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, flags=re.S):
            lines.update(line.strip() for line in block.splitlines() if len(line.strip()) > 12)
    return lines


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_no_hidden_test_source(graded, assignment):
    import html

    result = graded(assignment)
    grading.nbgrader(result.root, "generate_feedback", assignment, "--force")
    feedback = sorted((result.root / ".grading" / "feedback").glob(f"*/{assignment}/*.html"))
    assert len(feedback) == len(result.submissions)
    hidden = _hidden_test_lines(assignment)
    assert hidden
    for page in feedback:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{page.parent.parent.name}'s feedback shows hidden test lines: {leaked[:3]}"
    wrong = next((s for s in result.submissions if s.kind == "wrong"), None)
    if wrong is not None:
        text = (result.root / ".grading" / "feedback" / wrong.student / assignment / f"{assignment}.html").read_text()
        assert "Error" in text, "feedback for a wrong submission should explain the failure"
