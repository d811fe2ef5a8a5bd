"""nbgrader configuration for this course: ``solutions/`` is the source, ``exercises/`` the release.

Grading artefacts (submissions, autograded notebooks, feedback, the gradebook) live in
``.grading/``, which git ignores. Run nbgrader from the repository root.
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from convcourse.grader import metadata_schema
from convcourse.grader.contained import ContainedExecute
from convcourse.grader.feedback import TEMPLATE_FOLDER, TEMPLATE_NAME, CapOutputs, HideHiddenTests, MathAsMathML
from convcourse.grader.precompute import cache_folder
from convcourse.grader.sandbox import KERNEL_NAME
from convcourse.grader.service import settings as service_settings

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))
GRADING = os.environ.get("CONVCOURSE_GRADING_DIR", os.path.join(COURSE_ROOT, ".grading"))

# Private to the grader: submissions run as another user and must not read the gradebook or each other.
os.makedirs(GRADING, exist_ok=True)
os.chmod(GRADING, 0o700)

c = get_config()  # noqa: F821 (nbgrader provides get_config when it loads this file)

# Every cell's nbgrader metadata is still validated, against a schema checked once per process, not per cell.
metadata_schema.install()

c.CourseDirectory.course_id = "convolutions-by-hand"
c.CourseDirectory.root = COURSE_ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = os.path.relpath(os.path.join(GRADING, "submitted"), COURSE_ROOT)
c.CourseDirectory.autograded_directory = os.path.relpath(os.path.join(GRADING, "autograded"), COURSE_ROOT)
c.CourseDirectory.feedback_directory = os.path.relpath(os.path.join(GRADING, "feedback"), COURSE_ROOT)
# The grading service's PostgreSQL database when CONVCOURSE_SERVICE names one (README, "A grading service").
c.CourseDirectory.db_url = service_settings.gradebook_url(COURSE_ROOT) if service_settings.configured() \
    else "sqlite:///" + os.path.join(GRADING, "gradebook.db")

# Each assignment is one notebook named after its folder.
c.CourseDirectory.notebook_id = "*"

# Submissions' kernels run in the grading sandbox (convcourse/grader/sandbox.py: bubblewrap, cgroups, a private
# scratch); test cells run here, in the grader (convcourse/grader/execute.py). Their kernel manager knows its kernel
# spec (convcourse.grader.sandbox.kernel_spec): none is looked up on the Jupyter path.
c.Execute.kernel_name = KERNEL_NAME
# Seeded cases are the same for every student: their Keras references are computed once, kept here.
os.environ.setdefault("CONVCOURSE_REFERENCE_CACHE", cache_folder(COURSE_ROOT))

# Verdicts are computed in the grader, never in the student's kernel, by a grading process that serves that one
# student and then ends, within its own limits (convcourse/grader/contained.py); a dead or stuck kernel costs the
# student the cells it affects, never the whole notebook or the batch.
c.Autograde.autograde_preprocessors = [
    ContainedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]

# A cell that runs longer than this is interrupted and loses its points; the rest of the notebook still runs.
c.Execute.timeout = int(os.environ.get("CONVCOURSE_CELL_TIMEOUT", 120))
c.Execute.startup_timeout = 120
# Kill the kernel when the notebook is done instead of waiting for TensorFlow to tear down (about 1 s each).
c.Execute.shutdown_kernel = "immediate"

# After a timeout the kernel has this long to obey the interrupt before it is restarted.
c.ResilientExecute.interrupt_grace = int(os.environ.get("CONVCOURSE_INTERRUPT_GRACE", 10))
c.ResilientExecute.max_restarts = 5

# A student who deletes a test cell gets it back, hidden tests included.
c.OverwriteCells.add_missing_cells = True

# Feedback explains failures without showing hidden tests or traceback lines that quote them, and is sanitised:
# no script, event handler or iframe from a student's markdown or outputs runs in it. Every output is cut to a bound
# first (a result or an error message of tens of megabytes makes a page of a few kilobytes), whatever the autograded
# notebook holds (the executor caps outputs as they arrive; notebooks graded before it did are capped here too).
c.GenerateFeedback.preprocessors = [CapOutputs, GetGrades, HideHiddenTests, SanitizeHTML, MathAsMathML,
                                    CSSHTMLHeaderPreprocessor]
c.SanitizeHTML.enabled = True  # nbconvert's preprocessors run only when enabled
# The page is read offline and by everyone: formulas as MathML (no MathJax from a CDN), a language, links and
# labels of AA contrast, failure messages that wrap, and contents that name each test cell and its verdict.
c.HTMLExporter.template_name = TEMPLATE_NAME
c.HTMLExporter.extra_template_basedirs = [TEMPLATE_FOLDER]
c.CSSHTMLHeaderPreprocessor.style = "a11y-high-contrast-light"  # code colours of AA contrast (accessible-pygments)

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
