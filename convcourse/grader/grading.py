"""Grading through the real nbgrader commands: course folders, submissions, autograding, scores.

Used by the instructor's flow and by the tests. A *course root* is a folder with
``nbgrader_config.py`` and ``solutions/``; nbgrader's own commands run inside it.
"""

import os
import re
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from convcourse.grader import nbgrader_runner
from convcourse.grader.gradebook import course_gradebook, place_empty_gradebook

REPO_ROOT = Path(__file__).resolve().parents[2]


def nbgrader_environment(course_root):
    """The environment of nbgrader's commands (and of what they start) for ``course_root``."""
    # nbgrader calls the ``alembic`` and ``jupyter`` scripts that sit beside this interpreter.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return dict(os.environ, PATH=path, CONVCOURSE_GRADING_DIR=str(Path(course_root) / ".grading"))


def nbgrader(course_root, *arguments):
    """Run ``nbgrader <arguments>`` in ``course_root`` (a fork of :mod:`convcourse.grader.nbgrader_runner`, as
    ``python -m nbgrader`` with this interpreter); raise with its output if it fails. Returns the output."""
    returncode, output = nbgrader_runner.run(arguments, course_root, nbgrader_environment(course_root))
    if returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(arguments)} failed with exit code {returncode}:\n{output}")
    return output


def prepare_course(course_root, assignments=None, repo_root=REPO_ROOT):
    """Copy ``nbgrader_config.py`` and the solutions of ``assignments`` (all by default) into ``course_root``."""
    course_root = Path(course_root)
    course_root.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(repo_root) / "nbgrader_config.py", course_root / "nbgrader_config.py")
    for source in sorted((Path(repo_root) / "solutions").iterdir()):
        if source.is_dir() and (assignments is None or source.name in assignments):
            shutil.copytree(source, course_root / "solutions" / source.name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    place_empty_gradebook(course_root, nbgrader_environment(course_root))
    return course_root


def generate_assignment(course_root, assignment):
    """``nbgrader generate_assignment``: the release in ``exercises/`` and the hidden tests in the gradebook;
    then the Keras references of those tests, computed once for every class that will be graded."""
    nbgrader(course_root, "generate_assignment", assignment, "--force")
    precompute_references(course_root, assignment)
    return Path(course_root) / "exercises" / assignment / f"{assignment}.ipynb"


def precompute_references(course_root, assignment):
    """:mod:`convcourse.grader.precompute` in a process of its own, unless nothing changed since it last ran; its
    complaints (the solution failing its own tests) are returned, for the log."""
    from convcourse.grader.precompute import is_complete

    environment = nbgrader_environment(course_root)
    if is_complete(course_root, assignment, environment):
        return ""
    completed = subprocess.run(
        [sys.executable, "-m", "convcourse.grader.precompute", str(course_root), assignment], cwd=course_root,
        env=environment, capture_output=True, text=True,
    )
    if completed.returncode:
        return f"precomputing the references of {assignment} failed:\n{completed.stderr[-3000:]}\n"
    return "".join(line + "\n" for line in completed.stderr.splitlines() if line.startswith("precompute "))


def submission_path(course_root, assignment, student):
    return Path(course_root) / ".grading" / "submitted" / student / assignment / f"{assignment}.ipynb"


def autograded_path(course_root, assignment, student):
    return Path(course_root) / ".grading" / "autograded" / student / assignment / f"{assignment}.ipynb"


def submitted_students(course_root, assignment):
    """The students with a submission folder for ``assignment``, sorted."""
    submitted = Path(course_root) / ".grading" / "submitted"
    return sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())


def submit(course_root, assignment, student, notebook):
    """Place ``notebook`` (a path or a notebook node) as ``student``'s submission, as ``nbgrader collect`` would."""
    target = submission_path(course_root, assignment, student)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, (str, os.PathLike)):
        shutil.copy(notebook, target)
    else:
        nbformat.write(notebook, target)
    return target


