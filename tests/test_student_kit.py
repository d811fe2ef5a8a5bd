"""The student kit, as a student gets it: built by ``kit/build.py``, installed into a fresh venv from its own
folder alone (no repository on the path) with the very ``python -m pip`` lines of START-HERE.md's Linux and macOS
steps (``python -m venv .venv``, pip brought up to date, ``-r requirements.txt`` and, for 04-05, the line with
``-r requirements-keras.txt``), every exercise run there with
nbclient. The released notebooks fail only where the student must write code; with the solutions' answers every
visible test passes, 05's accuracy self-check included; 01-03 and 06 never import TensorFlow. Each mistake of
issue 21 is made in the kit's venv, and the message a student reads last is checked. Nothing of the grader, the
assignments' test material or the solutions is in the kit; the sizes START-HERE states are the measured ones."""

import json
import os
import re
import select
import shutil
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
# kit's own nbclient (JupyterLab brings it), so the kernel is the kit venv's and nothing of the repository. One
# runner serves every notebook of its venv, each in a kernel of its own: a runner per notebook spent 2.3 s of CPU
# importing nbformat and nbclient (jsonschema compiles rfc3987-syntax's grammar) for 1-2 s of notebook. A request
# is a line of JSON on stdin: the notebook, where to write it executed and the stem of the logs that take this
# run's stdout and stderr (the runner's, and its kernel's, which inherits them when it starts), as a runner of its
# own would have had them; the answer, on the runner's first stdout, is null or the traceback of the failure.
RUNNER = textwrap.dedent('''
    import json, os, sys, time, traceback
    import nbformat
    from nbclient import NotebookClient

    answers = os.fdopen(os.dup(1), "w")
    for request in sys.stdin:
        source, target, logs = json.loads(request)
        with open(logs + ".out", "w") as out, open(logs + ".err", "w") as err:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
        os.chdir(os.path.dirname(source))
        try:
            notebook = nbformat.read(source, as_version=4)
            probe = ("import importlib.util, json, sys\\n"
                     "import convcourse\\n"
                     "print(json.dumps({'modules': sorted(m for m in ('tensorflow', 'keras', 'scipy', 'torch', 'jax') if m in sys.modules),"
                     " 'convcourse': convcourse.__file__, 'path': sys.path, 'executable': sys.executable,"
                     " 'found': [m for m in ('convcourse.grader', 'convcourse.assignments', 'convcourse.book')"
                     " if importlib.util.find_spec(m) is not None]}))")
            notebook.cells.append(nbformat.v4.new_code_cell(probe, metadata={"tags": ["kit-probe"]}))
            client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                                    resources={"metadata": {"path": os.path.dirname(source)}})
            started = time.perf_counter()
            client.execute()
            notebook.metadata["kit_seconds"] = time.perf_counter() - started
            nbformat.write(notebook, target)
            failure = None
        except Exception:
            failure = traceback.format_exc()
            print(failure, file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        answers.write(json.dumps(failure) + "\\n")
        answers.flush()
''')
# The runner of each venv, started by its first notebook (again if it is gone) and stopped with its venv's fixture.
_RUNNERS = {}


def _run(command, **kwargs):
    completed = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert completed.returncode == 0, f"{' '.join(map(str, command))}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return completed


def _clean_environment(venv):
    # KERAS_BACKEND is left by whichever test of this process set Keras up first; the kit chooses its own.
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "CONVCOURSE", "KERAS"))}
    environment["PATH"] = os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"])
    return environment


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    output = tmp_path_factory.mktemp("kit-build")
    _run([sys.executable, str(REPO / "kit" / "build.py"), "--output", str(output)], cwd=REPO)
    return output / "student-kit"


