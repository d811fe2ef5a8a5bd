"""Unit tests of convcourse.grader.feedback: hidden regions and tracebacks leave the feedback, results stay."""

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from convcourse.grader.feedback import HIDDEN_NOTICE, HideHiddenTests


def _grade_cell(source, outputs=()):
    cell = new_code_cell(source, outputs=list(outputs))
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_f", "points": 2, "solution": False, "locked": True}
    return cell


def test_hidden_region_and_traceback_are_removed():
    error = new_output("error", ename="AssertionError", evalue="f is wrong in configuration 3 of 60",
                       traceback=["Traceback", "    secret_case = make_secret()  # quoted line", "AssertionError: ..."])
    notebook = new_notebook(cells=[_grade_cell(
        "# visible comment\n### BEGIN HIDDEN TESTS\nsecret_case = make_secret()\n### END HIDDEN TESTS", [error])])
    result, _ = HideHiddenTests().preprocess(notebook, {})
    cell = result.cells[0]
    assert "secret_case" not in cell.source
    assert HIDDEN_NOTICE in cell.source and "# visible comment" in cell.source
    assert cell.outputs[0].traceback == ["AssertionError: f is wrong in configuration 3 of 60"]
    assert "secret" not in nbformat.writes(result)


def test_ordinary_cells_keep_their_source():
    notebook = new_notebook(cells=[new_code_cell("x = 1")])
    result, _ = HideHiddenTests().preprocess(notebook, {})
    assert result.cells[0].source == "x = 1"
