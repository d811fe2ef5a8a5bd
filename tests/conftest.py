import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from corpus import ASSIGNMENTS, REPO, corpus, notebooks

from convcourse.grader import grading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Every course these tests grade shares one cache of Keras references: the cases are seeded, the same in each. The
# suite's workers share it too (its files are written whole, then renamed): an assignment's references are computed
# once per run, not once per worker that grades it.
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID")
os.environ.setdefault("CONVCOURSE_REFERENCE_CACHE", os.path.join(tempfile.gettempdir(), f"convcourse-references-{_RUN}")
                      if _RUN else tempfile.mkdtemp(prefix="convcourse-references-"))
os.makedirs(os.environ["CONVCOURSE_REFERENCE_CACHE"], mode=0o700, exist_ok=True)
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


class GradedAssignment:
    """One assignment generated and autograded through nbgrader, with all its corpus submissions."""

    def __init__(self, assignment, root):
        self.assignment = assignment
        self.root = grading.prepare_course(root, [assignment])
        self.release = grading.generate_assignment(self.root, assignment)
        solution = REPO / "solutions" / assignment / f"{assignment}.ipynb"
        self.answer_ids = list(grading.solution_answers(solution))
        self.submissions = corpus(assignment)
        self.students = notebooks(assignment)
        answers = grading.solution_answers(solution)
        for student, changed in self.students.items():
            notebook = (nbformat.read(self.release, as_version=4) if student == "release"
                        else grading.student_notebook(self.release, dict(answers, **changed)))
            grading.submit(self.root, assignment, student, notebook)
        # One nbgrader process: the suite's other groups keep the cores busy, and a second process would import
        # nbgrader and preload its fork server (Keras, for 04-05) again. Parallel grading: tests/test_classroom.py.
        grading.autograde(self.root, assignment, list(self.students), workers=1)
        self.scores = grading.scores(self.root, assignment)

    def autograded_notebook(self, student):
        return nbformat.read(grading.autograded_path(self.root, self.assignment, student), as_version=4)

    def explain(self, student):
        """The error lines of a student's autograded notebook, for assertion messages."""
        lines = []
        for cell in self.autograded_notebook(student).cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                    lines.append(f"  {grade_id}: {output.ename}: {output.evalue[:300]}")
        return "\n".join(lines) or "  (no errors)"


def pytest_collection_modifyitems(items):
    """The slowest groups first (see :func:`pytest_xdist_make_scheduler`), so that none is left to run alone at the
    end; the order inside a group stays as collected (a chapter's cells in order)."""
    items.sort(key=lambda item: _SLOW_FIRST.index(group_of(item.nodeid)) if group_of(item.nodeid) in _SLOW_FIRST
               else len(_SLOW_FIRST))


def pytest_xdist_make_scheduler(config, log):
    """The workers share the suite (pytest.ini), a group at a time: every test stays with its file (a chapter's
    cells run in order, in one kernel) except the grading tests, grouped by assignment, so that the six gradings
    through nbgrader spread over both workers and each assignment is graded once."""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return group_of(nodeid)

    return ByGroup(config, log)


GRADED_FILES = ("tests/test_grading.py", "tests/test_feedback.py")
# The tests of the built book: one group, so that the book is built once (the ``book`` fixture is per worker).
BOOK_FILES = ("tests/test_book.py", "tests/test_browser.py", "tests/test_home_and_launch.py")


def group_of(nodeid):
    """``grading-<assignment>`` for a test of GRADED_FILES whose parameters start with an assignment's name (its
    ``graded(assignment)`` is then computed once, on one worker); ``book`` for the tests of the built book; the
    test's file otherwise."""
    path, _, rest = nodeid.partition("::")
    if path in BOOK_FILES:
        return "book"
    parameters = rest.partition("[")[2]
    assignment = next((name for name in ASSIGNMENTS if parameters.startswith(name)), None)
    return f"grading-{assignment}" if path in GRADED_FILES and assignment else path


# Longest first (measured with --durations on 2 busy cores, issue 24, wall seconds: the student kit 495 (its three
# venvs), the kit's platforms 302 (mostly waiting on the package index), the book and the browser 270, the contained
# classes 227, 02's grading 244, the hostile class 211, 04's grading 159, 05's 148, 03's 130, the grading service
# 127, 06's 90, 01's 84, the exchange flow 47), so that no long group starts last and runs alone at the end.
_SLOW_FIRST = ["tests/test_student_kit.py", "tests/student/test_kit_platforms.py", "book",
               "tests/grader/test_containment.py", "grading-02_padding_and_stride", "tests/test_classroom.py",
               "grading-04_fully_convolutional", "grading-05_cnn_in_practice", "grading-03_transposed_convolution",
               "tests/grader/test_service.py", "grading-06_backpropagation", "grading-01_cross_correlation",
               "tests/test_exchange.py", "tests/test_checks_cnn.py", "tests/test_kernel_start_failure.py",
               "tests/grader/test_output_caps.py", "tests/grader/test_classroom_reasons.py",
               "tests/test_precompute.py", "tests/assignments/test_a04_catalogue.py"]

_GRADED = {}


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    def get(assignment):
        if assignment not in _GRADED:
            _GRADED[assignment] = GradedAssignment(assignment, tmp_path_factory.mktemp(assignment))
            artefacts = Path(os.environ.get("CONVCOURSE_ARTEFACTS", REPO / "test-artifacts"))
            artefacts.mkdir(exist_ok=True)
            (artefacts / f"scores-{assignment}.json").write_text(json.dumps(_GRADED[assignment].scores, indent=1))
        return _GRADED[assignment]

    return get


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """The HTML book, built from a copy of the repository with warnings as errors."""
    source = tmp_path_factory.mktemp("book-source")
    for name in ("_config.yml", "_toc.yml", "intro.md", "README.md", "glossary.md", "bibliography.md", "references.bib"):
        shutil.copy(REPO / name, source / name)
    for folder in ("chapters", "exercises", "solutions", "tests"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    completed = subprocess.run([str(jupyter_book), "build", str(source), "--warningiserror", "--keep-going"],
                               capture_output=True, text=True)
    assert completed.returncode == 0, f"the book build failed:\n{completed.stdout[-5000:]}\n{completed.stderr[-5000:]}"
    # As `make book` does: the sample feedback page the home page links is part of the site.
    shutil.copy(REPO / "kit" / "feedback-example.html", source / "_build" / "html" / "feedback-example.html")
    return source / "_build" / "html"
