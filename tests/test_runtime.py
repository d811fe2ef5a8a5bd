"""The student wheel and the kernel runtimes: the student part alone, pinned as the main environment, and
nothing a hand-written answer could lean on (TensorFlow, Keras, SciPy, PyTorch, JAX) in the NumPy runtime."""

import re
import shutil
import subprocess
import zipfile

import pytest
from corpus import REPO

from convcourse.grader import runtime


@pytest.fixture(scope="module")
def numpy_python():
    return runtime.ensure_runtime("numpy", REPO)


def _imports(python, module):
    completed = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, text=True, cwd="/")
    return completed.returncode == 0


def test_the_wheel_holds_the_student_part_alone(tmp_path):
    wheel = runtime.build_student_wheel(tmp_path)
    assert wheel.name == f"convcourse_student-{runtime.version()}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    # The kernel's quiet-log config, installed into the environment's etc/ipython/, is the one data file.
    code = [n for n in names if ".dist-info/" not in n and not n.endswith(".data/data/etc/ipython/ipython_kernel_config.json")]
    assert "convcourse/__init__.py" in code and "convcourse/student/checks.py" in code
    assert all(n == "convcourse/__init__.py" or n.startswith("convcourse/student/") for n in code), code


def test_kit_pins_equal_the_lock():
    lock = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (REPO / "requirements.lock").read_text(), flags=re.M))
    pinned = 0
    for name in ("requirements-kernel.txt", "requirements.txt", "requirements-keras.txt"):
        text = (REPO / "kit" / name).read_text()
        for package, version, marker in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+?)\s*(?:;(.*))?$", text, flags=re.M):
            pinned += 1
            if 'python_version >= "3.14"' in marker:  # JAX, where TensorFlow has no wheel: never on the lock's 3.11
                continue
            if package == "convcourse-student":  # the wheel beside the file, this repository's version
                assert version == runtime.version(), f"kit/{name}: {package}=={version}"
                continue
            if package == "tensorflow":  # the same release under its non-Linux name
                package = "tensorflow-cpu"
            assert lock.get(package) == version, f"kit/{name}: {package}=={version}, requirements.lock {lock.get(package)}"
    assert pinned >= 6


def test_numpy_runtime_has_no_deep_learning_library(numpy_python):
    for module in ("tensorflow", "keras", "scipy", "torch", "jax"):
        assert not _imports(numpy_python, module), f"{module} is importable in the NumPy kernel runtime"


def test_numpy_runtime_has_the_student_part_and_not_the_grader(numpy_python):
    for module in ("convcourse.student.checks", "convcourse.student.notebook", "convcourse.student.guard",
                   "numpy", "matplotlib", "ipykernel"):
        assert _imports(numpy_python, module), module
    for module in ("convcourse.grader", "convcourse.assignments", "convcourse.book"):
        assert not _imports(numpy_python, module), module


def test_runtime_is_made_from_the_system_python(numpy_python):
    config = (numpy_python.parent.parent / "pyvenv.cfg").read_text()
    home = re.search(r"^home = (.*)$", config, flags=re.M).group(1).strip()
    assert home == str(runtime.base_python().parent)
    assert not home.startswith("/root")


def test_a_changed_student_source_changes_the_fingerprint(tmp_path):
    for relative in ("requirements.lock", "kit", "convcourse/__init__.py", "convcourse/student"):
        source, target = REPO / relative, tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    before = {kind: runtime._fingerprint(kind, tmp_path) for kind in runtime.RUNTIMES}
    assert before["numpy"] != before["keras"]
    checks = tmp_path / "convcourse" / "student" / "checks.py"
    checks.write_text(checks.read_text() + "\n")
    assert all(runtime._fingerprint(kind, tmp_path) != before[kind] for kind in runtime.RUNTIMES)
