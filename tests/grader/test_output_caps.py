"""Issue 20's outsized outputs: a cell whose value is a 60 MB string and a cell raising an error with a 30 MB
message (plus a huge print, HTML and image) give a feedback page, a report entry and a class report of bounded size,
each saying what was cut. The autograded notebook is written directly, as one graded before the executor capped
results and errors; the feedback comes from the real ``nbgrader generate_feedback`` with the course's
configuration, the report entry from the real report code."""

import json
import re

import nbformat
import pytest
from corpus import REPO
from nbformat.v4 import new_code_cell, new_output

from convcourse.grader import classroom, grading
from convcourse.grader.feedback import CapOutputs
from convcourse.grader.report import write_report

ASSIGNMENT = "01_cross_correlation"
STUDENT = "huge-outputs"
BOUND = 1_000_000
RESULT = "r" * 60_000_000
MESSAGE = "m" * 30_000_000


def _huge_notebook(release):
    """The release with the solutions, and cells with outputs of tens of megabytes, as graded."""
    notebook = grading.student_notebook(release, grading.solution_answers(
        REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    notebook.cells.insert(4, new_code_cell("'r' * 60_000_000", outputs=[new_output(
        "execute_result", data={"text/plain": repr(RESULT)}, execution_count=1)]))
    notebook.cells.insert(5, new_code_cell("raise ValueError('m' * 30_000_000)", outputs=[new_output(
        "error", ename="ValueError", evalue=MESSAGE, traceback=["Traceback", f"ValueError: {MESSAGE}"])]))
    notebook.cells.insert(6, new_code_cell("display(...)", outputs=[
        new_output("stream", name="stdout", text="p" * 5_000_000),
        new_output("display_data", data={"text/html": "<b>h</b>" * 1_000_000, "image/png": "iVBO" * 2_000_000,
                                         "text/plain": "<IPython.core.display.HTML object>"})]))
    test = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id")
                == "test_corr2d_example")
    test.outputs = [new_output("error", ename="AssertionError", evalue="corr2d is wrong: " + MESSAGE,
                               traceback=[f"AssertionError: corr2d is wrong: {MESSAGE}"])]
    return notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with the assignment released and one autograded notebook of huge outputs in its gradebook."""
    from nbgrader.api import Gradebook

    course = grading.prepare_course(tmp_path_factory.mktemp("caps"), [ASSIGNMENT])
    grading.nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    release = course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    with Gradebook(f"sqlite:///{course / '.grading' / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_student(STUDENT)
        gradebook.add_submission(ASSIGNMENT, STUDENT)
    autograded = grading.autograded_path(course, ASSIGNMENT, STUDENT)
    autograded.parent.mkdir(parents=True)
    nbformat.write(_huge_notebook(release), autograded)
    return course


@pytest.mark.slow
def test_the_feedback_page_is_bounded_and_says_what_was_cut(course):
    classroom.feedback(course, ASSIGNMENT)
    page = (course / ".grading" / "feedback" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert len(page) < BOUND, f"the feedback page has {len(page):,} characters"
    cut = [int(count.replace(",", "")) for count in re.findall(r"\[… cut: ([\d,]+) characters\]", page)]
    assert any(count > len(RESULT) - 20_000 for count in cut) and any(
        len(MESSAGE) - 20_000 < count < len(MESSAGE) for count in cut), cut
    assert "(image/png left out)" in page and "(text/html left out)" in page
    assert "AssertionError: corr2d is wrong: mmm" in page, "the verdict of the test cell is still shown"


@pytest.mark.slow
def test_the_report_entry_and_the_class_report_are_bounded(course):
    incidents, errors = classroom._incidents(course, ASSIGNMENT, STUDENT)
    entry = json.dumps({"score": 0, "max_score": 16, "cells": {"test_corr2d_example": [0, 1]},
                        "notes": incidents, "errors": errors})
    assert len(entry) < BOUND, f"the report entry has {len(entry):,} characters"
    assert {error["grade_id"] for error in errors} == {"?", "test_corr2d_example"}
    assert all("[… cut: " in error["error"] for error in errors)
    reports = course / ".grading" / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / f"{ASSIGNMENT}.json").write_text(f'{{"{STUDENT}": {entry}}}')
    write_report(course, [ASSIGNMENT], course / "class-report.html")
    assert (course / "class-report.html").stat().st_size < BOUND


def test_an_uncapped_earlier_report_makes_a_bounded_class_report(tmp_path):
    """A report written before its messages were capped (or edited by hand): every note and failure message of
    tens of megabytes, and a thousand students with incidents, still make a class report of bounded size."""
    reports = tmp_path / ".grading" / "reports"
    reports.mkdir(parents=True)
    mistake = "This is exactly what you get if "
    outcome = {f"student{k}": {"score": 1, "max_score": 2, "cells": {"test_f": [1, 2]},
                               "notes": [f"test_f: KernelDied {k}" + "n" * 10_000] * 3,
                               "errors": [{"grade_id": "test_f", "error": mistake + "x" * 100}]}
               for k in range(1_000)}
    outcome["student0"]["notes"] = ["n" * 30_000_000]
    outcome["student0"]["errors"] = [{"grade_id": "test_f", "error": mistake + MESSAGE + "."}]
    (reports / f"{ASSIGNMENT}.json").write_text(json.dumps(outcome))
    write_report(tmp_path, [ASSIGNMENT], tmp_path / "class-report.html")
    page = (tmp_path / "class-report.html").read_text()
    assert len(page) < BOUND, f"the class report has {len(page):,} characters"
    assert "[… cut: 29,999,000 characters]" in page and "more students&#x27; incidents]" in page


def _cell(outputs, grade_id=None):
    cell = new_code_cell("x", outputs=outputs)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": 1, "solution": False}
    return cell


def test_every_kind_of_output_is_cut_with_a_note():
    small_png = "iVBO" * 1_000
    notebook = nbformat.v4.new_notebook(cells=[
        _cell([new_output("stream", name="x" * 1_000, text="s" * 20_000)]),
        _cell([new_output("display_data", data={"image/png": small_png, "image/svg+xml": "<svg>" + "g" * 20_000,
                                                "application/json": {"k": "j" * 20_000}},
                          metadata={"m": "m" * 5_000})]),
        _cell([new_output("error", ename="E" * 1_000, evalue="v", traceback=["t" * 6_000, "u" * 6_000, "w" * 10])]),
    ])
    cells = CapOutputs().preprocess(notebook, {})[0].cells
    stream, display, error = (cell.outputs[0] for cell in cells)
    assert stream.name == "stdout" and stream.text == "s" * 10_000 + "\n[… cut: 10,000 characters]"
    assert display.data["image/png"] == small_png and display.metadata == {}
    assert set(display.data) == {"image/png", "text/plain"}
    assert "(image/svg+xml left out)" in display.data["text/plain"]
    assert "(application/json left out)" in display.data["text/plain"]
    assert error.ename.endswith("[… cut: 800 characters]")
    assert error.traceback == ["t" * 6_000, "u" * 4_000 + " [… cut: 2,000 characters]", "[… cut: 10 characters]"]


def test_a_notebook_shares_one_budget_and_the_verdicts_are_always_shown():
    printed = [_cell([new_output("stream", name="stdout", text="p" * 9_000)]) for _ in range(5)]
    verdict = _cell([new_output("error", ename="AssertionError", evalue="f is wrong", traceback=[])], "test_f")
    notebook = nbformat.v4.new_notebook(cells=[*printed, verdict, _cell([new_output(
        "stream", name="stdout", text="late")])])
    cells = CapOutputs(max_notebook_chars=30_000).preprocess(notebook, {})[0].cells
    shown = [cell.outputs[0].get("text", "") for cell in cells]
    assert shown[:3] == ["p" * 9_000] * 3
    assert all(text.startswith("[… cut: ") and "at most 30,000 characters of output" in text
               for text in shown[3:5] + shown[6:])
    assert cells[5].outputs[0].evalue == "f is wrong"
