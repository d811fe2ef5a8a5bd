"""The student kit, as a student gets it: built by ``kit/build.py``, installed into a fresh venv from its own
folder alone (no repository on the path), every exercise run there with nbclient. The released notebooks fail
only where the student must write code; with the solutions' answers every visible test passes; 01-03 never
import TensorFlow. Nothing of the grader, the assignments' test material or the solutions is in the kit."""

import json
import os
import re
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from corpus import ASSIGNMENTS, REPO

from convcourse.grader import grading
from convcourse.grader.runtime import base_python

pytestmark = pytest.mark.slow

# The assignments released in exercises/ (make release); an assignment still being written has none yet.
RELEASED = [a for a in ASSIGNMENTS if (REPO / "exercises" / a / f"{a}.ipynb").is_file()]
NUMPY_ONLY = [a for a in RELEASED if a[:2] in ("01", "02", "03", "06")]
WITH_KERAS = [a for a in RELEASED if a not in NUMPY_ONLY]
UV = str(Path(sys.executable).parent / "uv")
ARTEFACTS = Path(os.environ.get("CONVCOURSE_ARTEFACTS", REPO / "test-artifacts"))

# Runs inside the kit's venv (python -I: no PYTHONPATH, no user site, not even the script's folder), with the
# kit's own nbclient (JupyterLab brings it), so the kernel is the kit venv's and nothing of the repository.
RUNNER = textwrap.dedent('''
    import json, sys, time
    import nbformat
    from nbclient import NotebookClient

    source, target = sys.argv[1], sys.argv[2]
    notebook = nbformat.read(source, as_version=4)
    probe = ("import importlib.util, json, sys\\n"
             "import convcourse\\n"
             "print(json.dumps({'modules': sorted(m for m in ('tensorflow', 'keras', 'scipy', 'torch', 'jax') if m in sys.modules),"
             " 'convcourse': convcourse.__file__, 'path': sys.path, 'executable': sys.executable,"
             " 'found': [m for m in ('convcourse.grader', 'convcourse.assignments', 'convcourse.book')"
             " if importlib.util.find_spec(m) is not None]}))")
    notebook.cells.append(nbformat.v4.new_code_cell(probe, metadata={"tags": ["kit-probe"]}))
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(__import__("pathlib").Path(source).parent)}})
    started = time.perf_counter()
    client.execute()
    notebook.metadata["kit_seconds"] = time.perf_counter() - started
    nbformat.write(notebook, target)
''')


def _run(command, **kwargs):
    completed = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert completed.returncode == 0, f"{' '.join(map(str, command))}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return completed


def _clean_environment(venv):
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "CONVCOURSE"))}
    environment["PATH"] = os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"])
    return environment


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    output = tmp_path_factory.mktemp("kit-build")
    _run([sys.executable, str(REPO / "kit" / "build.py"), "--output", str(output)], cwd=REPO)
    return output / "student-kit"


def _kit_venv(kit, tmp_path_factory, name, requirements):
    """A fresh venv with the kit's requirement files installed, as START-HERE says, from the kit folder only."""
    venv = tmp_path_factory.mktemp(name) / "venv"
    started = time.perf_counter()
    _run([UV, "venv", "--quiet", "--python", str(base_python()), str(venv)], cwd=kit)
    arguments = [argument for file in requirements for argument in ("-r", file)]
    _run([UV, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *arguments],
         cwd=kit, env=_clean_environment(venv))
    seconds = time.perf_counter() - started
    _record(f"venv {name} ({' + '.join(requirements)})", seconds)
    return venv


@pytest.fixture(scope="module")
def kit_venv(kit, tmp_path_factory):
    return _kit_venv(kit, tmp_path_factory, "kit-venv", ["requirements.txt"])


@pytest.fixture(scope="module")
def keras_venv(kit, tmp_path_factory):
    return _kit_venv(kit, tmp_path_factory, "kit-venv-keras", ["requirements.txt", "requirements-keras.txt"])


def _record(what, seconds):
    ARTEFACTS.mkdir(exist_ok=True)
    timings = ARTEFACTS / "student-kit-timings.json"
    data = json.loads(timings.read_text()) if timings.exists() else {}
    data[what] = round(seconds, 2)
    timings.write_text(json.dumps(data, indent=1))
    print(f"\n[student kit] {what}: {seconds:.2f} s", file=sys.__stderr__)