def _start_here_pip_lines(kit):
    """The ``python -m pip`` lines of START-HERE's Linux and macOS code blocks, as argument lists, in order: the
    first block's (the base install) and then the one that adds Keras."""
    blocks = re.findall(r"```bash\n(.*?)```", (kit / "START-HERE.md").read_text(), flags=re.S)
    lines = [line.split()[3:] for block in blocks for line in block.splitlines()
             if line.startswith("python -m pip install ")]
    assert lines and lines[-1][-2:] == ["-r", "requirements-keras.txt"], lines
    return lines


def _kit_venv(kit, tmp_path_factory, name, pip_lines, base=None, compiled=True):
    """A venv with the kit installed by ``pip_lines`` (argument lists of ``python -m pip install``), from the kit
    folder only: the system Python's ``venv`` and the venv's own ``pip``. With ``base``, a copy of that venv (the
    base kit installed) in which the student's further ``pip install`` adds Keras, as it would in their own venv.
    Without ``compiled``, pip leaves the byte-compiling of the modules to their first import, as Python does when
    pip has not."""
    venv = tmp_path_factory.mktemp(name) / "venv"
    started = time.perf_counter()
    if base is None:
        _run([str(base_python()), "-m", "venv", str(venv)], cwd=kit, env=_clean_environment(venv))
    else:
        # A venv moves with its folder when run as venv/bin/python (as here): sys.prefix comes from pyvenv.cfg.
        # Its files are hard links to the base venv's, the same files without writing 378 MB again (up to 10 s of
        # CPU on this disk): nothing writes into an installed file, pip unlinks a file before it writes one and
        # moves a package away to uninstall it, Python writes a .pyc to a new file that it renames (after a whole
        # run, every file that the base venv's RECORDs hash still had its hash).
        shutil.copytree(base, venv, symlinks=True, copy_function=os.link)
    for arguments in pip_lines:
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              *arguments, *([] if compiled else ["--no-compile"])], cwd=kit, env=_clean_environment(venv),
             timeout=1800)
    seconds = time.perf_counter() - started
    how = "" if compiled else ", not byte-compiled"
    files = [argument for arguments in pip_lines for argument in arguments if argument.endswith(".txt")]
    _record(f"venv {name} ({' + '.join(files)}{how})", seconds)
    _SIZES[venv] = _megabytes_on_disk(venv)
    _record(f"venv {name} on disk{how}", _SIZES[venv], unit="MB")
    return venv


# Each venv's size as installed, measured once (a walk of up to 1.8 GB of files) for the record and the check.
_SIZES = {}


def _megabytes_on_disk(folder):
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


@pytest.fixture(scope="module")
def kit_venv(kit, tmp_path_factory):
    venv = _kit_venv(kit, tmp_path_factory, "kit-venv", _start_here_pip_lines(kit)[:-1])
    yield venv
    _stop_runner(venv)


@pytest.fixture(scope="module")
def keras_venv(kit, kit_venv, tmp_path_factory):
    venv = _kit_venv(kit, tmp_path_factory, "kit-venv-keras", _start_here_pip_lines(kit)[-1:], base=kit_venv)
    yield venv
    _stop_runner(venv)


def _record(what, seconds, unit="s"):
    ARTEFACTS.mkdir(exist_ok=True)
    timings = ARTEFACTS / "student-kit-timings.json"
    data = json.loads(timings.read_text()) if timings.exists() else {}
    data[what] = round(seconds, 2)
    timings.write_text(json.dumps(data, indent=1))
    print(f"\n[student kit] {what}: {seconds:.2f} {unit}", file=sys.__stderr__)


def _runner(venv):
    if venv not in _RUNNERS or _RUNNERS[venv].poll() is not None:
        script = venv.parent / "run_notebooks.py"
        script.write_text(RUNNER)
        with open(venv.parent / "runner.err", "w") as log:
            _RUNNERS[venv] = subprocess.Popen([str(venv / "bin" / "python"), "-I", str(script)], stdin=subprocess.PIPE,
                                              stdout=subprocess.PIPE, stderr=log, text=True, cwd=venv.parent,
                                              env=_clean_environment(venv))
    return _RUNNERS[venv]


