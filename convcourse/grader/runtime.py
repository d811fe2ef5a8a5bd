"""The student part as a wheel, and the kernel runtimes built from it: one environment for students and graders.

:func:`build_student_wheel` packs ``convcourse/__init__.py`` and ``convcourse/student/`` alone (its code and the digits data of 05's self-check) (nothing of the
grader, the assignments or the book) into ``convcourse_student-<version>-py3-none-any.whl``: the wheel of the
student kit. :func:`ensure_runtime` makes the virtual environment the exercises' kernels run in, from the very
requirement files the kit ships (``kit/requirements-kernel.txt``, plus ``kit/requirements-keras.txt`` for
assignments 04-05), so what a student installs and what grades the student's functions are the same:

- ``"numpy"``: ``.venv-kernel``, NumPy, Matplotlib, ipykernel and the wheel; no TensorFlow, Keras, SciPy,
  PyTorch or JAX;
- ``"keras"``: ``.venv-kernel-keras``, the same plus TensorFlow and Keras.

A runtime is built once, from the system Python that made the main environment (graded kernels may run as
another user, who can run ``/usr/bin/python3.11`` but not an interpreter under ``/root``), and rebuilt only when
its requirement files, ``requirements.lock`` or the student sources change (a hash in ``.convcourse-runtime``).
``python -m convcourse.grader.runtime`` builds both.
"""

import argparse
import concurrent.futures
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
KIT = Path("kit")
KERNEL_REQUIREMENTS = ("requirements-kernel.txt",)
RUNTIMES = {
    "numpy": (".venv-kernel", KERNEL_REQUIREMENTS),
    "keras": (".venv-kernel-keras", KERNEL_REQUIREMENTS + ("requirements-keras.txt",)),
}
STAMP = ".convcourse-runtime"
RECIPE = "compiled bytecode, no debugpy"  # how a runtime is built: a change here rebuilds every runtime

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "convcourse-student"
version = "{version}"
description = "The student part of the course 'Convolutions by hand, checked against Keras': notebook setup and the visible checks (NumPy only)."
requires-python = ">=3.11"
dependencies = ["numpy"]

[tool.setuptools]
packages = ["convcourse", "convcourse.student"]

[tool.setuptools.package-data]
"convcourse.student" = ["*.npz"]

# Into the environment's etc/ipython/: the kernel logs errors only. ipykernel 7 warns "Kernel is running over TCP
# without encryption" at every start, in the terminal that runs JupyterLab (a local kernel on a local machine).
[tool.setuptools.data-files]
"etc/ipython" = ["convcourse/student/ipython_kernel_config.json"]
"""


def version(root=REPO_ROOT):
    """The course package's version, read from ``convcourse/__init__.py`` (without importing it)."""
    text = (Path(root) / "convcourse" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, flags=re.M).group(1)


def wheel_name(root=REPO_ROOT):
    return f"convcourse_student-{version(root)}-py3-none-any.whl"


def _student_sources(root):
    package = Path(root) / "convcourse"
    return [package / "__init__.py"] + sorted(
        p for p in (package / "student").rglob("*") if p.suffix in (".py", ".npz", ".json") and "__pycache__" not in p.parts
    )


def build_student_wheel(dest_dir, root=REPO_ROOT):
    """Build ``convcourse_student-<version>-py3-none-any.whl`` into ``dest_dir``, offline; return its path.

    The sources are staged in a temporary folder with a minimal ``pyproject.toml`` and built with this
    interpreter's pip and setuptools (no build isolation, so nothing is downloaded).
    """
    root, dest_dir = Path(root), Path(dest_dir).resolve()
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="convcourse-student-") as staging:
        staging = Path(staging)
        for source in _student_sources(root):
            target = staging / source.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
        (staging / "pyproject.toml").write_text(_PYPROJECT.format(version=version(root)), encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="convcourse-wheel-") as out:
            # A fixed timestamp: the same sources give the same wheel, byte for byte.
            environment = dict(os.environ, SOURCE_DATE_EPOCH="1767225600", PIP_NO_INDEX="1")
            environment.pop("PIP_FIND_LINKS", None)
            subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "--no-deps",
                 "--disable-pip-version-check", "--wheel-dir", out, str(staging)],
                check=True, cwd=staging, env=environment, capture_output=True, text=True,
            )
            built = Path(out) / wheel_name(root)
            if not built.exists():
                raise RuntimeError(f"pip wheel made {sorted(os.listdir(out))}, not {built.name}")
            target = dest_dir / built.name
            shutil.copy(built, target)
    return target