def _autograde_batch(course_root, assignment, batch, progress):
    """One ``nbgrader autograde`` process grading ``batch`` (all other students excluded), reporting each start."""
    excluded = ",".join(s for s in submitted_students(course_root, assignment) if s not in batch)
    arguments = ["autograde", assignment, "--force"]
    if len(batch) == 1:
        arguments.append(f"--student={batch[0]}")
    elif excluded:
        arguments.append(f"--CourseDirectory.student_id_exclude={excluded}")
    # The executor boots the next notebook's kernel while one is graded; told the count, it spares the last one.
    environment = dict(nbgrader_environment(course_root), CONVCOURSE_NOTEBOOKS_IN_PROCESS=str(len(batch)))

    def on_line(line):
        started = _AUTOGRADING.search(line)
        if started:
            progress(started.group("student"))

    try:
        return nbgrader_runner.run(arguments, course_root, environment, on_line)
    except nbgrader_runner.RunnerGone as error:  # its students are missing from the results: graded again, alone
        return -1, f"{error}\n"


_AUTOGRADING = re.compile(r"\| INFO\] Autograding .*[\\/]autograded[\\/](?P<student>[^\\/]+)[\\/]")


def autograde(course_root, assignment, students, workers=1, progress=None, retried=None):
    """``nbgrader autograde`` every student in ``students``, with ``workers`` processes sharing one gradebook.

    Students are dealt round-robin into one batch per worker; each batch is one nbgrader process. A
    notebook writes only its own submission's rows, so the grades equal those of a sequential run.
    ``progress(student, done, total)`` is called as each notebook starts; students whose notebook had to be
    graded a second time are added to ``retried``. Returns the nbgrader logs.
    """
    students = list(students)
    workers = max(1, min(workers, len(students)))
    # Once here rather than in every worker: each would otherwise import TensorFlow for the same references.
    log = precompute_references(course_root, assignment)
    batches = [students[k::workers] for k in range(workers)]
    started = []
    lock = threading.Lock()

    def report(student):
        with lock:
            started.append(student)
            if progress is not None:
                progress(student, len(started), len(students))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda batch: _autograde_batch(course_root, assignment, batch, report),
                                batches))
    log += "".join(batch_log for _, batch_log in results)
    # A notebook nbgrader could not grade at all (its kernel never started) is an incident for that student
    # alone: it is tried once more, by itself.
    missing = [s for s in students if not autograded_path(course_root, assignment, s).exists()]
    for student in missing:
        log += _autograde_batch(course_root, assignment, [student], lambda _: None)[1]
    if retried is not None:
        retried.extend(missing)
    return log


def gradebook_url(course_root):
    """nbgrader's ``db_url``: the grading service's PostgreSQL database when ``CONVCOURSE_SERVICE`` names one
    (:mod:`convcourse.grader.service.settings`), else the course's SQLite file."""
    from convcourse.grader.service import settings

    if settings.configured():
        return settings.database_url()
    return f"sqlite:///{course_gradebook(course_root)}"


def scores(course_root, assignment, students=None):
    """``{student: {grade_id: (score, max_score)}}`` for every graded test cell of ``students`` (default: all),
    read from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    def submission_of(gradebook, student):
        try:
            return [gradebook.find_submission(assignment, student)]
        except MissingEntry:
            return []

    results = {}
    with Gradebook(gradebook_url(course_root)) as gradebook:
        if students is None:
            found = gradebook.assignment_submissions(assignment)
        else:
            found = [entry for student in students for entry in submission_of(gradebook, student)]
        for submission in found:
            grades = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.auto_score is not None or grade.max_score:
                        grades[grade.name] = (float(grade.score), float(grade.max_score))
            results[submission.student.id] = grades
    return results


def student_notebook(release_notebook, answers):
    """The release notebook with the answer cells in ``answers`` (``{grade_id: source}``) filled in."""
    notebook = nbformat.read(release_notebook, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def solution_answers(solution_notebook):
    """``{grade_id: source}`` of the answer cells of an instructor notebook, solution markers removed."""
    notebook = nbformat.read(solution_notebook, as_version=4)
    answers = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            lines = [line for line in cell.source.split("\n")
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers
