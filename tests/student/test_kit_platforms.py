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
   the files pip would download, whose sizes (from the index) are the download sizes START-HERE states. pip reads
   the index's project pages through :class:`PinnedIndex`, cut to the pinned releases: the same candidates for an
   exact pin, without the 75,000 links of every release ever made that pip would otherwise parse and judge for
   each target (most of its CPU time); the wheels themselves stay on the index.

The table (platform × Python → resolves, with which Keras backend, download sizes) is printed in the test log and
written to ``test-artifacts/kit-platforms.md``. Skipped, saying why, only when the index cannot be reached.
"""

import concurrent.futures
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from corpus import REPO
from packaging.utils import canonicalize_name, parse_wheel_filename

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


def _pip_dry_run(pip, folder, index, pins, tags, python, report):
    """pip's own verdict: every pin has a wheel for the target; the report of what it would download."""
    pinned = report.with_name("pinned.txt")
    pinned.write_text("\n".join(pins) + "\n")
    abi = "cp" + python.replace(".", "")
    command = [pip, "-m", "pip", "install", "--isolated", "--disable-pip-version-check", "--dry-run",
               "--ignore-installed", "--no-deps", "--only-binary=:all:", "--python-version", python,
               "--implementation", "cp", "--abi", abi, *(a for tag in tags for a in ("--platform", tag)),
               "--target", str(report.with_name("target")), "--index-url", index, "--find-links", str(folder),
               "--quiet", "--report", str(report), "-r", str(pinned)]
    if os.environ.get("PIP_CERT"):
        command[4:4] = ["--cert", os.environ["PIP_CERT"]]
    completed = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=_clean_environment(),
                               timeout=900)
    if completed.returncode != 0:
        return None, completed.stderr.strip().splitlines()[-3:]
    return json.loads(report.read_text())["install"], []


def _index_json(url):
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


class PinnedIndex:
    """The package index's project pages as pip sees them for exact pins, served on 127.0.0.1: each page (PEP 691
    JSON) lists only the wheels of the releases pinned for some target, each entry as the index gives it (its
    address on the index, hashes, Requires-Python, yanked), so that pip reads each wheel's metadata from the index
    itself."""

    def __init__(self, pins):
        self.versions = {}
        for pin in pins:
            name, _, version = pin.split(";")[0].strip().partition("==")
            self.versions.setdefault(canonicalize_name(name), set()).add(version.strip())
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            self.files = dict(zip(self.versions, pool.map(self._pinned_files, self.versions)))
        self.sizes = {entry["filename"]: entry["size"] for files in self.files.values() for entry in files}
        handler = functools.partial(_PinnedIndexHandler, self)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"

    def _pinned_files(self, project):
        try:
            listed = _index_json(f"{INDEX}/{project}/")["files"]
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return []  # not on the index: the kit's own wheel, which pip finds in the kit's folder
            raise
        files = []
        for entry in listed:
            if not entry["filename"].endswith(".whl"):
                continue  # --only-binary: pip never takes an sdist
            if str(parse_wheel_filename(entry["filename"])[1]) in self.versions[project]:
                files.append(entry)
        return files

    def page(self, project):
        return {"meta": {"api-version": "1.1"}, "name": project, "files": self.files.get(project, [])}

    def size(self, url):
        """The size in bytes of the wheel at ``url`` (as the index states it), or a local file's."""
        if url.startswith("file:"):
            return Path(urllib.request.url2pathname(url[5:])).stat().st_size
        return self.sizes[urllib.request.unquote(url.rsplit("/", 1)[-1].split("#")[0])]

    def close(self):
        self.server.shutdown()


class _PinnedIndexHandler(http.server.BaseHTTPRequestHandler):
    def __init__(self, index, *args, **kwargs):
        self.index = index
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        path = urllib.request.unquote(self.path.split("?")[0])
        if not path.startswith("/simple/"):
            self.send_error(404)
            return
        body = json.dumps(self.index.page(canonicalize_name(path.split("/")[2]))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _row(target, python, pins, why, dry_run, size):
    """One row of the table: both requirement sets compiled for the target, and pip's dry run of the larger one
    that resolves (the base set alone where Keras does not)."""
    _, _, promised = TARGETS[target]
    row = {"target": target, "python": python, "promised": promised}
    row.update({f"{kind}_why": why[kind] for kind in REQUIREMENTS})
    installs, failure = dry_run
    sizes = {} if installs is None else {
        f"{item['metadata']['name'].lower().replace('_', '-')}=={item['metadata']['version']}":
            size(item["download_info"]["url"]) for item in installs}
    for kind in REQUIREMENTS:
        if pins[kind] is None:
            row[kind] = False
            continue
        wanted = {pin.split(";")[0].strip().lower().replace("_", "-") for pin in pins[kind]}
        row[kind] = installs is not None and wanted <= set(sizes)
        if not row[kind]:
            row[f"{kind}_why"] = row[f"{kind}_why"] or failure or sorted(wanted - set(sizes))
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

    def compile_both(job):
        target, python, _ = job
        return zip(*(_compile(kit_files, TARGETS[target][0], python, files) for files in REQUIREMENTS.values()))

    # The index answers slowly, one page at a time, and the suite's other tests need the cores: the resolutions
    # mostly wait, so ten at once (folders made first: pytest's temporary-folder factory is not made for threads).
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        compiled = [(dict(zip(REQUIREMENTS, pins)), dict(zip(REQUIREMENTS, why)))
                    for pins, why in pool.map(compile_both, jobs)]
        index = PinnedIndex({pin for pins, _ in compiled for kind in REQUIREMENTS for pin in pins[kind] or []})
        try:
            def dry_run(job, pins):
                target, python, scratch = job
                checked = "keras" if pins["keras"] is not None else "base"
                if pins[checked] is None:
                    return None, None
                return _pip_dry_run(pip, kit_files, index.url, pins[checked], TARGETS[target][1], python,
                                    scratch / "report.json")

            runs = list(pool.map(dry_run, jobs, [pins for pins, _ in compiled]))
        finally:
            index.close()
    rows = [_row(target, python, pins, why, run, index.size)
            for (target, python, _), (pins, why), run in zip(jobs, compiled, runs)]
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
