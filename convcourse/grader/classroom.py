"""The instructor's flow at class scale, on nbgrader's own commands and gradebook.

    python -m convcourse.grader.classroom release [ASSIGNMENT ...]
    python -m convcourse.grader.classroom collect ASSIGNMENT               # JupyterHub exchange (nbgrader collect)
    python -m convcourse.grader.classroom collect-zip ASSIGNMENT ZIP       # an LMS download (convcourse.grader.collect)
    python -m convcourse.grader.classroom autograde ASSIGNMENT [--workers N]
    python -m convcourse.grader.classroom feedback ASSIGNMENT
    python -m convcourse.grader.classroom grades [--output grades.csv]
    python -m convcourse.grader.classroom report [ASSIGNMENT ...] [--output class-report.html]

Run it from the course root (the repository). ``make`` targets of the same names call it.
Before grading, every submission folder is tidied (``tidy_submission``): a notebook under another
name is renamed, a file that is not a notebook is replaced by the untouched release (so the student is
graded, with 0 and a reason), and cells whose nbgrader metadata was stripped get it back by matching
the release. What happened to each student goes to ``.grading/reports/<assignment>.json``; a notebook nbgrader
could not grade is reported with nbgrader's own reason (from its log), and every message a submission can make
long (failure messages, nbgrader's errors, names) is cut to a bound there (:mod:`convcourse.grader.caps`).
"""

import argparse
import json
import os
import re
import shutil
import sys
import textwrap
import time
import uuid
from pathlib import Path

import nbformat

from convcourse.grader import grading
from convcourse.grader.caps import cut
from convcourse.grader.collect import COLLECT_SUFFIX, collect_download
from convcourse.grader.sandbox import destroy_boxes_of_run, destroy_orphaned_boxes, isolation_problems, unsafe_mode
from convcourse.grader.service import settings as service_settings

INCIDENTS = {"KernelDied", "KernelUnresponsive", "NotRun", "CellTimeoutError", "NotebookTimeLimit", "GradingLimit"}
MISSING_CELL = re.compile(r"This cell \(id:(?P<grade_id>[^)]*)\) was missing from the submission")
# What the report keeps of each message a submission can make long, and how many errors of cells other than test
# cells (a student's own cells) it keeps per student.
MAX_MESSAGE = 4_000
MAX_NAME = 200
MAX_OTHER_ERRORS = 20
# nbgrader's log: a record is ``[AutogradeApp | LEVEL] message`` with its further lines indented by four spaces; a
# notebook's part begins where nbgrader starts sanitising it.
_LOG_RECORD = re.compile(r"^\[\w+ \| (?P<level>[A-Z]+)\] ?(?P<message>.*)$")
_SANITIZING = re.compile(r"\| INFO\] Sanitizing .*[\\/]submitted[\\/](?P<student>[^\\/]+)[\\/]")
_GENERIC_ERRORS = ("There was an error processing assignment", "Please see the")
STOPPED_BEFORE = "the nbgrader process grading it stopped before it reached this notebook"
NO_REASON = "nbgrader's log gives no reason"


def _course(course_root):
    return Path(course_root).resolve()


def _release_notebook(course_root, assignment):
    return _course(course_root) / "exercises" / assignment / f"{assignment}.ipynb"


def _reports_dir(course_root):
    folder = _course(course_root) / ".grading" / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def release(course_root, assignments):
    for assignment in assignments:
        grading.generate_assignment(course_root, assignment)
        print(f"released {assignment} -> exercises/{assignment}/ (its Keras references are computed for grading)")


def collect(course_root, assignment):
    # Each student's last submission before the assignment's due date (the last one when there is none).
    grading.nbgrader(course_root, "collect", assignment, "--update", "--before-duedate")
    print(f"collected {assignment} from the exchange into .grading/submitted/")


