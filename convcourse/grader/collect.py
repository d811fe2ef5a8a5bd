"""Collecting an LMS download: every student whose notebook can be found is collected; each bad entry is skipped
and reported, never a reason to stop.

A download is a zip of files named ``<student>_[LATE_][<id>_<id>_]<file>`` (Canvas; Moodle-style folders work
too, the file name decides). Before anything is extracted, the archive's declared sizes are added up and capped;
while extracting, every entry is read with a hard cap whatever it declares. An entry is skipped, with the reason,
when its path is absolute or leaves the folder (``..``), it is a link, its student id is empty, ``.``/``..`` or
not of the allowed characters, it is not a notebook, it is too large, or it is an archive nested deeper than
``MAX_NESTING``. When a student appears twice, the newest file (by its time in the archive) is kept and the
other reported. Collected notebooks go to ``.grading/submitted/<student>/<assignment>/``. A skipped entry is listed
under its name cut to ``MAX_NAME`` characters, and at most ``MAX_SKIPPED`` entries are listed (the rest counted): an
archive's names, and how many entries it has, are the uploader's choice.
"""

import io
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from convcourse.grader.caps import cut

FILE_PATTERN = re.compile(r"^(?P<student_id>[A-Za-z0-9][A-Za-z0-9.\-]*?)_(?:LATE_)?(?:\d+_\d+_)?(?P<file_id>.+)$")
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024
MAX_NESTING = 1  # a student's own zip inside the download is opened; a zip inside that is not
MAX_NAME = 300
MAX_SKIPPED = 1_000
# The collection's report, beside the assignment's: ``.grading/reports/<assignment>-collect.json``.
COLLECT_SUFFIX = "-collect"


class ArchiveRefused(ValueError):
    """The download as a whole cannot be read safely (too large once unpacked, or not a zip)."""


def _read_capped(archive, info, limit):
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit:,} bytes once unpacked")
    return data


def _problem_with_path(name):
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if any(part in ("..",) for part in re.split(r"[\\/]", name)):
        return "a path that leaves the folder (..)"
    return None


def _is_link(info):
    return stat.S_ISLNK(info.external_attr >> 16)


def _entries(archive, depth, budget, skipped, prefix=""):
    """Yield ``(display name, file name, time, bytes)`` of every notebook-like entry, nested archives opened."""
    declared = sum(info.file_size for info in archive.infolist())
    if declared > budget[0]:
        raise ArchiveRefused(f"the archive unpacks to {declared:,} bytes (limit {budget[0]:,})")
    for info in archive.infolist():
        shown = prefix + info.filename
        if info.is_dir():
            continue
        problem = _problem_with_path(info.filename) or ("a link" if _is_link(info) else None)
        if problem:
            skipped.append((shown, problem))
            continue
        base = PurePosixPath(info.filename.replace("\\", "/")).name
        if base.lower().endswith(".zip"):
            if depth >= MAX_NESTING:
                skipped.append((shown, "an archive nested too deep"))
                continue
            try:
                inner = zipfile.ZipFile(io.BytesIO(_read_capped(archive, info, budget[0])))
                yield from _entries(inner, depth + 1, budget, skipped, prefix=f"{shown}/")
            except (ValueError, zipfile.BadZipFile) as error:
                skipped.append((shown, f"a nested archive that cannot be read ({error})"))
            continue
        if not base.lower().endswith(".ipynb"):
            skipped.append((shown, "not a notebook (.ipynb)"))
            continue
        try:
            data = _read_capped(archive, info, min(MAX_NOTEBOOK_BYTES, budget[0]))
        except ValueError as error:
            skipped.append((shown, str(error)))
            continue
        budget[0] -= len(data)
        yield shown, base, info.date_time, data


def collect_download(archive_path, submitted, assignment):
    """Collect ``archive_path`` into ``submitted``; return ``(collected students, [(entry, reason), ...])``."""
    try:
        archive = zipfile.ZipFile(archive_path)
    except zipfile.BadZipFile:
        raise ArchiveRefused(f"{Path(archive_path).name} is not a zip archive") from None
    skipped, chosen = [], {}
    with archive:
        for shown, base, when, data in _entries(archive, 0, [MAX_TOTAL_BYTES], skipped):
            match = FILE_PATTERN.match(base)
            student = match.group("student_id") if match else ""
            if not match or student in (".", "..") or set(student) <= {"."}:
                skipped.append((shown, "no student id before the first '_' in its name"))
                continue
            if student in chosen:
                older, newer = sorted([chosen[student], (when, shown, data)], key=lambda entry: entry[0])
                skipped.append((older[1], f"a second notebook of student {student}; the newer one, {newer[1]}, "
                                          "was collected"))
                chosen[student] = newer
                continue
            chosen[student] = (when, shown, data)
    for student, (_, shown, data) in sorted(chosen.items()):
        # Under the student's own file name: tidying renames it and says so in the feedback.
        name = FILE_PATTERN.match(PurePosixPath(shown).name).group("file_id")
        target = Path(submitted) / student / assignment / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    listed = [(cut(entry, MAX_NAME), cut(reason, MAX_NAME)) for entry, reason in skipped[:MAX_SKIPPED]]
    if len(skipped) > MAX_SKIPPED:
        listed.append((f"[… cut: {len(skipped) - MAX_SKIPPED:,} more entries]", "skipped too, not listed"))
    return sorted(chosen), listed
