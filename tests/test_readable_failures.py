"""A failing visible check, run in a real IPython kernel, shows the student's frames and the message, not the
course's internals (the checks' frames carry ``__tracebackhide__``, which IPython honours)."""

import re

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

STUDENT_CELL = '''\
import numpy as np
from convcourse.student.checks import check_example

def corr2d(image, kernel):
    flipped = kernel[::-1, ::-1]  # the student's own line, which the traceback should show
    return helper(image, flipped)

def helper(image, kernel):
    kh, kw = kernel.shape
    return np.array([[np.sum(image[i:i + kh, j:j + kw] * kernel) for j in range(image.shape[1] - kw + 1)]
                     for i in range(image.shape[0] - kh + 1)])
'''

TEST_CELL = '''\
check_example(corr2d, ["image", "kernel"], [np.arange(9.0).reshape(3, 3), np.array([[0.0, 1.0], [2.0, 3.0]])],
              [[19.0, 25.0], [37.0, 43.0]], mistakes={"the kernel is flipped": [[5.0, 11.0], [23.0, 29.0]]})
'''

RAISING_CELL = '''\
def corr2d(image, kernel):
    raise ValueError("student bug on line two")

check_example(corr2d, ["image", "kernel"], [np.ones((3, 3)), np.ones((2, 2))], [[4.0, 4.0], [4.0, 4.0]])
'''


def _traceback(cell_source):
    notebook = new_notebook(cells=[new_code_cell(STUDENT_CELL), new_code_cell(cell_source)])
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True)
    client.execute()
    (error,) = [o for o in notebook.cells[1].outputs if o.output_type == "error"]
    return error, re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error.traceback))


@pytest.mark.slow
def test_a_failing_check_shows_the_message_and_only_the_students_frames():
    error, text = _traceback(TEST_CELL)
    assert error.ename == "AssertionError"
    assert error.evalue.splitlines()[1] == "This is exactly what you get if the kernel is flipped."
    assert "convcourse" not in text.replace("from convcourse", ""), text
    assert "check_example(corr2d" in text  # the test cell's own line stays


@pytest.mark.slow
def test_the_students_own_frames_stay():
    """An exception in the student's code: its own frame and line stay (as the cause), and the message read last
    names the worked example, its shapes and their layout (issue 21, problem 8)."""
    error, text = _traceback(RAISING_CELL)
    assert error.ename == "AssertionError"
    assert error.evalue.startswith("corr2d raised ValueError on this worked example: "
                                   "corr2d(image of shape (3, 3), kernel of shape (2, 2)). Here image (3, 3) is (H, W)")
    assert "student bug on line two" in error.evalue
    assert 'raise ValueError("student bug on line two")' in text
    assert "student/checks.py" not in text and "call_graded" not in text, text