def _stop_runner(venv):
    runner = _RUNNERS.pop(venv, None)
    if runner is not None:
        runner.stdin.close()
        try:
            runner.wait(timeout=60)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait()


def _execute(venv, notebook, folder):
    """Run ``notebook`` (a node) in ``folder`` with the venv's nbclient and kernel; the executed notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    source, target, logs = folder / "in.ipynb", folder / "out.ipynb", folder / "run"
    nbformat.write(notebook, source)
    runner = _runner(venv)
    runner.stdin.write(json.dumps([str(source), str(target), str(logs)]) + "\n")
    runner.stdin.flush()
    answer = runner.stdout.readline() if select.select([runner.stdout], [], [], 900)[0] else ""
    if not answer:  # gone or stuck: the next notebook starts a new runner
        runner.kill()
        runner.wait()
    stdout, stderr = (Path(f"{logs}{suffix}").read_text() if Path(f"{logs}{suffix}").exists() else ""
                      for suffix in (".out", ".err"))
    assert answer and json.loads(answer) is None, (
        f"{source}:\n{stdout[-3000:]}\n{stderr[-3000:]}\n{(venv.parent / 'runner.err').read_text()[-3000:]}")
    # The kernel's log goes to the terminal that runs JupyterLab: no warning at each start (issue 21, problem 13).
    assert "without encryption" not in stderr, stderr[-2000:]
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
    texts += [zipfile.ZipFile(wheel).read(n).decode() for n in code if not n.endswith(".npz")]
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
    solved = nbformat.read(tmp_path / "solved" / "out.ipynb", as_version=4)
    for cell in solved.cells:  # no output means pass: 05's self-check trained the model and printed nothing
        if _nbgrader(cell).get("grade") and _has_code(cell):
            assert not cell.get("outputs"), (_nbgrader(cell).get("grade_id"), cell.outputs)


def _cell(executed, grade_id):
    return next(cell for cell in executed.cells if _nbgrader(cell).get("grade_id") == grade_id)


def _error(executed, grade_id):
    """``(ename, evalue)`` of the error a cell shows: the last thing a student reads under it."""
    errors = [o for o in _cell(executed, grade_id).get("outputs", []) if o.get("output_type") == "error"]
    assert errors, f"{grade_id} did not fail"
    return errors[-1]["ename"], errors[-1]["evalue"]


def _printed(executed, grade_id):
    return "".join(o.get("text", "") for o in _cell(executed, grade_id).get("outputs", []) if o.get("output_type") == "stream")


def _with_answers(kit, assignment, changed):
    release = kit / "exercises" / assignment / f"{assignment}.ipynb"
    answers = grading.solution_answers(REPO / "solutions" / assignment / f"{assignment}.ipynb")
    return grading.student_notebook(release, dict(answers, **changed))


def _wrapping(answers, name, body):
    """An answer that renames the solution's ``name`` to ``_right`` and defines ``name`` by ``body`` around it."""
    right = answers[name].replace(f"def {name}(", "def _right(", 1)
    return right + "\n\n" + textwrap.dedent(body)


def test_without_keras_an_exercise_that_needs_it_says_what_to_install(kit, kit_venv, tmp_path):
    release = kit / "exercises" / "04_fully_convolutional" / "04_fully_convolutional.ipynb"
    executed = _execute(kit_venv, nbformat.read(release, as_version=4), tmp_path / "no-keras")
    ename, evalue = _error(executed, "setup")
    assert ename == "KerasNotInstalledError"
    assert "requirements-keras.txt" in evalue and "START-HERE.md" in evalue and "restart the kernel" in evalue


def test_the_kits_sizes_are_the_ones_start_here_states(kit_venv, keras_venv):
    base, keras = _SIZES[kit_venv], _SIZES[keras_venv]
    text = " ".join((REPO / "kit" / "START-HERE.md").read_text().split())
    stated_base = int(re.search(r"takes about (\d+) MB on disk", text).group(1))
    stated_keras = float(re.search(r"about ([\d.]+) GB more on disk", text).group(1)) * 1000
    assert base <= stated_base <= base + 100, (base, stated_base)
    assert keras - base <= stated_keras <= keras - base + 250, (keras - base, stated_keras)