def collect_zip(course_root, assignment, archive):
    """Collect an LMS download (:mod:`convcourse.grader.collect`): everyone collectable is, each bad entry is
    skipped and listed in ``.grading/reports/<assignment>-collect.json``."""
    submitted = _course(course_root) / ".grading" / "submitted"
    collected, skipped = collect_download(archive, submitted, assignment)
    report = _reports_dir(course_root) / f"{assignment}{COLLECT_SUFFIX}.json"
    report.write_text(json.dumps({"collected": collected, "skipped": skipped}, indent=1))
    print(f"collected {len(collected)} submissions of {assignment} from {Path(archive).name}")
    for entry, reason in skipped:
        print(f"  skipped {entry}: {reason}")
    if service_settings.configured():
        from convcourse.grader.service import intake

        # Graded on submission, like the exchange's: within each student's daily quota.
        for student in collected:
            folder = submitted / student / assignment
            stamp = time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime())
            for notebook in sorted(folder.glob("*.ipynb")):
                row = intake.submit("submit", student, assignment, notebook.read_bytes(), stamp)
                print(f"  {student}: {row['status']}" + (f" ({row['reason']})" if row["status"] != "queued" else ""))
    return collected


def _restore_metadata(notebook, release):
    """Give cells back the nbgrader metadata a submission lost: answers by their ``def``, others by source.

    Each release cell lends its metadata once, in order, so cells with the same source stay distinct.
    """
    unused = [cell for cell in release.cells if "nbgrader" in cell.metadata]
    restored = 0
    for cell in notebook.cells:
        if "nbgrader" in cell.metadata:
            continue
        match = next((c for c in unused if c.source == cell.source and c.cell_type == cell.cell_type), None)
        if match is None and cell.cell_type == "code":
            match = next((c for c in unused if c.metadata["nbgrader"].get("solution") and re.search(
                rf"^def {re.escape(c.metadata['nbgrader']['grade_id'])}\(", cell.source, flags=re.M)), None)
        if match is not None:
            unused.remove(match)
            cell.metadata["nbgrader"] = json.loads(json.dumps(match.metadata["nbgrader"]))
            restored += 1
    return restored


