"""nbgrader configuration for this course: ``solutions/`` is the source, ``exercises/`` the release.

Grading artefacts (submissions, autograded notebooks, feedback, the gradebook) live in
``.grading/``, which git ignores. Run nbgrader from the repository root.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from convcourse.feedback import HideHiddenTests

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))
GRADING = os.environ.get("CONVCOURSE_GRADING_DIR", os.path.join(COURSE_ROOT, ".grading"))

os.makedirs(GRADING, exist_ok=True)

c = get_config()  # noqa: F821 (nbgrader provides get_config when it loads this file)

c.CourseDirectory.course_id = "convolutions-by-hand"
c.CourseDirectory.root = COURSE_ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = os.path.relpath(os.path.join(GRADING, "submitted"), COURSE_ROOT)
c.CourseDirectory.autograded_directory = os.path.relpath(os.path.join(GRADING, "autograded"), COURSE_ROOT)
c.CourseDirectory.feedback_directory = os.path.relpath(os.path.join(GRADING, "feedback"), COURSE_ROOT)
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(GRADING, "gradebook.db")

# Each assignment is one notebook named after its folder.
c.CourseDirectory.notebook_id = "*"

# A cell that runs longer than this is interrupted and loses its points; the rest of the notebook still runs.
c.Execute.timeout = 120
c.Execute.startup_timeout = 120

# A student who deletes a test cell gets it back, hidden tests included.
c.OverwriteCells.add_missing_cells = True

# Feedback explains failures without showing hidden tests or traceback lines that quote them.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
