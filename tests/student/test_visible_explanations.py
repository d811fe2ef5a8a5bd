"""The visible checks explain (issue 21, problems 3-5 and 7-10), in process: what a student reads last when a
visible check fails. ``tests/test_student_kit.py`` makes the same mistakes in the kit's own venv."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convcourse.grader.runtime import ensure_runtime
from convcourse.student import checks
from convcourse.student.checks import check_example, check_example_parts

REPO = Path(__file__).resolve().parents[2]


def _failure(function, *args, **kwargs):
    with pytest.raises(AssertionError) as raised:
        (kwargs.pop("check", check_example))(function, *args, **kwargs)
    return raised.value


def _last_line(error):
    return str(error).strip().splitlines()[-1]


def test_the_guards_refusal_is_the_last_line():
    def corr2d(image, kernel):
        return np.correlate(image.ravel(), kernel.ravel())[:4].reshape(2, 2)

    error = _failure(corr2d, ["image", "kernel"], [np.ones((3, 3)), np.ones((2, 2))], np.ones((2, 2)))
    assert _last_line(error).startswith("corr2d called np.correlate. Graded functions must be written by hand")
    assert "course package" not in str(error)


def test_an_error_in_the_students_code_names_the_example_its_shapes_and_layout():
    def conv2d(x, kernel, bias=None):
        return x[:, 0] * kernel[..., 0]  # indexes the channels-last image as channels-first

    error = _failure(conv2d, ["x", "kernel"], [np.ones((1, 3, 3, 2)), np.ones((2, 2, 2, 4))], np.ones((1, 2, 2, 4)))
    message = str(error)
    assert message.startswith("conv2d raised ValueError on this worked example: "
                              "conv2d(x of shape (1, 3, 3, 2), kernel of shape (2, 2, 2, 4)).")
    assert "x (1, 3, 3, 2) is (N, H, W, C): sample, row, column, channel (channels-last)" in message
    assert "could not be broadcast" in message
    assert isinstance(error.__cause__, ValueError)  # the student's own traceback stays above, as the cause


def test_an_unwritten_answer_still_says_not_implemented():
    def corr2d(image, kernel):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check_example(corr2d, ["image", "kernel"], [np.ones((3, 3)), np.ones((2, 2))], np.ones((2, 2)))


def _same_padding_top_heavy(input_length, kernel_size, stride=1, dilation=1):
    total = max((-(-input_length // stride) - 1) * stride + (kernel_size - 1) * dilation + 1 - input_length, 0)
    return total - total // 2, total // 2


def test_a_check_that_fails_through_a_failing_helper_says_fix_that_one_first():
    namespace = {"np": np, "same_padding": _same_padding_top_heavy}
    exec("def max_pool2d(x, pool_size=2, strides=None, padding='valid'):\n"  # noqa: S102 (a student's cell)
         "    before, after = same_padding(x.shape[1], pool_size, strides or pool_size)\n"
         "    x = np.pad(x, ((0, 0), (before, after), (before, after), (0, 0)), constant_values=-np.inf)\n"
         "    n, h, w, c = x.shape\n"
         "    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))\n", namespace)
    same_padding, max_pool2d = namespace["same_padding"], namespace["max_pool2d"]
    same_padding.__name__ = "same_padding"
    _failure(same_padding, ["input_length", "kernel_size", "stride"], [8, 3, 2], (0, 1))
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    error = _failure(max_pool2d, ["x", "pool_size", "strides", "padding"], [x, 2, 2, "same"],
                     np.array([[-1, -3], [-7, -9.0]]).reshape(1, 2, 2, 1))
    assert _last_line(error) == ("max_pool2d calls same_padding, whose own visible check above fails too: fix that "
                                 "one first (this check may well pass once same_padding is right).")
    # Once same_padding is redefined (the student fixed it), the hint is gone.
    namespace["same_padding"] = lambda *args: (0, 1)
    error = _failure(max_pool2d, ["x", "pool_size", "strides", "padding"], [x, 2, 2, "same"], np.zeros((1, 2, 2, 1)))
    assert "fix that one first" not in str(error)


def test_a_named_mistake_silences_the_generic_shape_hint():
    def conv2d(x, kernel, bias=None, strides=1):
        return np.zeros((1, 2, 4, 1))

    expected = np.zeros((1, 2, 2, 1))
    named = _failure(conv2d, ["x", "kernel", "bias", "strides"], [np.ones((1, 4, 4, 1)), np.ones((1, 1, 1, 1)), None, 2],
                     expected, mistakes={"the stride is applied to the rows only": np.zeros((1, 2, 4, 1))})
    assert "likely" not in str(named) and "This is exactly what you get if the stride is applied to the rows only" in str(named)
    unnamed = _failure(conv2d, ["x", "kernel", "bias", "strides"], [np.ones((1, 4, 4, 1)), np.ones((1, 1, 1, 1)), None, 2],
                       expected)
    assert "likely an off-by-one" in str(unnamed)


def _a06_cell(grade_id):
    notebook = json.loads((REPO / "solutions" / "06_backpropagation" / "06_backpropagation.ipynb").read_text())
    return next("".join(c["source"]) for c in notebook["cells"]
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _run_a06_cell(grade_id, **functions):
    from convcourse.assignments.a06_backpropagation import mistakes

    namespace = {"np": np, "check_example": check_example, "check_example_parts": check_example_parts}
    for name, reference in (("conv2d_backward", mistakes.numpy_conv2d_backward),
                            ("max_pool2d_backward", mistakes.numpy_max_pool2d_backward), ("im2col", mistakes.numpy_im2col)):
        function = functions.get(name, reference)
        student = (lambda f: lambda *args: f(*args))(function)
        student.__name__, student.runs_in_kernel = name, True  # the references live in the course package
        namespace[name] = student
    exec(_a06_cell(grade_id), namespace)  # noqa: S102


def test_06_names_its_typical_mistakes():
    from convcourse.assignments.a06_backpropagation.mistakes import numpy_conv2d_backward

    for grade_id in ("test_im2col_example", "test_conv2d_backward_example", "test_max_pool2d_backward_example"):
        _run_a06_cell(grade_id)  # the solution passes
    with pytest.raises(AssertionError) as raised:
        _run_a06_cell("test_conv2d_backward_example",
                      conv2d_backward=lambda *args: numpy_conv2d_backward(*args, flip_kernel=True))
    assert "This is exactly what you get if the kernel is not turned by 180 degrees in dL/dx" in str(raised.value)
    with pytest.raises(AssertionError) as raised:
        _run_a06_cell("test_conv2d_backward_example",
                      conv2d_backward=lambda *args: numpy_conv2d_backward(*args, bias_reduction="positions_only"))
    message = str(raised.value)
    assert "grad_bias (element 2 of the returned tuple) is wrong: it returned shape (1, 1), expected (1,)." in message
    assert "likely" not in message
    assert "summed over the output positions but not over the batch" in message


def test_06_literals_are_what_the_catalogue_computes():
    """Every mistaken value written into 06's visible cells is what ``a06_backpropagation.mistakes`` gives."""
    from convcourse.assignments.a06_backpropagation import mistakes

    catalogues = {"conv2d_backward": mistakes.conv2d_backward_mistakes(), "im2col": mistakes.im2col_mistakes(),
                  "max_pool2d_backward": mistakes.max_pool2d_backward_mistakes()}
    seen = []

    def record(function, names, args, expected, *parts, mistakes=None):
        for description, value in (mistakes or {}).items():
            computed = catalogues[function.__name__][description](*args)
            if parts:
                for wanted, got in zip(value, computed):
                    if wanted is not None:
                        assert checks.same_result(np.asarray(got), np.asarray(wanted, dtype=float)), description
            else:
                assert checks.same_result(np.asarray(computed), np.asarray(value, dtype=float)), description
            seen.append(description)

    namespace = {"np": np, "check_example": record, "check_example_parts": record}
    for name in catalogues:
        function = (lambda: None)
        function.__name__ = name
        namespace[name] = function
    for grade_id in ("test_im2col_example", "test_conv2d_backward_example", "test_max_pool2d_backward_example"):
        exec(_a06_cell(grade_id), namespace)  # noqa: S102
    assert len(seen) >= 20


