"""nbgrader preprocessor for student feedback: it explains failures without revealing hidden tests.

In every autograded test cell the ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``
region is replaced by one comment line, a test cell keeps no output but its error, and every error keeps only its last
line (``AssertionError: conv2d is wrong in configuration 3 of 60 ...``): tracebacks
quote the source lines they pass through, hidden ones included. The page itself is the course's template
(``templates/feedback-page``), with its formulas written as MathML (:class:`MathAsMathML`).
"""

from pathlib import Path

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode

from convcourse.grader.execute import NOTE_PREFIX
from convcourse.grader.mathml import replace_math

# The course's feedback page (an nbconvert template in ``templates/``).
TEMPLATE_NAME = "feedback-page"
TEMPLATE_FOLDER = str(Path(__file__).parent / "templates")


HIDDEN_NOTICE = "# (hidden tests: their code is not shown; this cell's score is their result)"


class HideHiddenTests(NbGraderPreprocessor):
    """Replace hidden test regions and reduce tracebacks to their final ``ename: evalue`` line."""

    begin_marker = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end_marker = Unicode("END HIDDEN TESTS").tag(config=True)

    def _without_hidden_region(self, source):
        lines, hidden = [], False
        for line in source.split("\n"):
            if self.begin_marker in line:
                hidden = True
                lines.append(line[: len(line) - len(line.lstrip())] + HIDDEN_NOTICE)
            elif self.end_marker in line:
                hidden = False
            elif not hidden:
                lines.append(line)
        return "\n".join(lines)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if utils.is_grade(cell) or self.begin_marker in cell.source:
            cell.source = self._without_hidden_region(cell.source)
        if utils.is_grade(cell) and not utils.is_solution(cell):
            # A test cell's only output is the grader's verdict; nothing else may pass through to the student.
            cell.outputs = [output for output in cell.get("outputs", []) if output.output_type == "error"
                            or output.get("text", "").startswith(NOTE_PREFIX)]
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class MathAsMathML(NbGraderPreprocessor):
    """Write each markdown cell's TeX as MathML (:mod:`convcourse.grader.mathml`): the feedback page then shows its
    formulas offline and without scripts. Runs after ``SanitizeHTML``, on markdown that is already sanitised.

    A notebook's first ``max_formulas`` formulas are converted, the rest stay as TeX: the feedback of a whole class
    is made in one process, and a submission with a million formulas must not hold it up."""

    max_formulas = Integer(2000).tag(config=True)

    def preprocess(self, nb, resources):
        self._left = self.max_formulas
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and self._left > 0:
            cell.source, converted = replace_math(cell.source, self._left)
            self._left -= converted
        return cell, resources
