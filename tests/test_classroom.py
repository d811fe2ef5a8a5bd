"""The instructor's flow at class scale, through nbgrader: an LMS zip is collected, a class with hostile,
forging and broken submissions is autograded in parallel, correct students keep full marks, every forger scores
0, every bad case costs only what it should and says why, feedback shows no hidden test and runs no student
script, grades export and the class report is written, readable by the instructor only."""

import csv
import html.parser
import json
import os
import re
import uuid

import nbformat
import pytest
from corpus import REPO

from convcourse.grader import classroom, grading, sample_feedback
from convcourse.grader.sandbox import isolation_problems, sandbox_root

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_cross_correlation"
HOSTILE = REPO / "tests" / "submissions" / "robustness"
FORGERS = REPO / "tests" / "submissions" / "forgers"
SANDBOXED = not isolation_problems()
XSS = "<script>window.stolen = 1</script><img src=x onerror=\"window.stolen = 2\"><iframe src=\"https://x\"></iframe>"


def _answers():
    return grading.solution_answers(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def _with(release, function, source):
    return grading.student_notebook(release, dict(_answers(), **{function: source}))


def _tampered(release):
    """Solution answers; one test cell deleted, one emptied, one duplicated, a section moved up."""
    notebook = grading.student_notebook(release, _answers())
    cells = notebook.cells

    def grade_id(cell):
        return cell.metadata.get("nbgrader", {}).get("grade_id")

    cells[:] = [cell for cell in cells if grade_id(cell) != "test_corr2d_example"]
    next(cell for cell in cells if grade_id(cell) == "test_conv2d_example").source = "pass"
    duplicate = next(cell for cell in cells if grade_id(cell) == "test_conv_params_example")
    cells.append(nbformat.from_dict(json.loads(json.dumps(duplicate))))
    section = [cell for cell in cells if (grade_id(cell) or "").startswith(("conv_params", "test_conv_params"))]
    rest = [cell for cell in cells if cell not in section]
    cells[:] = rest[:2] + section + rest[2:]
    return notebook


def _forger(release, source):
    """Every answer left as released (wrong), the attack in the first answer cell."""
    return grading.student_notebook(release, {"corr2d": source})


def _with_scripts(release):
    """Correct answers, plus markdown and an output that would run scripts in a page that did not sanitise them."""
    notebook = grading.student_notebook(release, _answers())
    notebook.cells.insert(2, nbformat.v4.new_markdown_cell(f"My notes {XSS}"))
    notebook.cells.insert(3, nbformat.v4.new_code_cell(
        f"from IPython.display import HTML, display\ndisplay(HTML({XSS!r}))"))
    return notebook


def _sleeper(release):
    """Correct answers after added cells that sleep: the notebook's time budget runs out for everyone after them."""
    notebook = grading.student_notebook(release, _answers())
    for position in range(2, 10):
        notebook.cells.insert(position, nbformat.v4.new_code_cell("import time\ntime.sleep(1000)"))
    return notebook


def _stripped(release):
    notebook = grading.student_notebook(release, _answers())
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
    return notebook


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    # Shorter limits than a course's, so that the class does not wait minutes for its hostile students, with room
    # for a loaded machine: a correct submission that prints megabytes needed over 10 s of a test cell with four
    # test workers on two cores. A function that never returns, and ignores the interrupt, costs its three test cells
    # 15 s and 5 s of grace each (a test cell counts whole toward the budget), which leaves the other functions 40 s
    # of the notebook's budget; the sleeper's eight added cells take 120 s of it.
    os.environ.setdefault("CONVCOURSE_CELL_TIMEOUT", "15")
    os.environ.setdefault("CONVCOURSE_INTERRUPT_GRACE", "5")
    os.environ.setdefault("CONVCOURSE_NOTEBOOK_TIMEOUT", "100")
    course = grading.prepare_course(tmp_path_factory.mktemp("class"), [ASSIGNMENT])
    release = grading.generate_assignment(course, ASSIGNMENT)
    (course / "grades.csv").write_text("student_id,score\nearlier,1\n")
    # This run's id, which names its boxes: other runs (the suite's other classes, graded at the same time) are
    # none of its business.
    os.environ["CONVCOURSE_RUN_ID"] = f"run-{uuid.uuid4().hex[:12]}"
    (course / "run-id").write_text(os.environ["CONVCOURSE_RUN_ID"])
    secrets = [str(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
               str(course / ".grading" / "gradebook.db"),
               str(course / ".grading" / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
               str(course / "grades.csv"), str(REPO / ".git" / "HEAD"), str(REPO / "solutions"),
               str(REPO / "tests" / "submissions" / "sample-lms-download.zip"), str(REPO / ".venv" / "pyvenv.cfg")]

    # The sample LMS download: Canvas-style names, a notebook under the wrong name, a broken file, a late one.
    archive = REPO / "tests" / "submissions" / "sample-lms-download.zip"
    collected = classroom.collect_zip(course, ASSIGNMENT, archive)

    students = {"tampered": _tampered(release), "stripped": _stripped(release)}
    for path in sorted(HOSTILE.glob("*.py")):
        function, behaviour = path.stem.split("__")
        if behaviour == "forks" and not SANDBOXED:
            continue  # Without a sandbox user the process limit does not bind root: no fork test.
        source = path.read_text().replace("{secrets}", repr(secrets))
        students[behaviour.replace("_", "-")] = _with(release, function, source)
    for path in sorted(FORGERS.glob("*.py")):
        students[f"forger-{path.stem.replace('_', '-')}"] = _forger(release, path.read_text())
    students["scripts"] = _with_scripts(release)
    students[sample_feedback.STUDENT] = grading.student_notebook(release, sample_feedback.SAMPLE_ANSWERS)
    students["sleeper"] = _sleeper(release)
    for student, notebook in students.items():
        grading.submit(course, ASSIGNMENT, student, notebook)
    # Four graders: most of this class's time is spent waiting out its hostile students' limits, not computing.
    outcome = classroom.autograde(course, ASSIGNMENT, workers=4)
    classroom.feedback(course, ASSIGNMENT)
    classroom.grades(course, course / "grades.csv")
    from convcourse.grader.report import write_report

    write_report(course, [ASSIGNMENT], course / "class-report.html")
    return course, collected, outcome


def _lost(outcome, student):
    return {g for g, (score, top) in outcome[student]["cells"].items() if score < top}


def _owned(cells, function):
    return {g for g in cells if g.startswith(f"test_{function}")}


def test_zip_collect_finds_every_student(graded_class):
    _, collected, _ = graded_class
    assert collected == ["alice", "bob", "carol", "dave", "erin"]


@pytest.mark.parametrize("student", ["alice", "bob", "tampered", "stripped", "carol", "scripts",
                                     "probes-the-machine", "fills-the-disk", "leaves-a-process-behind"])
def test_correct_work_keeps_full_marks(graded_class, student):
    _, _, outcome = graded_class
    result = outcome[student]
    assert result["max_score"] > 0 and result["score"] == result["max_score"], result["errors"]


@pytest.mark.parametrize("student, function, reason", [
    ("never-returns", "corr2d", "CellTimeoutError"),
    ("swallows-keyboard-interrupt", "corr2d", "KernelUnresponsive"),
    ("kills-the-kernel", "conv_params", "KernelDied"),
    ("allocates-tens-of-gigabytes", "conv2d", None),
    ("forks-and-hoards-memory", "conv2d", None),
    ("erin", "corr2d", None),
])
def test_a_bad_function_costs_only_its_own_tests(graded_class, student, function, reason):
    _, _, outcome = graded_class
    result = outcome[student]
    lost = _lost(outcome, student)
    assert lost and lost <= _owned(result["cells"], function), (lost, result["errors"])
    if reason:
        assert any(reason in note for note in result["notes"]), result["notes"]


def test_memory_is_bounded(graded_class):
    _, _, outcome = graded_class
    errors = " ".join(e["error"] for e in outcome["allocates-tens-of-gigabytes"]["errors"])
    assert "MemoryError" in errors


@pytest.mark.skipif(not SANDBOXED, reason="needs root, bubblewrap and cgroups")
def test_forks_are_bounded_and_reaped(graded_class):
    """5000 forks stop at the box's process limit: at most the forking function's own tests suffer (its kernel
    has no threads left), the other students are untouched and nothing of the run outlives it."""
    _, _, outcome = graded_class
    assert _lost(outcome, "forks") <= _owned(outcome["forks"]["cells"], "conv2d"), outcome["forks"]["errors"]
    course, _, _ = graded_class
    left = {str(p) for p in sandbox_root().glob(f"{(course / 'run-id').read_text()}-*")}
    assert not left, f"boxes of the run were left behind: {sorted(left)}"


@pytest.mark.parametrize("forger", sorted(path.stem for path in FORGERS.glob("*.py")))
def test_a_forger_scores_nothing_and_sees_no_hidden_test(graded_class, forger):
    """No code in a submission changes a verdict except through what its functions return."""
    course, _, outcome = graded_class
    student = f"forger-{forger.replace('_', '-')}"
    assert outcome[student]["score"] == 0, (outcome[student]["cells"], outcome[student]["errors"])
    page = (course / ".grading" / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    for line in _hidden_lines():
        assert line not in page, f"{student}'s feedback shows a hidden test line: {line}"


def _hidden_lines():
    notebook = nbformat.read(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    lines = []
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            inside = (inside or "BEGIN HIDDEN TESTS" in line) and "END HIDDEN TESTS" not in line
            if inside and len(line.strip()) > 20 and "HIDDEN TESTS" not in line:
                lines.append(line.strip())
    assert lines
    return lines


class _Elements(html.parser.HTMLParser):
    """Every element of a page with its attributes (what a browser would build, as opposed to escaped text)."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_feedback_runs_no_student_script(graded_class):
    course, _, _ = graded_class
    page = (course / ".grading" / "feedback" / "scripts" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "My notes" in page
    elements = _Elements()
    elements.feed(page)
    assert not [tag for tag, _ in elements.found if tag in ("iframe", "object", "embed")]
    assert not [(tag, attrs) for tag, attrs in elements.found if any(name.startswith("on") for name in attrs)]
    assert "window.stolen" not in "".join(
        page[match.end():page.find("</script>", match.end())] for match in re.finditer(r"<script[^>]*>", page))


def test_feedback_reads_offline_with_its_formulas_and_verdicts(graded_class):
    """Every feedback page runs no script at all and asks for nothing outside itself (no MathJax from a CDN; a
    content security policy forbids both), declares its language, shows the exercise's formulas as MathML and names
    each test cell with its verdict."""
    course, _, outcome = graded_class
    for student in outcome:
        path = course / ".grading" / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        if not path.exists():
            continue
        page = path.read_text()
        elements = _Elements()
        elements.feed(page)
        assert not [tag for tag, _ in elements.found if tag == "script"], student
        # What a page loads by itself (a student's own link is not loaded unless followed).
        loaded = [attrs.get("src", "") for _, attrs in elements.found] + [
            attrs.get("href", "") for tag, attrs in elements.found if tag == "link"]
        assert not [address for address in loaded if re.match(r"(https?:)?//", address)], student
        assert '<html lang="en">' in page and "<math" in page and "default-src 'none'" in page, student
        toc = re.search(r"<nav[^>]*\bid=\"toc\".*?</nav>", page, flags=re.S).group(0)
        for grade_id, (score, top) in outcome[student]["cells"].items():
            verdict = "passed" if score >= top else "failed"
            assert re.search(rf"<code>{grade_id}</code></a>:\s*{score} / {top}\s*<span class=\"{verdict}\">", toc), (
                student, grade_id)


def test_a_notebook_has_a_time_budget(graded_class):
    """Added cells that sleep use up the notebook's budget: the cells after them are not run and lose points."""
    _, _, outcome = graded_class
    result = outcome["sleeper"]
    assert result["score"] < result["max_score"]
    assert any("NotebookTimeLimit" in error["error"] for error in result["errors"]), result["errors"]


def test_grades_and_report_are_private(graded_class):
    course, _, _ = graded_class
    for name in ("grades.csv", "class-report.html"):
        assert (course / name).stat().st_mode & 0o077 == 0, name


def test_broken_files_are_graded_with_a_reason(graded_class):
    _, _, outcome = graded_class
    assert outcome["dave"]["score"] == 0 and "not a valid notebook" in " ".join(outcome["dave"]["notes"])
    assert "Untitled.ipynb" in " ".join(outcome["carol"]["notes"])
    assert "metadata was missing" in " ".join(outcome["stripped"]["notes"])
    assert "was missing and was put back" in " ".join(outcome["tampered"]["notes"])


def test_printing_megabytes_is_truncated(graded_class):
    course, _, _ = graded_class
    autograded = grading.autograded_path(course, ASSIGNMENT, "reads-secrets-and-prints-megabytes")
    assert autograded.stat().st_size < 2_000_000


@pytest.mark.skipif(not SANDBOXED, reason="needs root, bubblewrap and cgroups")
def test_submissions_cannot_read_solutions_gradebook_or_classmates(graded_class):
    _, _, outcome = graded_class
    result = outcome["reads-secrets-and-prints-megabytes"]
    assert result["score"] == result["max_score"], result["errors"]


def test_feedback_grades_and_report(graded_class):
    course, _, outcome = graded_class
    pages = list((course / ".grading" / "feedback").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.html"))
    assert len(pages) == len(outcome)
    rows = list(csv.DictReader((course / "grades.csv").open()))
    assert {row["student_id"] for row in rows} >= set(outcome)
    report = (course / "class-report.html").read_text()
    assert "Pass rate per test" in report and "data:image/png;base64," in report and "KernelDied" in report


def test_the_books_sample_feedback_is_what_grading_gives_today(graded_class):
    """kit/feedback-example.html (linked from the book's home page) says exactly what this class's copy says."""
    course, _, _ = graded_class
    graded = course / ".grading" / "feedback" / sample_feedback.STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.html"
    committed = sample_feedback.failure_messages(REPO / "kit" / "feedback-example.html")
    assert committed and committed == sample_feedback.failure_messages(graded), (
        "kit/feedback-example.html is out of date: run `make feedback-example`")