def test_mistakes_in_01_read_last(kit, kit_venv, tmp_path):
    answers = {
        # the guard: the refusal, not a complaint about the course package, is the last line
        "corr2d": "def corr2d(image, kernel):\n"
                  "    return np.correlate(image.ravel(), kernel.ravel())[:4].reshape(2, 2)\n",
        # the student's own error, on a channels-last image indexed as channels-first
        "conv2d": "def conv2d(x, kernel, bias=None):\n    return x[:, 0] * kernel[..., 0]\n",
    }
    executed = _execute(kit_venv, _with_answers(kit, "01_cross_correlation", answers), tmp_path / "01")
    ename, evalue = _error(executed, "test_corr2d_example")
    assert ename == "AssertionError" and evalue.splitlines()[-1].startswith(
        "corr2d called np.correlate. Graded functions must be written by hand with NumPy")
    ename, evalue = _error(executed, "test_conv2d_example")
    assert ename == "AssertionError" and evalue.startswith("conv2d raised ValueError on this worked example: "
                                                           "conv2d(x of shape (1, 3, 3, 2), kernel of shape (2, 2, 2, 1))")
    assert "(N, H, W, C): sample, row, column, channel (channels-last)" in evalue


def test_mistakes_in_02_read_last(kit, kit_venv, tmp_path):
    folder = REPO / "tests" / "submissions" / "02_padding_and_stride" / "wrong" / "same_padding__top_heavy_reused_by_the_others"
    answers = {path.stem: path.read_text() for path in folder.glob("*.py")}
    executed = _execute(kit_venv, _with_answers(kit, "02_padding_and_stride", answers), tmp_path / "02-helper")
    _, evalue = _error(executed, "test_same_padding_example")
    assert "This is exactly what you get if the extra zero of an odd total goes before" in evalue
    for grade_id in ("test_max_pool2d_example", "test_avg_pool2d_example"):
        _, evalue = _error(executed, grade_id)
        function = grade_id.removeprefix("test_").removesuffix("_example")
        assert evalue.splitlines()[-1] == (
            f"{function} calls same_padding, whose own visible check above fails too: fix that one first (this check "
            "may well pass once same_padding is right)."), evalue
    solution = grading.solution_answers(REPO / "solutions" / "02_padding_and_stride" / "02_padding_and_stride.ipynb")
    rows_only = _wrapping(solution, "conv2d", """
        def conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1):
            rows = strides if np.ndim(strides) == 0 else strides[0]
            return _right(x, kernel, bias, (rows, 1), padding, dilation_rate)
        """)
    executed = _execute(kit_venv, _with_answers(kit, "02_padding_and_stride", {"conv2d": rows_only}), tmp_path / "02-rows")
    _, evalue = _error(executed, "test_conv2d_example")
    assert "This is exactly what you get if the stride is applied to the rows only" in evalue
    assert "likely" not in evalue


