"""Every assignment through real nbgrader: the solution earns full marks, the release zero, the release in
``exercises/`` is what ``generate_assignment`` makes, every wrong implementation loses points on exactly its
own function, every differently-written correct one keeps full marks, and feedback shows no hidden test."""

import json
import re

import nbformat
import pytest
from corpus import ASSIGNMENTS, REPO, all_submissions, owns

from convcourse.grader import grading

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
    """It loses points on its own function's cells; the functions its notebook answers correctly keep theirs."""
    result = graded(submission.assignment)
    scores = result.scores[submission.student]
    wrong_here = set(result.students[submission.student]) - {f for f, _ in submission.callers}
    own = {g: s for g, s in scores.items() if owns(submission.function, g, result.answer_ids) or g in submission.also_fails}
    assert own, f"no test cells for {submission.function}"
    assert _lost(own), f"{submission.name} kept full marks on {sorted(own)}"
    others_lost = {g: s for g, s in _lost(scores).items()
                   if g not in own and not any(owns(f, g, result.answer_ids) for f in wrong_here)}
    assert not others_lost, (
        f"{submission.name} ({submission.student}) also cost points on correct functions: {others_lost}\n"
        f"{result.explain(submission.student)}"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_cell_is_failed_by_some_wrong_implementation(graded, assignment):
    """A test cell is only trusted once a wrong implementation has been shown to fail it."""
    result = graded(assignment)
    wrong_students = {s.student for s in result.submissions if s.kind == "wrong"}
    cells = set(result.scores["solution"])
    failed = {g for student in wrong_students for g, (score, top) in result.scores[student].items() if score < top}
    assert not cells - failed, f"test cells no wrong implementation fails: {sorted(cells - failed)}"


@pytest.mark.parametrize("submission", all_submissions("correct"), ids=str)
def test_differently_written_correct_implementation_earns_full_marks(graded, submission):
    result = graded(submission.assignment)
    lost = _lost(result.scores[submission.student])
    assert not lost, f"{submission.name} ({submission.student}) lost points: {lost}\n{result.explain(submission.student)}"


def _hidden_test_lines(assignment):
    """Lines that only the hidden tests hold (one that also stands in the release, such as a wrapped argument
    list, gives nothing away)."""
    notebook = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    release = nbformat.read(REPO / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    public = "\n".join(cell.source for cell in release.cells)
    lines = set()
    for cell in notebook.cells:
        for block in re.findall(r"BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, flags=re.S):
            lines.update(line.strip() for line in block.splitlines() if len(line.strip()) > 12)
    return {line for line in lines if line not in public}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_no_hidden_test_source(graded, assignment):
    import html

    result = graded(assignment)
    grading.nbgrader(result.root, "generate_feedback", assignment, "--force")
    feedback = sorted((result.root / ".grading" / "feedback").glob(f"*/{assignment}/*.html"))
    assert len(feedback) == len(result.students)
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


@pytest.mark.parametrize("submission", [s for s in all_submissions("wrong") if s.callers], ids=str)
def test_feedback_says_a_caller_was_judged_with_a_correct_helper(graded, submission):
    """A correct conv2d that calls a wrong same_padding keeps its points, and its feedback says why."""
    notebook = graded(submission.assignment).autograded_notebook(submission.student)
    notes = [output.text for cell in notebook.cells for output in cell.get("outputs", [])
             if output.get("text", "").startswith("Note from the grader:")]
    callers = {function for function, _ in submission.callers}
    assert any(submission.function in note and any(f"{c} calls" in note for c in callers) for note in notes), notes
