"""The sample feedback page of the book: a submission in which no function is a correct answer, graded by the
real flow.

    python -m convcourse.grader.sample_feedback kit/feedback-example.html

Assignment 01 is answered with three typical mistakes, one per function, so that the page shows what failed
checks say (a named mistake, a wrong shape, a wrong count) and gives no working answer away: ``corr2d`` turns the
kernel by 180 degrees (a true convolution, the most common mistake of the course), ``conv2d`` slides its window
one position too far, and ``conv_params`` leaves the input channels out. The code carries no comment that points
at its mistake. The notebook is autograded in a throw-away course folder and its feedback page — exactly what the
student would receive — is written to OUTPUT. ``make feedback-example`` regenerates it; the book links it from
its home page and the class test (``tests/test_classroom.py``) checks that its messages are what grading gives
today.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from convcourse.grader import grading

ASSIGNMENT = "01_cross_correlation"
STUDENT = "sample-student"
# One typical mistake per function; a student reading the page sees the mistake named, never a correct answer.
SAMPLE_ANSWERS = {
    "corr2d": '''def corr2d(image, kernel):
    """Valid, stride-1 cross-correlation of ``image (H, W)`` with ``kernel (kh, kw)``."""
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"image and kernel must be 2-D, got {image.shape} and {kernel.shape}")
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"kernel of shape {kernel.shape} does not fit in image of shape {image.shape}")
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for a in range(kh):
                for b in range(kw):
                    out[i, j] += image[i + a, j + b] * kernel[kh - 1 - a, kw - 1 - b]
    return out
''',
    "conv2d": '''def conv2d(x, kernel, bias=None):
    """Valid, stride-1 Conv2D of ``x (N, H, W, C_in)`` with ``kernel (kh, kw, C_in, C_out)``."""
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    if x.ndim != 4 or kernel.ndim != 4 or kernel.shape[2] != x.shape[3]:
        raise ValueError(f"x must be (N, H, W, C) and kernel (kh, kw, C, F) with the same C: {x.shape}, {kernel.shape}")
    if kernel.shape[0] > x.shape[1] or kernel.shape[1] > x.shape[2]:
        raise ValueError(f"kernel of shape {kernel.shape} does not fit in x of shape {x.shape}")
    if bias is not None and np.shape(bias) != (kernel.shape[3],):
        raise ValueError(f"bias must have shape ({kernel.shape[3]},), got {np.shape(bias)}")
    kh, kw = kernel.shape[:2]
    padded = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))
    out = np.einsum("nhwcab,abcf->nhwf", windows, kernel)
    return out if bias is None else out + bias
''',
    "conv_params": '''def conv_params(kernel_size, in_channels, filters, use_bias=True):
    """The number of trainable parameters of a Conv2D layer."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    for name, value in (("kernel_size", kh), ("kernel_size", kw), ("in_channels", in_channels), ("filters", filters)):
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
    return kh * kw * filters + (filters if use_bias else 0)
''',
}


def write_sample_feedback(output, repo_root=grading.REPO_ROOT):
    """Grade the sample submission through nbgrader and copy its feedback page to ``output``."""
    with tempfile.TemporaryDirectory(prefix="convcourse-sample-") as folder:
        course = grading.prepare_course(folder, [ASSIGNMENT], repo_root)
        release = grading.generate_assignment(course, ASSIGNMENT)
        answers = grading.solution_answers(Path(repo_root) / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        if set(answers) != set(SAMPLE_ANSWERS):
            raise RuntimeError(f"the sample answers {sorted(SAMPLE_ANSWERS)} must be exactly {ASSIGNMENT}'s "
                               f"answer cells {sorted(answers)}: the page must show no correct answer")
        answers = dict(SAMPLE_ANSWERS)
        grading.submit(course, ASSIGNMENT, STUDENT, grading.student_notebook(release, answers))
        grading.autograde(course, ASSIGNMENT, [STUDENT])
        grading.nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
        page = Path(course) / ".grading" / "feedback" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.html"
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, output)
    return Path(output)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m convcourse.grader.sample_feedback OUTPUT.html")
    print(f"sample feedback written to {write_sample_feedback(sys.argv[1])}")


def failure_messages(page):
    """The failure messages of a feedback page, as text, in order."""
    import html
    import re

    return [html.unescape(re.sub(r"<[^>]+>", "", match)).strip()
            for match in re.findall(r"AssertionError: (.*?)</pre>", Path(page).read_text(), flags=re.S)]
