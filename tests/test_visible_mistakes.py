"""The mistaken results written into the visible test cells are what the Keras-backed catalogues give.

A visible test cell runs where there is no Keras, so each worked example carries, as literal data, what every known
mistake returns on it (``check_example(..., mistakes={description: value})``). This test runs the visible cells of
the solution notebooks with a recording ``check_example`` and requires, for every example, that

* each literal's description is in the function's catalogue (``convcourse.assignments.aNN_*.mistakes``) and its
  value is what that catalogue entry computes with Keras, so the data cannot drift;
* every catalogue mistake that would fail the example is named there, so no known mistake goes unexplained.

Run as a script (``python tests/test_visible_mistakes.py``) it prints the literals each example needs.
"""

import functools
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from convcourse.student.checks import same_result

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("01_cross_correlation", "02_padding_and_stride", "03_transposed_convolution", "04_fully_convolutional")


@functools.cache
def catalogues():
    """``{(assignment, function): {description: mistaken reference}}``."""
    from convcourse.assignments.a01_cross_correlation import mistakes as m01
    from convcourse.assignments.a01_cross_correlation.references import keras_corr2d
    from convcourse.assignments.a02_padding_and_stride import mistakes as m02
    from convcourse.assignments.a03_transposed_convolution import mistakes as m03
    from convcourse.assignments.a03_transposed_convolution.references import (
        keras_conv_matrix,
        keras_conv_transpose_output_length,
        keras_dilate,
    )
    from convcourse.assignments.a04_fully_convolutional.mistakes import dense_to_conv_kernel_mistakes
    from convcourse.grader.oracle import keras_conv2d, keras_conv2d_transpose

    return {
        ("01_cross_correlation", "corr2d"): m01.flipped_kernel(keras_corr2d),
        ("01_cross_correlation", "conv2d"): m01.conv_mistakes(keras_conv2d),
        ("01_cross_correlation", "conv_params"): m01.conv_params_mistakes(),
        ("02_padding_and_stride", "conv_output_length"): m02.conv_output_length_mistakes(),
        ("02_padding_and_stride", "same_padding"): m02.same_padding_mistakes(),
        ("02_padding_and_stride", "conv2d"): m02.conv2d_padding_mistakes(),
        ("02_padding_and_stride", "conv1d"): m02.conv1d_padding_mistakes(),
        ("02_padding_and_stride", "max_pool2d"): m02.pool2d_mistakes("max"),
        ("02_padding_and_stride", "avg_pool2d"): m02.pool2d_mistakes("avg"),
        ("03_transposed_convolution", "conv_matrix"): m03.conv_matrix_mistakes(keras_conv_matrix),
        ("03_transposed_convolution", "dilate"): m03.dilate_mistakes(keras_dilate),
        ("03_transposed_convolution", "conv_transpose_output_length"):
            m03.conv_transpose_output_length_mistakes(keras_conv_transpose_output_length),
        ("03_transposed_convolution", "conv2d_transpose"): m03.conv2d_transpose_mistakes(keras_conv2d_transpose),
        ("04_fully_convolutional", "dense_to_conv_kernel"): dense_to_conv_kernel_mistakes(),
    }


def _copies(args):
    return [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]


def catalogue_results(assignment, function, args, expected):
    """``{description: result}`` of every catalogue mistake that gives a result other than ``expected``."""
    results = {}
    for description, mistaken in catalogues()[(assignment, function)].items():
        try:
            value = mistaken(*_copies(args))
        except (ValueError, TypeError, IndexError):
            continue
        if value is None:
            continue
        value = value if isinstance(value, (int, np.integer, tuple)) else np.asarray(value, dtype=float)
        if not same_result(value, expected):
            results[description] = value
    return results


def _cells(assignment, kind):
    notebook = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in notebook.cells:
        info = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if kind == "answer" and info.get("solution"):
            yield info["grade_id"], cell.source
        if kind == "visible" and info.get("grade") and "BEGIN HIDDEN TESTS" not in cell.source:
            yield info["grade_id"], cell.source


@functools.cache
def recorded_examples(assignment):
    """Every ``check_example`` call of the visible cells, in order: ``(grade_id, function, args, expected, mistakes)``."""
    calls = []
    namespace = {"np": np}
    if assignment.startswith("04"):
        import keras

        namespace.update(keras=keras, check_fully_convolutional_example=lambda *a, **k: None)
    for _, source in _cells(assignment, "answer"):
        exec(source, namespace)  # noqa: S102
    for grade_id, source in _cells(assignment, "visible"):
        def record(function, names, args, expected, mistakes=None, grade_id=grade_id):
            calls.append((grade_id, function.__name__, tuple(args), expected, mistakes or {}))

        namespace["check_example"] = record
        exec(source, namespace)  # noqa: S102
    return calls


def _examples():
    return [(assignment, number) for assignment in ASSIGNMENTS for number in range(len(recorded_examples(assignment)))]


@pytest.mark.parametrize("assignment, number", _examples(), ids=lambda v: str(v))
def test_visible_mistakes_match_the_catalogue(assignment, number):
    grade_id, function, args, expected, literals = recorded_examples(assignment)[number]
    where = f"{assignment} {grade_id}, example {number}"
    catalogue = catalogues()[(assignment, function)]
    computed = catalogue_results(assignment, function, args, expected)
    for description, value in literals.items():
        assert description in catalogue, f"{where}: {description!r} is not in {function}'s catalogue"
        assert description in computed, f"{where}: the catalogue says {description!r} gives the expected result"
        assert same_result(np.asarray(value, dtype=float) if isinstance(value, list) else value,
                           computed[description]), (
            f"{where}: {description!r} is written as {value!r}, the catalogue computes {computed[description]!r}")
    missing = sorted(set(computed) - set(literals))
    assert not missing, f"{where}: known mistakes that fail this example are not named: {missing}"


def test_every_listed_mistake_is_named_by_some_visible_example():
    """The issue's catalogue: each of these mistakes fails some worked example, which names it."""
    named = {description for assignment in ASSIGNMENTS for *_, literals in recorded_examples(assignment)
             for description in literals}
    for words in ("kernel is flipped", "extra zero of an odd total", "padded cells are counted in the average",
                  "pads with zeros that win the max", "causal zeros go after", "kernel is not flipped",
                  "Conv2DTranspose stores (kh, kw, C_out, C_in)", "cropped from the wrong side", "(H, W, C) order",
                  "rounded up", "dilation is left out"):
        assert any(words in description for description in named), f"no visible example names a mistake with {words!r}"


def _literal(value):
    if isinstance(value, np.ndarray):
        flat = ", ".join(f"{v:g}" for v in np.round(value.ravel(), 4))
        return f"np.array([{flat}]).reshape{value.shape}"
    return repr(value)


if __name__ == "__main__":
    for assignment in sys.argv[1:] or ASSIGNMENTS:
        for grade_id, function, args, expected, _ in recorded_examples(assignment):
            results = catalogue_results(assignment, function, args, expected)
            print(f"{assignment} {grade_id} {function}: " + "{" + ", ".join(
                f"{d!r}: {_literal(v)}" for d, v in results.items()) + "}")
