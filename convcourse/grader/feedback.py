"""nbgrader preprocessor for student feedback: it explains failures without revealing hidden tests.

In every autograded test cell the ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``
region is replaced by one comment line, a test cell keeps no output but its error, and every error keeps only its last
line (``AssertionError: conv2d is wrong in configuration 3 of 60 ...``): tracebacks
quote the source lines they pass through, hidden ones included. The page itself is the course's template
(``templates/feedback-page``), with its formulas written as MathML (:class:`MathAsMathML`). Before anything else,
every output is cut to a bound (:class:`CapOutputs`): a student's code chooses how much it prints, returns or puts in
an error message, and its feedback page must stay small whatever the autograded notebook holds.
"""

import json
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode

from convcourse.grader.caps import cut, cut_lines, cut_note
from convcourse.grader.execute import NOTE_PREFIX
from convcourse.grader.mathml import replace_math

# The course's feedback page (an nbconvert template in ``templates/``).
TEMPLATE_NAME = "feedback-page"
TEMPLATE_FOLDER = str(Path(__file__).parent / "templates")


HIDDEN_NOTICE = "# (hidden tests: their code is not shown; this cell's score is their result)"

# Representations of a result or a display that are text, cut as text; any other one (HTML, SVG, JSON, ...) is
# kept whole or dropped, since a cut one would be broken markup.
_PLAIN = "text/plain"
_BINARY = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")
_OUTPUT_KEYS = {
    "stream": {"output_type", "name", "text"},
    "display_data": {"output_type", "data", "metadata"},
    "execute_result": {"output_type", "data", "metadata", "execution_count"},
    "error": {"output_type", "ename", "evalue", "traceback"},
}
_MAX_NAME = 200
_MAX_METADATA = 2_000


def _size(value):
    return len(value) if isinstance(value, str) else len(json.dumps(value, default=str))


def _note(text):
    return new_output("stream", name="stdout", text=text)


def _count(value):
    """An execution count as shown (``In [n]``), or none when the kernel sent something else."""
    return value if isinstance(value, int) and 0 <= value < 10**9 else None


class CapOutputs(NbGraderPreprocessor):
    """Cut every output of every cell to a bound, with a note ``[… cut: N characters]`` where something was cut.

    Stream text, a result's or display's text and an error's message keep their first ``max_text_chars``; a
    traceback keeps lines up to as many characters; an image is kept whole up to ``max_image_chars`` (a plot
    is some tens of thousands); any other representation (HTML, SVG, JSON, ...) whole up to ``max_text_chars``.
    A test cell's outputs (the grader's verdict) are always shown, so cut; the outputs of all other cells share
    ``max_notebook_chars``, and once it is used up a cell's outputs are replaced by the note alone.
    """

    max_text_chars = Integer(10_000, help="Characters kept of one output's text or message.").tag(config=True)
    max_image_chars = Integer(250_000, help="Characters (base64) of an image shown whole; a larger one is left "
                                            "out.").tag(config=True)
    max_notebook_chars = Integer(400_000, help="Characters of output of a notebook's cells other than test "
                                               "cells, together.").tag(config=True)

    def preprocess(self, nb, resources):
        self._left = self.max_notebook_chars
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.get("outputs"):
            return cell, resources
        cell.execution_count = _count(cell.get("execution_count"))
        outputs = [self._capped(output) for output in cell.outputs]
        if utils.is_grade(cell) and not utils.is_solution(cell):
            cell.outputs = outputs
            return cell, resources
        size = sum(_size(output) for output in outputs)
        if size <= self._left:
            self._left -= size
            cell.outputs = outputs
        else:
            self._left = 0
            cell.outputs = [_note(cut_note(size) + " (this notebook's feedback shows at most "
                                            f"{self.max_notebook_chars:,} characters of output)")]
        return cell, resources

    def _capped(self, output):
        kind = output.get("output_type")
        if kind not in _OUTPUT_KEYS:
            return _note(cut_note(_size(output)) + f" (an output of unknown type {cut(kind, _MAX_NAME)})")
        for key in set(output) - _OUTPUT_KEYS[kind]:
            del output[key]
        if kind == "stream":
            output.name = "stderr" if output.get("name") == "stderr" else "stdout"
            output.text = cut(output.get("text", ""), self.max_text_chars, separator="\n")
        elif kind == "error":
            output.ename = cut(output.get("ename", ""), _MAX_NAME)
            output.evalue = cut(output.get("evalue", ""), self.max_text_chars)
            output.traceback = cut_lines(output.get("traceback", []), self.max_text_chars)
        else:
            output.data = self._capped_data(output.get("data", {}))
            if _size(output.get("metadata", {})) > _MAX_METADATA:
                output.metadata = {}
            if kind == "execute_result":
                output.execution_count = _count(output.get("execution_count"))
        return output

    def _capped_data(self, data):
        capped, dropped = {}, []
        for mime, value in data.items():
            size = _size(value)
            if mime == _PLAIN:
                capped[mime] = cut(value, self.max_text_chars, separator="\n")
            elif len(mime) <= _MAX_NAME and size <= (
                    self.max_image_chars if mime in _BINARY else self.max_text_chars):
                capped[mime] = value
            else:
                dropped.append(f"{cut_note(size)} ({cut(mime, _MAX_NAME)} left out)")
        if dropped:
            capped[_PLAIN] = "\n".join(filter(None, [capped.get(_PLAIN)] + dropped))
        return capped


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