def _drop_duplicate_ids(notebook):
    """Keep the nbgrader metadata of the last cell of each grade_id only (nbgrader itself chokes on the others)."""
    seen, dropped = set(), []
    for cell in reversed(notebook.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            dropped.append(grade_id)
        seen.add(grade_id)
    return dropped


def _changed_metadata(notebook, release, shown=10):
    """What a submission changed in the nbgrader metadata of its cells, compared with the release, in words."""
    released = {cell.metadata["nbgrader"].get("grade_id"): cell.metadata["nbgrader"]
                for cell in release.cells if "nbgrader" in cell.metadata}
    changes = []
    for cell in notebook.cells:
        metadata = cell.metadata.get("nbgrader")
        if metadata is None:
            continue
        if not isinstance(metadata, dict):
            changes.append(f"a cell's nbgrader metadata is {cut(repr(metadata), MAX_NAME)}")
            continue
        grade_id = metadata.get("grade_id")
        original = released.get(grade_id) if isinstance(grade_id, str) else None
        if original is None:
            changes.append(f"grade_id {cut(repr(grade_id), MAX_NAME)} is not in the release")
            continue
        changes += [f"{grade_id} {cut(key, MAX_NAME)}: {cut(repr(original.get(key)), MAX_NAME)} -> "
                    f"{cut(repr(metadata.get(key)), MAX_NAME)}"
                    for key in sorted(set(original) | set(metadata), key=str) if original.get(key) != metadata.get(key)]
    if len(changes) > shown:
        changes[shown:] = [f"{len(changes) - shown} more"]
    return changes


def _drop_unreadable_metadata(notebook):
    """Drop the nbgrader metadata nbgrader itself cannot read (not a mapping, or a grade_id that is not text): the
    cell is graded as an ordinary one (a test cell comes back from the gradebook). Returns how many cells lost it."""
    dropped = 0
    for cell in notebook.cells:
        metadata = cell.metadata.get("nbgrader")
        if "nbgrader" in cell.metadata and not (isinstance(metadata, dict)
                                                and isinstance(metadata.get("grade_id", ""), str)):
            del cell.metadata["nbgrader"]
            dropped += 1
    return dropped


def tidy_submission(course_root, assignment, student):
    """Make ``student``'s submission gradable by nbgrader; return what was done, in words."""
    folder = _course(course_root) / ".grading" / "submitted" / student / assignment
    expected = folder / f"{assignment}.ipynb"
    release_path = _release_notebook(course_root, assignment)
    notes = []
    if not expected.exists():
        others = sorted(folder.glob("*.ipynb"), key=lambda p: p.stat().st_mtime)
        if others:
            others[-1].rename(expected)
            notes.append(f"the notebook was named {others[-1].name!r}; graded as {expected.name!r}")
        else:
            shutil.copy(release_path, expected)
            notes.append("no notebook was submitted; graded as the untouched release")
    try:
        notebook = nbformat.read(expected, as_version=4)
        nbformat.validate(notebook)
    except Exception as problem:
        # Kept for the instructor outside the submission folder, which nbgrader copies into autograded/.
        rejected = _course(course_root) / ".grading" / "rejected" / student / assignment
        rejected.mkdir(parents=True, exist_ok=True)
        shutil.move(expected, rejected / expected.name)
        shutil.copy(release_path, expected)
        notes.append(f"the file is not a valid notebook ({type(problem).__name__}); graded as the untouched release")
        return notes
    release = nbformat.read(release_path, as_version=4)
    changed = _changed_metadata(notebook, release)
    if changed:
        notes.append("the nbgrader cell metadata differs from the release's: " + "; ".join(changed))
    unreadable = _drop_unreadable_metadata(notebook)
    if unreadable:
        notes.append(f"the nbgrader metadata of {unreadable} cells could not be read; those cells were graded as "
                     "ordinary cells")
    if not any("nbgrader" in cell.metadata for cell in notebook.cells):
        restored = _restore_metadata(notebook, release)
        notes.append(f"the nbgrader cell metadata was missing; restored on {restored} cells by matching the release")
    duplicated = _drop_duplicate_ids(notebook)
    if duplicated:
        notes.append(f"cells {sorted(set(duplicated))} appeared more than once; the last copy of each was graded")
    nbformat.write(notebook, expected)
    return notes


def _exception_of(traceback_lines):
    """The exception a logged traceback ends with: its lines after the last frame and that frame's source."""
    lines = textwrap.dedent("\n".join(traceback_lines)).split("\n")
    frames = [position for position, line in enumerate(lines) if line.startswith("  File ")]
    rest = lines[frames[-1] + 1:] if frames else lines
    start = next((position for position, line in enumerate(rest) if line and not line[0].isspace()), len(rest))
    return "\n".join(rest[start:]).strip()


def nbgrader_failures(log, student):
    """What nbgrader's log says about each attempt at ``student``'s notebook, in order: the last error nbgrader
    logged while on it (for a traceback, the exception it ends with), in nbgrader's words, cut to MAX_MESSAGE
    characters; ``None`` for an attempt without an error."""
    attempts, current, record = [], None, None

    def close(record):
        if record is None or record[0] != "ERROR" or current != student:
            return
        message = "\n".join(record[1])
        if message.startswith("Traceback (most recent call last):"):
            message = _exception_of(record[1][1:])
        elif message.startswith(_GENERIC_ERRORS):
            return
        attempts[-1] = cut(" ".join(message.split()), MAX_MESSAGE)

    for line in log.splitlines():
        if record is not None and (line.startswith("    ") or not line.strip()):
            record[1].append(line[4:])
            continue
        close(record)
        record = None
        started = _SANITIZING.search(line)
        if started:
            current = started.group("student")
            if current == student:
                attempts.append(None)
        match = _LOG_RECORD.match(line)
        if match:
            record = (match.group("level"), [match.group("message")])
    close(record)
    return attempts


def _not_graded(attempts):
    return "nbgrader could not grade this notebook: " + (attempts[-1] if attempts and attempts[-1] else NO_REASON)


def _first_failure(attempts):
    if len(attempts) < 2:
        return STOPPED_BEFORE
    return attempts[0] or NO_REASON


def _incidents(course_root, assignment, student, log=""):
    path = grading.autograded_path(course_root, assignment, student)
    if not path.exists():
        return [_not_graded(nbgrader_failures(log, student))], []
    incidents, errors, others = [], [], 0
    for cell in nbformat.read(path, as_version=4).cells:
        metadata = cell.metadata.get("nbgrader", {})
        grade_id = cut(metadata.get("grade_id", "?"), MAX_NAME)
        test = metadata.get("grade") and not metadata.get("solution")
        missing = MISSING_CELL.search(cell.source)
        if missing:
            incidents.append(f"test cell {cut(missing.group('grade_id'), MAX_NAME)} was missing and was put back")
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            ename = cut(output.get("ename", ""), MAX_NAME)
            if not test:
                others += 1
                if others > MAX_OTHER_ERRORS:
                    continue
            errors.append({"grade_id": grade_id, "error": cut(f"{ename}: {output.get('evalue', '')}", MAX_MESSAGE)})
            if ename == "GradingLimit":  # which limit the student's grading process hit
                incidents.append(f"{grade_id}: {cut(output.get('evalue', ''), MAX_NAME)}")
            elif ename in INCIDENTS:
                incidents.append(f"{grade_id}: {ename}")
    if others > MAX_OTHER_ERRORS:
        errors.append({"grade_id": "?", "error": f"[… cut: {others - MAX_OTHER_ERRORS} more errors of cells other "
                                                 "than test cells]"})
    return incidents, errors


def autograde(course_root, assignment, workers=None, students=None):
    """Tidy, then autograde every submission of ``assignment`` with ``workers`` parallel nbgrader processes."""
    course_root = _course(course_root)
    students = students or grading.submitted_students(course_root, assignment)
    if not students:
        raise SystemExit(f"no submissions of {assignment} in .grading/submitted/")
    workers = workers or os.cpu_count() or 1
    # Through the service, student code runs on the workers, which refuse to start without isolation.
    problems = [] if unsafe_mode() or service_settings.configured() else isolation_problems()
    if problems:
        raise SystemExit("Refusing to grade: student code would run without isolation: " + "; ".join(problems)
                         + ". Fix that, or set CONVCOURSE_UNSAFE_NO_SANDBOX=1 (see the README).")
    for private in (course_root / "solutions", course_root / ".grading"):
        if private.exists():
            os.chmod(private, 0o700)
    notes = {student: tidy_submission(course_root, assignment, student) for student in students}
    print(f"autograding {len(students)} submissions of {assignment} with {workers} workers")
    start = time.monotonic()

    def progress(student, done, total):
        print(f"  [{done:>3}/{total}] {student}  ({time.monotonic() - start:.0f} s)", flush=True)

    if service_settings.configured():
        from convcourse.grader.service import client

        print("  through the grading service (CONVCOURSE_SERVICE): the workers' cores, not this machine's")
        rows = client.grade_class(course_root, assignment, students, progress=progress)
        log = "".join(f"{student}: {row['status']}: {row['reason'] or ''}\n" for student, row in sorted(rows.items()))
        for student, row in rows.items():
            if row["status"] != "graded":
                notes[student].append(f"the grading service could not grade this notebook: {row['reason']}")
        return _summarise(course_root, assignment, students, notes, log, start)
    run = os.environ.setdefault("CONVCOURSE_RUN_ID", f"run-{uuid.uuid4().hex[:12]}")
    destroy_orphaned_boxes()  # what an interrupted earlier run left
    try:
        retried = []
        log = grading.autograde(course_root, assignment, students, workers=workers, progress=progress,
                                retried=retried)
        for student in retried:
            if grading.autograded_path(course_root, assignment, student).exists():
                reason = _first_failure(nbgrader_failures(log, student))
                notes[student].append(f"nbgrader could not grade this notebook at first ({reason}); "
                                      "it was graded again, alone")
            else:
                notes[student].append("nbgrader was tried on this notebook twice, the second time alone")
    finally:
        destroy_boxes_of_run(run)
        if os.environ.get("CONVCOURSE_RUN_ID") == run:
            del os.environ["CONVCOURSE_RUN_ID"]
    return _summarise(course_root, assignment, students, notes, log, start)


def _summarise(course_root, assignment, students, notes, log, start):
    """The reports of a graded class (``.grading/reports/``) and what is printed about it."""
    (_reports_dir(course_root) / f"{assignment}-autograde.log").write_text(log)
    elapsed = time.monotonic() - start
    scores = grading.scores(course_root, assignment, students)
    outcome = {}
    for student in students:
        incidents, errors = _incidents(course_root, assignment, student, log)
        cells = scores.get(student, {})
        outcome[student] = {
            "score": sum(score for score, _ in cells.values()),
            "max_score": sum(top for _, top in cells.values()),
            "cells": cells,
            "notes": notes[student] + incidents,
            "errors": errors,
        }
    (_reports_dir(course_root) / f"{assignment}.json").write_text(json.dumps(outcome, indent=1, sort_keys=True))
    print(f"nbgrader's log: .grading/reports/{assignment}-autograde.log")
    print(f"graded {len(students)} notebooks in {elapsed:.0f} s ({60 * len(students) / elapsed:.1f} per minute)")
    for student, result in outcome.items():
        if result["notes"]:
            print(f"  {student}: {result['score']:g}/{result['max_score']:g}; " + "; ".join(result["notes"]))
    return outcome


def feedback(course_root, assignment):
    grading.nbgrader(course_root, "generate_feedback", assignment, "--force")
    print(f"feedback in .grading/feedback/<student>/{assignment}/ (hidden tests removed)")


def grades(course_root, output):
    output = Path(output).resolve()
    _private_file(output)
    grading.nbgrader(course_root, "export", f"--CsvExportPlugin.to={output}")
    os.chmod(output, 0o600)
    print(f"grades written to {output} (readable by you only)")


def _private_file(path):
    """Create ``path`` empty and readable by its owner only, before anything is written into it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convcourse.grader.classroom", description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", default=".", help="the course root (default: the current folder)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("release").add_argument("assignments", nargs="*")
    commands.add_parser("collect").add_argument("assignment")
    zipped = commands.add_parser("collect-zip")
    zipped.add_argument("assignment")
    zipped.add_argument("archive")
    graded = commands.add_parser("autograde")
    graded.add_argument("assignment")
    graded.add_argument("--workers", type=int, default=None, help="parallel notebooks (default: cores)")
    commands.add_parser("feedback").add_argument("assignment")
    exported = commands.add_parser("grades")
    exported.add_argument("--output", default="grades.csv")
    reported = commands.add_parser("report")
    reported.add_argument("assignments", nargs="*")
    reported.add_argument("--output", default="class-report.html")
    args = parser.parse_args(argv)
    course = _course(args.course)
    if args.command == "release":
        release(course, args.assignments or sorted(p.name for p in (course / "solutions").iterdir() if p.is_dir()))
    elif args.command == "collect":
        collect(course, args.assignment)
    elif args.command == "collect-zip":
        collect_zip(course, args.assignment, args.archive)
    elif args.command == "autograde":
        autograde(course, args.assignment, args.workers)
    elif args.command == "feedback":
        feedback(course, args.assignment)
    elif args.command == "grades":
        grades(course, args.output)
    elif args.command == "report":
        from convcourse.grader.report import graded_assignments, write_report

        assignments = args.assignments or graded_assignments(course)
        write_report(course, assignments, args.output)
        print(f"class report written to {args.output} (readable by you only)")


if __name__ == "__main__":
    main(sys.argv[1:])
