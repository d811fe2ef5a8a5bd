"""The kit's platform promise, proven against the package index: ``requirements.txt`` and
``requirements.txt`` + ``requirements-keras.txt`` resolve to wheels for every platform and CPython that
``START-HERE.md`` and the home page name (Linux x86_64 and aarch64, macOS arm64, Windows amd64; CPython 3.11-3.14),
with Keras on TensorFlow where TensorFlow has a wheel and on JAX elsewhere. macOS on Intel, which START-HERE names
as out of reach for 04-05, is checked to be exactly that.

Each target is resolved in two steps, so that every environment marker is evaluated for the target and not for
the machine that runs the test (pip evaluates markers for the interpreter it runs in):

1. ``uv pip compile --python-platform … --python-version …`` resolves the kit's files for the target, markers of
   the kit's files and of every dependency evaluated there, into a flat list of pins;
2. ``pip install --dry-run --no-deps --only-binary=:all: --platform … --python-version … --implementation cp
   --abi cp3XX`` proves that every one of those pins has a wheel for the target on the index, and its report gives
   the files pip would download, whose sizes (from the index) are the download sizes START-HERE states.

The table (platform × Python → resolves, with which Keras backend, download sizes) is printed in the test log and
written to ``test-artifacts/kit-platforms.md``. Skipped, saying why, only when the index cannot be reached.
"""

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from corpus import REPO

from convcourse.grader.runtime import build_student_wheel

pytestmark = pytest.mark.slow

INDEX = "https://pypi.org/simple"
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
UV = str(Path(sys.executable).parent / "uv")
ARTEFACTS = Path(os.environ.get("CONVCOURSE_ARTEFACTS", REPO / "test-artifacts"))


def _manylinux(arch, glibc=35):
    # pip expands a macOS --platform to the older macOS versions itself, but not a manylinux one: list them.
    return [f"manylinux_2_{minor}_{arch}" for minor in range(glibc, 4, -1)] + [
        f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]


# name shown -> (uv's --python-platform, pip's --platform tags, does START-HERE promise Keras there?)
TARGETS = {
    "Linux x86_64 (glibc 2.35)": ("x86_64-manylinux_2_35", _manylinux("x86_64"), True),
    "Linux aarch64 (glibc 2.35)": ("aarch64-manylinux_2_35", _manylinux("aarch64")[:-2], True),
    "macOS 14 arm64": ("aarch64-apple-darwin", ["macosx_14_0_arm64"], True),
    "Windows amd64": ("x86_64-pc-windows-msvc", ["win_amd64"], True),
    "macOS 14 x86_64 (Intel)": ("x86_64-apple-darwin", ["macosx_14_0_x86_64"], False),
}
REQUIREMENTS = {"base": ("requirements.txt",), "keras": ("requirements.txt", "requirements-keras.txt")}


def _index_reachable():
    try:
        with urllib.request.urlopen(f"{INDEX}/pip/", timeout=20) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def pip(tmp_path_factory):
    """A current pip, from the index: it reads a wheel's metadata from the index (PEP 658) instead of downloading
    every wheel (the main environment's pip 23.0 would download the 572 MB TensorFlow wheel for each target)."""
    if not _index_reachable():
        pytest.skip(f"the package index {INDEX} cannot be reached from here, so wheels cannot be looked up")
    venv = tmp_path_factory.mktemp("pip") / "venv"
    subprocess.run([UV, "venv", "--quiet", "--no-config", "--python", sys.executable, str(venv)], check=True,
                   env=_clean_environment())
    subprocess.run([UV, "pip", "install", "--quiet", "--no-config", "--index-url", INDEX, "--python",
                    str(venv / "bin" / "python"), "pip"], check=True, env=_clean_environment())
    return str(venv / "bin" / "python")