def _execute(venv, notebook, folder):
    """Run ``notebook`` (a node) in ``folder`` with the venv's nbclient and kernel; the executed notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    source, target = folder / "in.ipynb", folder / "out.ipynb"
    nbformat.write(notebook, source)
    runner = folder.parent / "run_notebook.py"
    runner.write_text(RUNNER)
    _run([str(venv / "bin" / "python"), "-I", str(runner), str(source), str(target)], cwd=folder,
         env=_clean_environment(venv), timeout=900)
    return nbformat.read(target, as_version=4)


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def _has_code(cell):
    return any(line.strip() and not line.strip().startswith("#") for line in cell.source.splitlines())


def _errors(executed):
    return {k: output for k, cell in enumerate(executed.cells) if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.get("output_type") == "error"}


def _probe(executed):
    cell = executed.cells[-1]
    assert "kit-probe" in cell.metadata.get("tags", []) and not _errors(executed).get(len(executed.cells) - 1)
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    return json.loads(text.strip().splitlines()[-1])


def _duration(cell):
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    from datetime import datetime

    return (datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def _check_isolated(probe, venv):
    assert probe["found"] == [], f"the kit venv can import {probe['found']}"
    assert probe["convcourse"].startswith(str(venv)), probe["convcourse"]
    assert not [p for p in probe["path"] if p.startswith(str(REPO))], probe["path"]


def test_kit_has_what_a_student_needs(kit):
    for name in ("START-HERE.md", "requirements.txt", "requirements-keras.txt", "hub/Dockerfile"):
        assert (kit / name).is_file(), name
    assert len(list(kit.glob("convcourse_student-*-py3-none-any.whl"))) == 1
    shipped = sorted(p.parent.name for p in kit.glob("exercises/*/*.ipynb"))
    assert shipped == RELEASED
    for assignment in RELEASED:
        assert (kit / "exercises" / assignment / f"{assignment}.ipynb").read_bytes() == (
            REPO / "exercises" / assignment / f"{assignment}.ipynb").read_bytes()
    with zipfile.ZipFile(kit.parent / "student-kit.zip") as bundle:
        zipped = {n.removeprefix("student-kit/") for n in bundle.namelist()}
    assert zipped == {str(p.relative_to(kit)) for p in kit.rglob("*") if p.is_file()}


def test_kit_holds_nothing_of_the_grader(kit):
    files = [p for p in kit.rglob("*") if p.is_file()]
    assert not [p for p in files if re.search(r"solution|grader/|assignments/|submissions", str(p.relative_to(kit)))]
    wheel = next(kit.glob("*.whl"))
    code = [n for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n
            and not n.endswith(".data/data/etc/ipython/ipython_kernel_config.json")]
    assert all(n == "convcourse/__init__.py" or n.startswith("convcourse/student/") for n in code), code
    secret_lines, public_lines = set(), set()
    for assignment in ASSIGNMENTS:
        notebook = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
        for cell in notebook.cells:
            public = cell.source
            for marker in ("SOLUTION", "HIDDEN TESTS"):
                pattern = rf"### BEGIN {marker}\n(.*?)### END {marker}"
                for block in re.findall(pattern, cell.source, flags=re.S):
                    secret_lines.update(line.strip() for line in block.splitlines() if len(line.strip()) >= 30)
                public = re.sub(pattern, "", public, flags=re.S)
            public_lines.update(line.strip() for line in public.splitlines())
    # A line that the notebook also shows outside its hidden blocks (a visible example's setup) is no secret,
    # nor is an import (the package's docstring names its modules).
    secret_lines = {line for line in secret_lines - public_lines if not re.match(r"(from \S+ )?import ", line)}
    assert secret_lines
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in files if p.suffix != ".whl"]
    texts += [zipfile.ZipFile(wheel).read(n).decode() for n in code]
    for text in texts:
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
        leaked = [line for line in secret_lines if line in text]
        assert not leaked, leaked[:3]


def test_hub_config_keeps_the_students_tools_only(kit, tmp_path):
    # The image's layout: the kit's files beside nbgrader's own in one configuration folder.
    config = tmp_path / "etc-jupyter"
    for relative in ("jupyter_server_config.d/nbgrader.json",):
        target = config / relative
        target.parent.mkdir(parents=True)
        target.write_bytes((Path(sys.prefix) / "etc" / "jupyter" / relative).read_bytes())
    _run(["cp", "-r", f"{kit / 'hub' / 'jupyter'}/.", str(config)])
    environment = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_PREFER_ENV_PATH="0")
    server = _run([sys.executable, "-c", "import json; from jupyter_server.serverapp import ServerApp; app = ServerApp();"
                   " app.find_server_extensions(); print(json.dumps(app.jpserver_extensions))"], env=environment, cwd=tmp_path)
    enabled = json.loads(server.stdout.strip().splitlines()[-1])
    assert enabled["nbgrader.server_extensions.formgrader"] is False
    assert enabled["nbgrader.server_extensions.course_list"] is False
    assert enabled["nbgrader.server_extensions.assignment_list"] is True
    assert enabled["nbgrader.server_extensions.validate_assignment"] is True
    lab = _run([str(Path(sys.executable).parent / "jupyter"), "labextension", "list"], env=environment, cwd=tmp_path)
    disabled = set(re.findall(r"@jupyter/nbgrader:[a-z-]+", lab.stdout + lab.stderr))
    assert disabled == {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                        "@jupyter/nbgrader:course-list"}


def _run_exercise(kit, venv, assignment, tmp_path):
    release = kit / "exercises" / assignment / f"{assignment}.ipynb"
    # The released notebook, untouched: only answer cells and the visible tests that call them may fail.
    executed = _execute(venv, nbformat.read(release, as_version=4), tmp_path / "release")
    errors = _errors(executed)
    for index, output in errors.items():
        meta = _nbgrader(executed.cells[index])
        assert (meta.get("solution") or meta.get("grade")) and output["ename"] == "NotImplementedError", (
            f"cell {index} ({meta.get('grade_id')}) fails on the release, and not for an answer still to write:"
            f" {output['ename']}: {output['evalue'][:300]}")
    # The answer cells only define the functions; calling them is what raises, in every visible test.
    for index, cell in enumerate(executed.cells):
        meta = _nbgrader(cell)
        if cell.cell_type == "code" and meta.get("grade") and _has_code(cell):
            assert index in errors, f"{meta.get('grade_id')} passes on the untouched release"
    release_probe = _probe(executed)
    _check_isolated(release_probe, venv)
    # With the solutions' answers filled in, every cell runs and every visible test passes.
    answers = grading.solution_answers(REPO / "solutions" / assignment / f"{assignment}.ipynb")
    solved = _execute(venv, grading.student_notebook(release, answers), tmp_path / "solved")
    failures = {executed_cell_id(solved, k): f"{o['ename']}: {o['evalue'][:300]}" for k, o in _errors(solved).items()}
    assert not failures, failures
    visible = sum(_duration(c) for c in solved.cells if _nbgrader(c).get("grade") and _has_code(c))
    _record(f"{assignment}: visible tests (solved)", visible)
    _record(f"{assignment}: whole notebook with kernel start (solved)", solved.metadata["kit_seconds"])
    probe = _probe(solved)
    _check_isolated(probe, venv)
    return probe


def executed_cell_id(notebook, index):
    return _nbgrader(notebook.cells[index]).get("grade_id") or f"cell {index}"


@pytest.mark.parametrize("assignment", NUMPY_ONLY)
def test_numpy_exercise_runs_from_the_kit_alone(kit, kit_venv, assignment, tmp_path):
    probe = _run_exercise(kit, kit_venv, assignment, tmp_path)
    assert "tensorflow" not in probe["modules"] and "keras" not in probe["modules"], probe["modules"]


@pytest.mark.parametrize("assignment", WITH_KERAS)
def test_keras_exercise_runs_from_the_kit_with_keras(kit, keras_venv, assignment, tmp_path):
    probe = _run_exercise(kit, keras_venv, assignment, tmp_path)
    assert "tensorflow" in probe["modules"]
