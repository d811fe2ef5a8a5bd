"""Which graded function may call which is declared once per assignment (``HELPERS`` in its references), and the
exercise's text says the same: exactly the contract's edges, no more."""

import importlib
import re

import nbformat
import pytest
from corpus import ASSIGNMENTS, REPO

# The exercise contract: while the key is tested, its calls of these already graded functions get a reference.
CONTRACT = {
    "01_cross_correlation": {"conv2d": {"corr2d"}},
    "02_padding_and_stride": {name: {"same_padding", "conv_output_length"}
                              for name in ("conv1d", "conv2d", "max_pool2d", "avg_pool2d")},
    "03_transposed_convolution": {"conv2d_transpose": {"dilate", "conv_transpose_output_length"}},
    "04_fully_convolutional": {"to_fully_convolutional": {"dense_to_conv_kernel"}},
    "05_cnn_in_practice": {},
    "06_backpropagation": {"conv2d_backward": {"im2col"}},
}


def declared(assignment):
    references = importlib.import_module(f"convcourse.assignments.a{assignment}.references")
    return {caller: set(helpers) for caller, helpers in getattr(references, "HELPERS", {}).items()}


def stated(assignment):
    """The edges the exercise's instructions state: in each sentence "`a`, `b` may call `x` and `y` as helpers"."""
    notebook = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    text = " ".join(cell.source.replace("\n", " ") for cell in notebook.cells
                    if cell.metadata.get("nbgrader", {}).get("grade_id") == "instructions")
    edges = {}
    for sentence in re.split(r"(?<=\.)\s", text):
        if " may call " in sentence and "helper" in sentence:
            before, after = sentence.rsplit(" may call ", 1)
            for caller in re.findall(r"`(\w+)`", before):
                edges.setdefault(caller, set()).update(re.findall(r"`(\w+)`", after.split(" as ")[0]))
    return edges


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_grader_answers_exactly_the_contracts_helper_calls(assignment):
    assert declared(assignment) == CONTRACT[assignment]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_exercise_states_the_same_helper_calls(assignment):
    assert stated(assignment) == CONTRACT[assignment]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_helper_has_a_reference_to_stand_in(assignment):
    references = importlib.import_module(f"convcourse.assignments.a{assignment}.references")
    helpers = set().union(*declared(assignment).values()) if declared(assignment) else set()
    assert helpers <= set(getattr(references, "STAND_INS", {}))