@pytest.fixture(scope="module")
def kit_files(tmp_path_factory):
    if not _index_reachable():
        pytest.skip(f"the package index {INDEX} cannot be reached from here, so wheels cannot be looked up")
    folder = tmp_path_factory.mktemp("kit-files")
    for name in ("requirements.txt", "requirements-kernel.txt", "requirements-keras.txt"):
        (folder / name).write_text((REPO / "kit" / name).read_text())
    build_student_wheel(folder)
    return folder


def _clean_environment():
    # The index alone: this machine's pip and uv settings (local mirrors, constraints) must not decide.
    return {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}


def _compile(folder, uv_platform, python, files):
    """The target's flat pins (``name==version`` lines), markers evaluated for the target; or ``None``."""
    arguments = [argument for name in files for argument in (name,)]
    completed = subprocess.run(
        [UV, "pip", "compile", "--no-config", "--quiet", "--no-header", "--no-annotate", "--index-url", INDEX,
         "--find-links", str(folder), "--python-platform", uv_platform, "--python-version", python,
         "--only-binary", ":all:", *arguments],
        cwd=folder, capture_output=True, text=True, env=_clean_environment(), timeout=600)
    if completed.returncode != 0:
        return None, completed.stderr.strip().splitlines()[-3:]
    return [line.strip() for line in completed.stdout.splitlines() if "==" in line], []


def _pip_dry_run(pip, folder, pins, tags, python, report):
    """pip's own verdict: every pin has a wheel for the target; the report of what it would download."""
    pinned = report.with_name("pinned.txt")
    pinned.write_text("\n".join(pins) + "\n")
    abi = "cp" + python.replace(".", "")
    command = [pip, "-m", "pip", "install", "--isolated", "--disable-pip-version-check", "--dry-run",
               "--ignore-installed", "--no-deps", "--only-binary=:all:", "--python-version", python,
               "--implementation", "cp", "--abi", abi, *(a for tag in tags for a in ("--platform", tag)),
               "--target", str(report.with_name("target")), "--index-url", INDEX, "--find-links", str(folder),
               "--quiet", "--report", str(report), "-r", str(pinned)]
    if os.environ.get("PIP_CERT"):
        command[4:4] = ["--cert", os.environ["PIP_CERT"]]
    completed = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=_clean_environment(),
                               timeout=900)
    if completed.returncode != 0:
        return None, completed.stderr.strip().splitlines()[-3:]
    return json.loads(report.read_text())["install"], []


_SIZES = {}


