"""Tests of convcourse.grader.feedback: hidden regions and tracebacks leave the feedback, results stay, formulas
become MathML that no TeX can turn into a link, a style or a script, and a graded wrong submission's feedback says
what failed."""

import html
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from convcourse.grader import grading
from convcourse.grader.feedback import HIDDEN_NOTICE, HideHiddenTests, MathAsMathML
from convcourse.grader.mathml import ATTRIBUTES, ELEMENTS


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


def _elements_and_attributes(page):
    return re.findall(r"<(\w+)((?:\s+[\w-]+=\"[^\"]*\")*)\s*/?>", page)


def test_formulas_become_mathml_and_code_is_left_alone():
    notebook = new_notebook(cells=[nbformat.v4.new_markdown_cell(
        r"Output size $o = \left\lfloor \frac{i + 2p - k}{s} \right\rfloor + 1$, in code `$x$`, a price \$5."
        "\n\n$$\\begin{aligned} a &amp;= b \\\\ c &amp;= d \\end{aligned}$$")])
    source = MathAsMathML().preprocess(notebook, {})[0].cells[0].source
    assert source.count("<math") == 2 and 'display="block" tabindex="0"' in source
    assert "`$x$`" in source and r"\$5" in source and "lfloor" not in source and "aligned" not in source


def test_a_formula_inside_a_tag_stays_text():
    """MathML put inside an attribute's value would end it early; a tag's dollars are left alone."""
    notebook = new_notebook(cells=[nbformat.v4.new_markdown_cell('<a title="$x$">see $y$</a>')])
    source = MathAsMathML().preprocess(notebook, {})[0].cells[0].source
    assert source.startswith('<a title="$x$">see <math') and source.count("<math") == 1


def test_a_notebook_has_a_budget_of_formulas():
    notebook = new_notebook(cells=[nbformat.v4.new_markdown_cell("$x$ " * 30) for _ in range(3)])
    cells = MathAsMathML(max_formulas=50).preprocess(notebook, {})[0].cells
    assert [cell.source.count("<math") for cell in cells] == [30, 20, 0]


@pytest.mark.parametrize("tex", [r"\href{javascript:alert(1)}{x}", r"\color{red}{y}", r"\style{color:red}{y}",
                                 r"\text{<script>alert(1)</script>}", r"\class{x}{y} \cssId{z}{w}"])
def test_tex_cannot_become_a_link_a_style_or_a_script(tex):
    notebook = new_notebook(cells=[nbformat.v4.new_markdown_cell(f"${tex}$")])
    source = MathAsMathML().preprocess(notebook, {})[0].cells[0].source
    if source.startswith("$"):  # TeX that does not convert stays as written, and is sanitised as markdown
        return
    for tag, attributes in _elements_and_attributes(source):
        assert tag in ELEMENTS, source
        assert {name for name in re.findall(r"([\w-]+)=", attributes)} <= ATTRIBUTES | {"tabindex"}, source
    assert "javascript" not in source and "<script" not in source


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["02_padding_and_stride"])  # named: graded on 02's worker (conftest.py)
def test_feedback_of_a_wrong_submission_names_the_mistake_and_the_failing_configurations(graded, assignment):
    """Through the real pipeline: a conv2d that puts 'same''s odd zero on the top/left is graded, and its feedback
    page counts the failing configurations, names the mistake and describes up to three of them."""
    result = graded(assignment)
    wrong = next(s for s in result.submissions if s.name == "conv2d__top_heavy_same")
    grading.nbgrader(result.root, "generate_feedback", assignment, "--force")
    page = result.root / ".grading" / "feedback" / wrong.student / assignment / f"{assignment}.html"
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    counts = re.findall(r"conv2d is wrong: (\d+) of (\d+) configurations failed; (\d+) passed\.", text)
    assert counts, "the feedback does not count the failing configurations"
    assert all(int(failed) + int(passed) == int(total) and int(failed) > 0 for failed, total, passed in counts)
    assert "this is exactly what you get if 'same' puts the extra zero of an odd total on the top/left" in text
    listed = re.findall(r"- configuration \d+ of \d+: conv2d\(x of shape \([\d, ]+\), kernel of shape", text)
    assert 1 <= len(listed) <= 3 * len(counts)


def test_the_page_escapes_what_a_notebook_names():
    """A grade_id or notebook name that looks like markup is shown as text, never parsed into an element."""
    from nbconvert import HTMLExporter

    from convcourse.grader.feedback import TEMPLATE_FOLDER, TEMPLATE_NAME

    hostile = 'x"><img src=x onerror="window.stolen=1">'
    cell = _grade_cell("pass")
    cell.metadata["nbgrader"].update(grade_id=hostile, score=0, points=1)
    exporter = HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[TEMPLATE_FOLDER])
    page, _ = exporter.from_notebook_node(new_notebook(cells=[cell]), resources={
        "nbgrader": {"notebook": hostile, "score": 0, "max_score": 1, "late_penalty": 0}})
    tags = re.findall(r"<\s*([a-zA-Z]+)", page)
    assert "img" not in tags and page.count(html.escape(hostile, quote=False)) >= 4
