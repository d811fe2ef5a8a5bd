"""Why a notebook was not graded: the instructor's summary gives nbgrader's own reason (cut to a bound) and names
the nbgrader metadata a submission changed, instead of blaming a kernel that never failed to start."""

import pytest
from corpus import REPO

from convcourse.grader import classroom, grading
from convcourse.grader.sandbox import isolation_problems

ASSIGNMENT = "01_cross_correlation"
# As nbgrader logs them (its log formatter indents a record's further lines by four spaces).
LOG = """[AutogradeApp | INFO] Sanitizing /c/.grading/submitted/ann/01_x/01_x.ipynb
[AutogradeApp | INFO] Autograding /c/.grading/autograded/ann/01_x/01_x.ipynb
[AutogradeApp | INFO] Sanitizing /c/.grading/submitted/ben/01_x/01_x.ipynb
[AutogradeApp | ERROR] There was an error processing assignment: /c/.grading/submitted/ben/01_x
[AutogradeApp | ERROR] Traceback (most recent call last):
      File "nbgrader/converters/base.py", line 390, in convert_notebooks
        self.convert_single_notebook(notebook_filename)
      File "nbgrader/nbgraderformat/v3.py", line 68, in validate_cell
        raise ValidationError("nbgrader cell does not have a grade_id: {}".format(cell.source))
    jsonschema.exceptions.ValidationError: nbgrader cell does not have a grade_id: def f():
    {long}
    
/c/nbgrader/api.py:2229: SAWarning: a warning on stderr, outside any record
[AutogradeApp | INFO] Sanitizing /c/.grading/submitted/cem/01_x/01_x.ipynb
[AutogradeApp | ERROR] One or more notebooks in the assignment use an old version 
    of the nbgrader metadata format.
    
[AutogradeApp | ERROR] There was an error processing assignment '01_x' for student 'ben'
[AutogradeApp | ERROR] Please see the the above traceback for details on the specific errors on the above failures.
[AutogradeApp | INFO] Sanitizing /c/.grading/submitted/ben/01_x/01_x.ipynb
[AutogradeApp | INFO] Autograding /c/.grading/autograded/ben/01_x/01_x.ipynb
""".replace("{long}", "    return 1" * 1_000_000)


def test_nbgraders_reason_is_read_from_its_log_and_cut():
    ann, ben, cem = (classroom.nbgrader_failures(LOG, student) for student in ("ann", "ben", "cem"))
    assert ann == [None] and ben[1] is None
    assert ben[0].startswith("jsonschema.exceptions.ValidationError: nbgrader cell does not have a grade_id: def f():")
    assert len(ben[0]) < 2 * classroom.MAX_MESSAGE and ben[0].endswith("characters]")
    assert cem == ["One or more notebooks in the assignment use an old version of the nbgrader metadata format."]
    assert classroom.nbgrader_failures(LOG, "dan") == []


@pytest.mark.slow
@pytest.mark.skipif(bool(isolation_problems()), reason="grading needs root, bubblewrap and cgroups")
def test_a_notebook_with_tampered_grade_metadata_is_reported_with_the_real_reason(tmp_path):
    """A test cell's points changed to a word: nbgrader cannot grade the notebook. The summary says what nbgrader
    said and which metadata changed, not that a kernel did not start; the classmates around it keep full marks."""
    course = grading.prepare_course(tmp_path / "course", [ASSIGNMENT])
    release = grading.generate_assignment(course, ASSIGNMENT)
    answers = grading.solution_answers(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    tampered = grading.student_notebook(release, answers)
    test = next(cell for cell in tampered.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_corr2d_example")
    test.metadata["nbgrader"]["points"] = "lots"
    for student, notebook in [("a-before", grading.student_notebook(release, answers)), ("b-tampered", tampered),
                              ("c-after", grading.student_notebook(release, answers))]:
        grading.submit(course, ASSIGNMENT, student, notebook)

    outcome = classroom.autograde(course, ASSIGNMENT, workers=1)

    for student in ("a-before", "c-after"):
        assert outcome[student]["score"] == outcome[student]["max_score"] > 0, outcome[student]
    notes = " ".join(outcome["b-tampered"]["notes"])
    assert "kernel did not start" not in notes, notes
    assert "could not convert string to float: 'lots'" in notes, notes
    assert "test_corr2d_example points: 1 -> 'lots'" in notes, notes


def _tidied(tmp_path, change):
    """``tidy_submission`` of the release with ``change`` applied to a copy of it; its notes and notebook."""
    import shutil

    import nbformat

    release = tmp_path / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    release.parent.mkdir(parents=True)
    shutil.copy(REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", release)
    notebook = nbformat.read(release, as_version=4)
    change(notebook.cells)
    submitted = grading.submit(tmp_path, ASSIGNMENT, "student", notebook)
    notes = classroom.tidy_submission(tmp_path, ASSIGNMENT, "student")
    return notes, nbformat.read(submitted, as_version=4)


def test_changed_metadata_is_named_and_cut(tmp_path):
    def change(cells):
        cells[4].metadata["nbgrader"]["points"] = "p" * 100_000
        cells[5].metadata["nbgrader"]["grade_id"] = "mine"

    notes, _ = _tidied(tmp_path, change)
    [note] = notes
    assert "test_corr2d_example points: 1 -> 'ppp" in note and "grade_id 'mine' is not in the release" in note
    assert len(note) < 1_000


def test_unreadable_metadata_does_not_stop_the_class(tmp_path):
    """nbgrader metadata that is not a mapping, or a grade_id that is not text, once made tidying (and so the
    whole class's grading) fail; those cells are now graded as ordinary cells, and the instructor is told."""
    def change(cells):
        cells[4].metadata["nbgrader"] = "not a mapping"
        cells[5].metadata["nbgrader"]["grade_id"] = ["test_corr2d_against_keras"]

    notes, notebook = _tidied(tmp_path, change)
    assert any("could not be read" in note for note in notes), notes
    assert "nbgrader" not in notebook.cells[4].metadata and "nbgrader" not in notebook.cells[5].metadata