def _file_size(url):
    """The size in bytes of the wheel at ``url`` (the index's JSON page of its project), or a local file's."""
    if url.startswith("file:"):
        return Path(urllib.request.url2pathname(url[5:])).stat().st_size
    name = url.rsplit("/", 1)[-1].split("#")[0]
    project = re.sub(r"[-_.]+", "-", name.split("-")[0]).lower()
    if project not in _SIZES:
        request = urllib.request.Request(f"{INDEX}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            _SIZES[project] = {f["filename"]: f.get("size") for f in json.load(response)["files"]}
    return _SIZES[project][urllib.request.unquote(name)]


def _resolve(pip, folder, scratch, target, python):
    """One row of the table: both requirement sets compiled for the target, and pip's dry run of the larger one
    that resolves (the base set alone where Keras does not)."""
    uv_platform, tags, promised = TARGETS[target]
    row = {"target": target, "python": python, "promised": promised}
    pins = {}
    for kind, files in REQUIREMENTS.items():
        pins[kind], row[f"{kind}_why"] = _compile(folder, uv_platform, python, files)
    checked = "keras" if pins["keras"] is not None else "base"
    installs, why = (None, row["base_why"]) if pins[checked] is None else _pip_dry_run(
        pip, folder, pins[checked], tags, python, scratch / "report.json")
    sizes = {} if installs is None else {
        f"{item['metadata']['name'].lower().replace('_', '-')}=={item['metadata']['version']}":
            _file_size(item["download_info"]["url"]) for item in installs}
    for kind in REQUIREMENTS:
        if pins[kind] is None:
            row[kind] = False
            continue
        wanted = {pin.split(";")[0].strip().lower().replace("_", "-") for pin in pins[kind]}
        row[kind] = installs is not None and wanted <= set(sizes)
        if not row[kind]:
            row[f"{kind}_why"] = row[f"{kind}_why"] or why or sorted(wanted - set(sizes))
            continue
        row[f"{kind}_mb"] = sum(sizes[pin] for pin in wanted) / 1e6
        if kind == "keras":
            names = {pin.split("==")[0] for pin in wanted}
            row["backend"] = ("TensorFlow" if names & {"tensorflow", "tensorflow-cpu"}
                              else "JAX" if "jax" in names else "none")
    return row


@pytest.fixture(scope="module")
def table(pip, kit_files, tmp_path_factory):
    jobs = [(target, python, tmp_path_factory.mktemp("resolve")) for target in TARGETS for python in PYTHONS]
    # The index answers slowly, one page at a time, and the suite's other tests need the cores: the resolutions
    # mostly wait, so ten at once (folders made first: pytest's temporary-folder factory is not made for threads).
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        rows = list(pool.map(lambda job: _resolve(pip, kit_files, job[2], *job[:2]), jobs))
    _write_table(rows)
    return rows


def _write_table(rows):
    lines = ["| platform | CPython | 01-03, 06 (requirements.txt) | 04-05 (+ requirements-keras.txt) |",
             "|---|---|---|---|"]
    for row in rows:
        base = f"resolves, {row['base_mb']:.0f} MB download" if row["base"] else "does not resolve"
        keras = (f"resolves, Keras on {row['backend']}, {row['keras_mb'] - row['base_mb']:.0f} MB more"
                 if row["keras"] else "does not resolve (no TensorFlow or JAX wheel)")
        lines.append(f"| {row['target']} | {row['python']} | {base} | {keras} |")
    text = "\n".join(lines)
    ARTEFACTS.mkdir(exist_ok=True)
    (ARTEFACTS / "kit-platforms.md").write_text(text + "\n")
    print(f"\n[student kit] platforms, resolved on {INDEX}:\n{text}", file=sys.__stderr__)


def test_base_requirements_resolve_everywhere(table):
    failed = {(r["target"], r["python"]): r["base_why"] for r in table if not r["base"]}
    assert not failed, failed


def test_keras_requirements_resolve_where_promised(table):
    failed = {(r["target"], r["python"]): r["keras_why"] for r in table if r["promised"] and not r["keras"]}
    assert not failed, failed


def test_keras_runs_on_tensorflow_where_it_has_a_wheel_and_on_jax_elsewhere(table):
    for row in table:
        if row["promised"]:
            expected = "JAX" if row["python"] == "3.14" else "TensorFlow"
            assert row["backend"] == expected, (row["target"], row["python"], row["backend"])


def test_what_is_out_of_reach_is_named_where_students_read_it(table):
    unreachable = sorted({r["target"] for r in table if not r["promised"]})
    assert unreachable and all(not r["keras"] for r in table if not r["promised"])
    start_here = (REPO / "kit" / "START-HERE.md").read_text()
    assert "macOS on Intel" in start_here and "JAX" in start_here


def test_stated_sizes_are_the_measured_ones(table):
    """START-HERE states the download sizes of the largest target (Linux x86_64, the heaviest TensorFlow wheel),
    rounded up: base within 100 MB above the measured size, Keras within 250 MB."""
    start_here = " ".join((REPO / "kit" / "START-HERE.md").read_text().split())
    base = max(r["base_mb"] for r in table if r["base"])
    keras = max(r["keras_mb"] - r["base_mb"] for r in table if r["keras"])
    stated_base = int(re.search(r"downloads about (\d+) MB", start_here).group(1))
    stated_keras = float(re.search(r"Keras \(about ([\d.]+) GB more", start_here).group(1)) * 1000
    assert base <= stated_base <= base + 100, (base, stated_base)
    assert keras <= stated_keras <= keras + 250, (keras, stated_keras)