def base_python():
    """The system interpreter the main environment was made from (``/usr/bin/python3.11`` with the Makefile)."""
    return Path(getattr(sys, "_base_executable", None) or sys.executable)


def _uv():
    uv = Path(sys.executable).parent / "uv"
    return str(uv) if uv.exists() else shutil.which("uv") or "uv"


def _fingerprint(kind, root):
    root = Path(root)
    digest = hashlib.sha256()
    digest.update(f"{kind}\n{base_python()}\n{RECIPE}\n".encode())
    files = [root / KIT / name for name in RUNTIMES[kind][1]] + [root / "requirements.lock"]
    for path in files + _student_sources(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(path):
    # Several test sessions may ask for the same runtime at once: one builds it, the others wait for it.
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def runtime_python(kind, root=REPO_ROOT):
    return Path(root) / RUNTIMES[kind][0] / "bin" / "python"


def ensure_runtime(kind, root=REPO_ROOT, quiet=True):
    """The kernel runtime ``kind`` ("numpy" or "keras") under ``root``, built if missing or stale; its python."""
    if kind not in RUNTIMES:
        raise ValueError(f"kind must be one of {sorted(RUNTIMES)}, not {kind!r}")
    root = Path(root).resolve()
    venv = root / RUNTIMES[kind][0]
    python = runtime_python(kind, root)
    fingerprint = _fingerprint(kind, root)
    with _locked(root / f"{RUNTIMES[kind][0]}.lock"):
        stamp = venv / STAMP
        if python.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
            return python
        if venv.exists():
            shutil.rmtree(venv)
        uv = _uv()
        _run([uv, "venv", "--quiet", "--python", str(base_python()), str(venv)])
        with tempfile.TemporaryDirectory(prefix="convcourse-runtime-") as folder:
            # The kit's files name the wheel by a path relative to themselves: install from a copy of that layout.
            folder = Path(folder)
            build_student_wheel(folder, root)
            for name in RUNTIMES[kind][1]:
                shutil.copy(root / KIT / name, folder / name)
            requirements = [argument for name in RUNTIMES[kind][1] for argument in ("-r", name)]
            # Bytecode compiled now: inside the sandbox the runtime is read-only, and without .pyc files every
            # kernel would compile IPython and NumPy from source at each start.
            _run([uv, "pip", "install", "--python", str(python), "--index-strategy", "unsafe-best-match",
                  "--compile-bytecode",
                  *(["--quiet"] if quiet else []), "--constraint", str(root / "requirements.lock"), *requirements],
                 cwd=folder)
        # ipykernel imports debugpy at every start when it is installed (0.14 s of CPU, and a `uname` process):
        # the grader never debugs a kernel, and the student kit keeps it for the students' own editors.
        _run([uv, "pip", "uninstall", "--python", str(python), *(["--quiet"] if quiet else []), "debugpy"])
        stamp.write_text(fingerprint + "\n")
    return python


def _run(command, cwd=None):
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    return completed


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build the kernel runtimes (.venv-kernel, .venv-kernel-keras).")
    parser.add_argument("kinds", nargs="*", choices=[*RUNTIMES, []], help="numpy, keras (default: both)")
    parser.add_argument("--root", default=str(REPO_ROOT))
    arguments = parser.parse_args(argv)
    kinds = arguments.kinds or list(RUNTIMES)
    # Side by side: each build mostly waits on uv's installs and byte-compiling, which the other can overlap.
    with concurrent.futures.ThreadPoolExecutor(len(kinds)) as pool:
        built = list(pool.map(lambda kind: ensure_runtime(kind, arguments.root), kinds))
    for kind, python in zip(kinds, built):
        print(f"kernel runtime {kind}: {python}", flush=True)


if __name__ == "__main__":
    main()
