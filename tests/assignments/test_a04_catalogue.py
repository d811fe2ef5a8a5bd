"""Assignment 04's hidden tests are as strong with their few chosen cases as with the sweeps they replace: every
wrong implementation of the mistakes catalogue and of ``tests/submissions/04_fully_convolutional/wrong/`` still
fails every test cell it failed before (``CAUGHT_BY``, recorded with the sweeps of 10 to 50 cases), and the
solution and the differently-written correct submissions fail none.

The test cells of the solution notebook run here, in this process, with the graded function bound to each
implementation (``select_cases.grade_in_process``): the grader's own checks, without the kernel round trip.
"""

import pytest

from convcourse.assignments.a04_fully_convolutional import select_cases
from convcourse.assignments.a04_fully_convolutional.cases import HIDDEN_SWEEPS
from convcourse.assignments.a04_fully_convolutional.mistakes import CAUGHT_BY

pytestmark = pytest.mark.slow
FUNCTIONS = ("dense_to_conv_kernel", "to_fully_convolutional")


def _wrong():
    found = {}
    for function in FUNCTIONS:
        for name, implementation in {**select_cases.catalogue(function),
                                     **select_cases.wrong_submissions(function)}.items():
            found[name] = (function, implementation)
    return found


WRONG = _wrong()


def test_every_wrong_implementation_has_a_record():
    assert set(WRONG) == set(CAUGHT_BY), (
        f"not in CAUGHT_BY: {sorted(set(WRONG) - set(CAUGHT_BY))}; gone: {sorted(set(CAUGHT_BY) - set(WRONG))}")


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_implementation_still_fails_every_cell_it_failed(name):
    function, implementation = WRONG[name]
    cells = [grade_id for grade_id in select_cases.notebook_cells()[2] if grade_id.startswith(f"test_{function}")]
    failed = select_cases.grade_in_process({function: implementation}, cells)
    missed = {f"test_{cell}" for cell in CAUGHT_BY[name]} - set(failed)
    assert not missed, f"{name} now passes {sorted(missed)} (it fails {sorted(failed)})"


def test_the_solution_fails_nothing():
    assert select_cases.grade_in_process({}) == {}


@pytest.mark.parametrize("path", sorted(
    (select_cases.REPO / "tests" / "submissions" / select_cases.ASSIGNMENT / "correct").glob("*.py")), ids=str)
def test_a_correct_submission_fails_nothing(path):
    function = path.stem.split("__")[0]
    namespace = {"__name__": "__graded__"}
    exec(compile(select_cases.notebook_cells()[0], "<setup>", "exec"), namespace)  # noqa: S102
    implementation = select_cases.implementations(path.read_text(), namespace)[function]
    cells = [grade_id for grade_id in select_cases.notebook_cells()[2] if grade_id.startswith(f"test_{function}")]
    assert select_cases.grade_in_process({function: implementation}, cells) == {}


def test_the_chosen_classifiers_keep_the_exercises_promises():
    """Pooling (max and average), strides, batch normalization, dropout, several Dense layers, every Dense
    activation, larger inputs: each in some hidden test."""
    from convcourse.assignments.a04_fully_convolutional.cases import hidden_classifiers

    for sweep, (_, promises) in select_cases.PROMISES.items():
        models = [spec.keras_model() for spec in hidden_classifiers(sweep)]
        assert 0 < len(models) < HIDDEN_SWEEPS[sweep].replaces
        for promise, holds in promises.items():
            assert any(holds(model) for model in models), f"{sweep}: no classifier with {promise}"
    kinds = {kind for sweep in HIDDEN_SWEEPS for spec in hidden_classifiers(sweep) for kind, _, _ in spec.layers()}
    assert {"MaxPooling2D", "AveragePooling2D", "BatchNormalization", "Dropout", "ReLU"} <= kinds
    assert select_cases.PROMISES["score_map"][0]["larger_inputs"] >= 1
