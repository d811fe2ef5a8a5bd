"""Whatever a submission makes the grader do is charged to that submission, never to a classmate or the host.

For each assignment, the attackers of ``tests/submissions/contained/NN_name/`` are graded in one class between
correct students, by one grading process (one nbgrader batch: every notebook in a worker of its own). The four
classes are graded at the same time, as a class's batches would be.
"""

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from corpus import REPO, SUBMISSIONS

from convcourse.grader import grading
from convcourse.grader.contained import LIMIT_ERROR

pytestmark = pytest.mark.slow

CONTAINED = SUBMISSIONS / "contained"
# Small budgets, so that the attackers hit them quickly; correct students need a fraction of each.
LIMITS = {"CONVCOURSE_CELL_TIMEOUT": "30", "CONVCOURSE_NOTEBOOK_TIMEOUT": "600",
          "CONVCOURSE_GRADER_MEMORY_LIMIT_MB": "1024"}
# Per course (its nbgrader_config.py): 01's correct students need under 50 MB of the grader.
GRADER_MEMORY_MB = {"01_cross_correlation": 200}
# What each attack may cost its author: the functions whose test cells it may fail (None: any, past a limit).
ATTACKS = {
    "01_cross_correlation": {"asks_a_costly_reference": None, "returns_a_quarter_gigabyte": None},
    # Its own cells' outputs may cost it their time (60 MB take a while to arrive): those functions only.
    "02_padding_and_stride": {"answers_for_the_wrong_function": ("conv1d", "conv2d"),
                              "outputs_megabytes": ("conv_output_length", "same_padding")},
    "04_fully_convolutional": {"rebuilds_a_lambda": ("to_fully_convolutional",),
                               "hides_work_in_weightless_layers": ("to_fully_convolutional",),
                               "uses_keras_by_hand": ("dense_to_conv_kernel",)},
    "05_cnn_in_practice": {"checks_one_model_trains_another": ("build_digits_cnn",),
                           "uses_keras_by_hand": ("receptive_field",)},
}
MUST_LOSE = {  # the test cells an attack must fail: proof that the defence acted
    "asks_a_costly_reference": "test_conv2d", "returns_a_quarter_gigabyte": "test_conv2d",
    "answers_for_the_wrong_function": "test_conv1d", "rebuilds_a_lambda": "test_to_fully_convolutional",
    "hides_work_in_weightless_layers": "test_to_fully_convolutional",
    "checks_one_model_trains_another": "test_build_digits_cnn_accuracy",
    "05_cnn_in_practice/uses_keras_by_hand": "test_receptive_field",
    "04_fully_convolutional/uses_keras_by_hand": "test_dense_to_conv_kernel",
}


class GradedClass:
    def __init__(self, assignment, root):
        self.assignment = assignment
        self.root = grading.prepare_course(root, [assignment])
        if assignment in GRADER_MEMORY_MB:
            with open(Path(self.root) / "nbgrader_config.py", "a") as config:
                config.write(f"\nc.ContainedExecute.grader_memory_mb = {GRADER_MEMORY_MB[assignment]}\n")
        release = grading.generate_assignment(self.root, assignment)
        solution = grading.solution_answers(REPO / "solutions" / assignment / f"{assignment}.ipynb")
        attacks = sorted(ATTACKS[assignment])
        self.students = ["correct_first", *attacks, "correct_last"]
        for student in self.students:
            answers = dict(solution)
            if student in attacks:
                # <grade_id>.py replaces an answer cell; <grade_id>.after.py is added after the solution's code.
                for path in sorted((CONTAINED / assignment / student).glob("*.py")):
                    grade_id, _, after = path.name.removesuffix(".py").partition(".")
                    answers[grade_id] = (answers[grade_id] + "\n\n" if after else "") + path.read_text()
            grading.submit(self.root, assignment, student, grading.student_notebook(release, answers))
        self.log = grading.autograde(self.root, assignment, self.students, workers=1)
        self.scores = grading.scores(self.root, assignment)
        costs = Path(self.root) / ".grading" / "costs" / f"{assignment}.jsonl"
        self.costs = {line["student"]: line for line in map(json.loads, costs.read_text().splitlines())}

    def lost(self, student):
        return {grade_id for grade_id, (score, maximum) in self.scores[student].items() if score < maximum}

    def notebook(self, student):
        return grading.autograded_path(self.root, self.assignment, student)