def test_mistakes_in_06_read_last(kit, kit_venv, tmp_path):
    solution = grading.solution_answers(REPO / "solutions" / "06_backpropagation" / "06_backpropagation.ipynb")
    unturned = _wrapping(solution, "conv2d_backward", """
        def conv2d_backward(x, kernel, grad_output, strides=1, padding='valid', dilation_rate=1):
            grad_x = _right(x, kernel[::-1, ::-1], grad_output, strides, padding, dilation_rate)[0]
            return (grad_x,) + _right(x, kernel, grad_output, strides, padding, dilation_rate)[1:]
        """)
    executed = _execute(kit_venv, _with_answers(kit, "06_backpropagation", {"conv2d_backward": unturned}),
                        tmp_path / "06-unturned")
    _, evalue = _error(executed, "test_conv2d_backward_example")
    assert "This is exactly what you get if the kernel is not turned by 180 degrees in dL/dx" in evalue
    batch_kept = _wrapping(solution, "conv2d_backward", """
        def conv2d_backward(x, kernel, grad_output, strides=1, padding='valid', dilation_rate=1):
            grad_x, grad_kernel, _ = _right(x, kernel, grad_output, strides, padding, dilation_rate)
            return grad_x, grad_kernel, np.asarray(grad_output, dtype=float).sum(axis=(1, 2))
        """)
    executed = _execute(kit_venv, _with_answers(kit, "06_backpropagation", {"conv2d_backward": batch_kept}),
                        tmp_path / "06-bias")
    _, evalue = _error(executed, "test_conv2d_backward_example")
    assert "grad_bias (element 2 of the returned tuple) is wrong: it returned shape (1, 1), expected (1,)." in evalue
    assert "summed over the output positions but not over the batch" in evalue and "likely" not in evalue


def test_05_self_check_warns_below_the_hidden_tests_accuracy(kit, keras_venv, tmp_path):
    weak = ("def build_digits_cnn():\n"
            "    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 8), keras.layers.Flatten(),\n"
            "                              keras.layers.Dense(10, activation='softmax')])\n"
            "    model.compile(optimizer=keras.optimizers.SGD(0.001), loss='sparse_categorical_crossentropy',\n"
            "                  metrics=['accuracy'])\n"
            "    return model\n")
    executed = _execute(keras_venv, _with_answers(kit, "05_cnn_in_practice", {"build_digits_cnn": weak}), tmp_path / "05")
    printed = _printed(executed, "test_build_digits_cnn_structure")
    assert printed.startswith("Warning: trained as the hidden test trains it, this model reaches"), printed
    assert "the hidden test asks for at least 0.95" in printed


@pytest.fixture(scope="module")
def jax_venv(kit, kit_venv, tmp_path_factory):
    """The kit's Keras as CPython 3.14 gets it (Keras on JAX: TensorFlow has no wheel there), on this Python:
    requirements-keras.txt's lines whose markers hold for Python 3.14 on this platform, markers evaluated by
    ``packaging`` for that target."""
    from packaging.markers import Marker, default_environment

    target = dict(default_environment(), python_version="3.14", python_full_version="3.14.0")
    lines = []
    for line in (kit / "requirements-keras.txt").read_text().splitlines():
        requirement, _, marker = line.partition(";")
        if requirement.strip() and not requirement.startswith("#") and (not marker or Marker(marker).evaluate(target)):
            lines.append(requirement.strip())
    assert any(line.startswith("jax==") for line in lines) and not any(line.startswith("tensorflow") for line in lines)
    (kit / "requirements-keras-py314.txt").write_text("\n".join(lines) + "\n")
    try:
        # Not byte-compiled: pip's compiling of JAX and Keras took 10 s of CPU, of which the two notebooks' imports
        # redo a part; START-HERE states no size for JAX (Python 3.14's wheels differ from these anyway).
        keras_line = [argument.replace("requirements-keras.txt", "requirements-keras-py314.txt")
                      for argument in _start_here_pip_lines(kit)[-1]]
        venv = _kit_venv(kit, tmp_path_factory, "kit-venv-jax", [keras_line], base=kit_venv, compiled=False)
    finally:
        (kit / "requirements-keras-py314.txt").unlink()
    yield venv
    _stop_runner(venv)


@pytest.mark.parametrize("assignment", WITH_KERAS)
def test_keras_exercise_runs_on_jax_where_tensorflow_has_no_wheel(kit, jax_venv, assignment, tmp_path):
    """The setup cell picks JAX by itself (no KERAS_BACKEND set), and every visible check passes there too."""
    probe = _run_exercise(kit, jax_venv, assignment, tmp_path)
    assert "jax" in probe["modules"] and "tensorflow" not in probe["modules"], probe["modules"]
