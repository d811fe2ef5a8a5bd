"""Build the student kit: ``_build/student-kit/`` and ``_build/student-kit.zip`` (``make student-kit``).

The kit is what a student needs and nothing of the grader: START-HERE.md, the pinned requirement files, the
student wheel (``convcourse.student`` alone, see :mod:`convcourse.grader.runtime`), the released exercises
(copies of ``exercises/``, which carry no solution and no hidden test) and ``hub/``, the recipe of a JupyterHub
image for the course. Run it with the main environment: ``.venv/bin/python kit/build.py [--output DIR]``.
"""

import argparse
import shutil
import zipfile
from pathlib import Path

from convcourse.grader.runtime import REPO_ROOT, build_student_wheel

KIT_SOURCE = Path(__file__).resolve().parent
# The files of kit/ that go into the kit, as they are.
SHIPPED = ("START-HERE.md", "requirements.txt", "requirements-kernel.txt", "requirements-keras.txt")
NAME = "student-kit"
# The zip's entries carry a fixed date: the same kit gives the same zip.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)


def build(output=REPO_ROOT / "_build", root=REPO_ROOT):
    """Build ``output/student-kit/`` and ``output/student-kit.zip``; return the folder."""
    root, output = Path(root), Path(output)
    folder = output / NAME
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in SHIPPED:
        shutil.copy(KIT_SOURCE / name, folder / name)
    shutil.copytree(KIT_SOURCE / "hub", folder / "hub", ignore=shutil.ignore_patterns("__pycache__"))
    build_student_wheel(folder, root)
    for release in sorted((root / "exercises").glob("[0-9][0-9]_*/[0-9][0-9]_*.ipynb")):
        if release.stem == release.parent.name:
            target = folder / "exercises" / release.parent.name / release.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(release, target)
    archive = output / f"{NAME}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            entry = zipfile.ZipInfo(f"{NAME}/{path.relative_to(folder).as_posix()}", ZIP_DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(entry, path.read_bytes())
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(REPO_ROOT / "_build"), help="folder for student-kit/ and student-kit.zip")
    folder = build(parser.parse_args(argv).output)
    print(f"The student kit is in {folder} and {folder}.zip")


if __name__ == "__main__":
    main()
