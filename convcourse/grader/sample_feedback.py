"""The sample feedback page of the book: a real submission with one plausible mistake, graded by the real flow.

    python -m convcourse.grader.sample_feedback kit/feedback-example.html

Assignment 01 is answered with the solution's functions except ``corr2d``, which turns the kernel by 180 degrees
(a true convolution, the most common mistake of the course). The notebook is autograded in a throw-away course
folder and its feedback page — exactly what the student would receive — is written to OUTPUT. ``make
feedback-example`` regenerates it; the book links it from its home page and the class test
(``tests/test_classroom.py``) checks that its messages are what grading gives today.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from convcourse.grader import grading

ASSIGNMENT = "01_cross_correlation"
STUDENT = "sample-student"
FLIPPED_KERNEL = '''def corr2d(image, kernel):
    """Valid, stride-1 cross-correlation of ``image (H, W)`` with ``kernel (kh, kw)``."""
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"image and kernel must be 2-D, got {image.shape} and {kernel.shape}")
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"kernel of shape {kernel.shape} does not fit in image of shape {image.shape}")
    kernel = kernel[::-1, ::-1]  # turning the kernel around: the mistake
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
'''


def write_sample_feedback(output, repo_root=grading.REPO_ROOT):
    """Grade the sample submission through nbgrader and copy its feedback page to ``output``."""
    with tempfile.TemporaryDirectory(prefix="convcourse-sample-") as folder:
        course = grading.prepare_course(folder, [ASSIGNMENT], repo_root)
        release = grading.generate_assignment(course, ASSIGNMENT)
        answers = grading.solution_answers(Path(repo_root) / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        answers["corr2d"] = FLIPPED_KERNEL
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