@pytest.fixture(scope="module")
def boxes():
    """A sandbox folder for these classes alone (the suite grades other classes at the same time): their kernels'
    boxes, every one of which must be gone once its worker is, whatever limit ended it."""
    folder = Path(tempfile.mkdtemp(prefix="convcourse-contained-"))
    os.chmod(folder, 0o711)  # the sandbox user reaches its scratch through it
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def classes(tmp_path_factory, boxes):
    settings = dict(LIMITS, CONVCOURSE_SANDBOX_DIR=str(boxes))
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        # Folders first: pytest's temporary-folder factory is not made for threads.
        folders = {assignment: tmp_path_factory.mktemp(assignment) for assignment in ATTACKS}
        with ThreadPoolExecutor(len(ATTACKS)) as pool:
            graded = dict(zip(ATTACKS, pool.map(lambda assignment: GradedClass(assignment, folders[assignment]),
                                                ATTACKS)))
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    return graded


CASES = [(assignment, attack) for assignment, attacks in ATTACKS.items() for attack in attacks]


@pytest.mark.parametrize("assignment", list(ATTACKS))
def test_correct_classmates_before_and_after_the_attackers_keep_full_marks(classes, assignment):
    graded = classes[assignment]
    for student in ("correct_first", "correct_last"):
        assert graded.lost(student) == set(), f"{student} lost {graded.lost(student)}\n{graded.log[-3000:]}"


@pytest.mark.parametrize(("assignment", "attack"), CASES)
def test_an_attacker_loses_only_its_own_points(classes, assignment, attack):
    graded = classes[assignment]
    lost = graded.lost(attack)
    allowed = ATTACKS[assignment][attack]
    if allowed is not None:
        others = {g for g in lost if not any(g.startswith(f"test_{function}") for function in allowed)}
        assert not others, f"{attack} lost points in functions it did not attack: {others}"
    must = MUST_LOSE.get(f"{assignment}/{attack}", MUST_LOSE.get(attack))
    if must is not None:
        assert any(g.startswith(must) for g in lost), f"{attack} kept its {must} points: the attack worked"


@pytest.mark.parametrize("assignment", list(ATTACKS))
def test_each_student_is_charged_within_its_budget(classes, assignment):
    graded = classes[assignment]
    limit = GRADER_MEMORY_MB.get(assignment, int(LIMITS["CONVCOURSE_GRADER_MEMORY_LIMIT_MB"]))
    for student in graded.students:
        cost = graded.costs[student]
        assert cost["memory_limit_mb"] == limit, cost  # the course's limit, not the default
        assert cost["peak_memory_mb"] is not None and cost["peak_memory_mb"] <= cost["memory_limit_mb"], cost
        # The wall budget: the notebook's seconds plus its kernels' start and one interrupt's grace.
        assert cost["wall_seconds"] <= int(LIMITS["CONVCOURSE_NOTEBOOK_TIMEOUT"]) + 2 * 120 + 10, cost


def test_a_student_past_the_grading_memory_limit_is_told_which_limit(classes):
    # Reading back and decoding 240 MB of results: past the 200 MB this course gives each student's grading.
    graded = classes["01_cross_correlation"]
    assert graded.costs["returns_a_quarter_gigabyte"]["limit"] == "memory"
    notebook = nbformat.read(graded.notebook("returns_a_quarter_gigabyte"), as_version=4)
    messages = [output.get("evalue", "") for cell in notebook.cells for output in cell.get("outputs", [])
                if output.get("ename") == LIMIT_ERROR]
    assert len(messages) == 1 and "200 MB of memory" in messages[0], messages
    assert all(graded.costs[student]["limit"] is None for student in ("correct_first", "correct_last"))


def test_results_and_errors_are_capped_in_the_autograded_notebook(classes):
    graded = classes["02_padding_and_stride"]
    path = graded.notebook("outputs_megabytes")
    assert path.stat().st_size < 1_000_000
    text = path.read_text()
    assert "cut: " in text and " characters]" in text


def test_a_hand_written_function_of_04_05_runs_where_keras_is_not_installed(classes):
    for assignment, function in (("04_fully_convolutional", "dense_to_conv_kernel"),
                                 ("05_cnn_in_practice", "receptive_field")):
        notebook = nbformat.read(classes[assignment].notebook("uses_keras_by_hand"), as_version=4)
        errors = [output.get("evalue", "") for cell in notebook.cells for output in cell.get("outputs", [])
                  if cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith(f"test_{function}")
                  and output.get("output_type") == "error"]
        assert errors and any("keras" in error.lower() for error in errors), errors


def test_no_box_outlives_its_worker(classes, boxes):
    """Workers killed at a limit (memory, time) included: the parent removes the boxes each worker's kernels had,
    with no run id set by a classroom (nbgrader run directly)."""
    left = sorted(path.name for path in boxes.iterdir())
    assert not left, f"boxes left behind: {left}"