def test_without_keras_the_setup_cell_names_requirements_keras_and_start_here():
    python = ensure_runtime("numpy")  # the kit's NumPy-only environment: no Keras, no TensorFlow, no JAX
    completed = subprocess.run([str(python), "-c", "from convcourse.student.notebook import setup_notebook\n"
                                "setup_notebook(keras=True)"], capture_output=True, text=True)
    last = completed.stderr.strip().splitlines()[-1]
    assert completed.returncode == 1
    assert last.startswith("convcourse.student.notebook.KerasNotInstalledError: this exercise needs Keras")
    assert "START-HERE.md" in last and "python -m pip install -r requirements.txt -r requirements-keras.txt" in last


def test_the_digits_split_that_ships_is_scikit_learns():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from convcourse.student.digits import load_digits_split

    digits = load_digits()
    expected = train_test_split((digits.images / 16.0).reshape(-1, 8, 8, 1), digits.target, test_size=0.25,
                                stratify=digits.target, random_state=0)
    for shipped, wanted in zip(load_digits_split(), expected):
        assert shipped.shape == wanted.shape and np.array_equal(shipped, wanted)


def test_05_warns_below_the_accuracy_the_hidden_test_asks(monkeypatch, capsys):
    from convcourse.student import digits, models

    def build():
        return None

    monkeypatch.setattr(digits, "train_as_contract", lambda build: (None, None, 0.913))
    models.warn_if_below_required_accuracy(build)
    printed = capsys.readouterr().out
    assert printed.startswith("Warning: trained as the hidden test trains it, this model reaches 0.9130 test accuracy")
    assert "at least 0.95" in printed
    monkeypatch.setattr(digits, "train_as_contract", lambda build: (None, None, 0.97))
    models.warn_if_below_required_accuracy(build)
    assert capsys.readouterr().out == ""


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
