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
   the index's project pages cut to the target's pinned releases: the same candidates for an exact pin, without
   the 75,000 links of every release ever made that pip would otherwise parse and judge for each target (most of
   its CPU time); the wheels themselves stay on the index.

Both steps read the index's project pages through :class:`LocalIndex`, which fetches each page from the index once
per run. Each target is compiled and then dry-run in one go, ten targets at once: they mostly wait on the index.

The table (platform × Python → resolves, with which Keras backend, download sizes) is printed in the test log and
written to ``test-artifacts/kit-platforms.md``. Skipped, saying why, only when the index cannot be reached.
"""

import concurrent.futures
import functools
import http.server
import io
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest
import urllib3
from corpus import REPO
from packaging.utils import canonicalize_name, parse_wheel_filename

from convcourse.grader.runtime import build_student_wheel

pytestmark = pytest.mark.slow

INDEX = "https://pypi.org/simple"
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
UV = str(Path(sys.executable).parent / "uv")
ARTEFACTS = Path(os.environ.get("CONVCOURSE_ARTEFACTS", REPO / "test-artifacts"))
# One for every fetch from the index: urllib would otherwise load the system's certificates again for each
# connection (most of the CPU time of fetching 130 pages).
TLS = ssl.create_default_context()


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
        with urllib.request.urlopen(f"{INDEX}/pip/", timeout=20, context=TLS) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def pip(tmp_path_factory):
    """A current pip, from the index: it reads a wheel's metadata from the index (PEP 658) instead of downloading
    every wheel (the main environment's pip 23.0 would download the 572 MB TensorFlow wheel for each target).
    Byte-compiled at install: with PYTHONDONTWRITEBYTECODE set (as here), each of the 20 runs would otherwise
    compile pip's modules again (about a CPU-second each)."""
    if not _index_reachable():
        pytest.skip(f"the package index {INDEX} cannot be reached from here, so wheels cannot be looked up")
    venv = tmp_path_factory.mktemp("pip") / "venv"
    subprocess.run([UV, "venv", "--quiet", "--no-config", "--python", sys.executable, str(venv)], check=True,
                   env=_clean_environment())
    subprocess.run([UV, "pip", "install", "--quiet", "--no-config", "--compile-bytecode", "--index-url", INDEX,
                    "--python", str(venv / "bin" / "python"), "pip"], check=True, env=_clean_environment())
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


def _compile(folder, index, cache, uv_platform, python, files):
    """The target's flat pins (``name==version`` lines), markers evaluated for the target; or ``None``.

    ``--python``: uv needs an interpreter only to build source distributions, which ``--only-binary`` rules out
    (markers and Requires-Python are the target's, from ``--python-version``); named, it spares uv a search of the
    machine's interpreters (half a CPU-second of shell shims) and, without a CPython of the target's version here,
    attempts to download one that fail after seconds."""
    arguments = [argument for name in files for argument in (name,)]
    completed = subprocess.run(
        [UV, "pip", "compile", "--no-config", "--python", sys.executable, "--cache-dir", str(cache), "--quiet",
         "--no-header", "--no-annotate", "--index-url", index, "--find-links", str(folder),
         "--python-platform", uv_platform, "--python-version", python, "--only-binary", ":all:", *arguments],
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


def _index_page(project):
    """The index's page of ``project`` (PEP 691 JSON, as bytes), or ``None`` where the index has no such project (the
    kit's own wheel, which uv and pip find in the kit's folder)."""
    request = urllib.request.Request(f"{INDEX}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=120, context=TLS) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


# The wheels' metadata files come from one host: kept-alive connections spare a TLS handshake for each of about a
# thousand of them.
FILES = urllib3.PoolManager(maxsize=16, ssl_context=TLS, retries=urllib3.Retry(3, backoff_factor=1),
                            timeout=urllib3.Timeout(total=600))


def _wheel_metadata(wheel_url):
    response = FILES.request("GET", f"{wheel_url}.metadata")
    if response.status == 200:
        return response.data
    if response.status != 404:
        raise OSError(f"the index answered {response.status} for {wheel_url}.metadata")
    wheel = zipfile.ZipFile(_RemoteFile(wheel_url))
    return wheel.read(next(name for name in wheel.namelist()
                           if name.count("/") == 1 and name.endswith(".dist-info/METADATA")))


class _RemoteFile(io.RawIOBase):
    """A file on the index, read by HTTP range requests: :mod:`zipfile` reads a wheel's directory and one member
    without the whole wheel (TensorFlow's: 250 MB) coming down."""

    def __init__(self, url):
        self.url, self.position = url, 0
        response = FILES.request("HEAD", url)
        if response.status != 200:
            raise OSError(f"the index answered {response.status} for {url}")
        self.size = int(response.headers["Content-Length"])

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=io.SEEK_SET):
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def readinto(self, buffer):
        end = min(self.position + len(buffer), self.size)
        if end <= self.position:
            return 0
        response = FILES.request("GET", self.url, headers={"Range": f"bytes={self.position}-{end - 1}"})
        if response.status != 206:
            raise OSError(f"the index answered {response.status} to a range of {self.url}")
        data = response.data
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)


class LocalIndex:
    """The package index's project pages, each fetched from the index once per run and served on 127.0.0.1 in two
    cuts:

    - under :attr:`url`, as the index gives them, for uv. The index sends no caching headers, so each of the 40
      resolutions would fetch and parse the same 130 pages (35 MB) again; served as fresh for the run, they are
      fetched once and parsed once into uv's cache (a folder of the run's own: its entries name this server's
      port, of no use after the run).
    - under :meth:`pinned`, for pip (PEP 691 JSON): only the wheels of the releases pinned for one target, each
      entry as the index gives it (its address on the index, hashes, Requires-Python, yanked). For exact pins these
      are the candidates pip would take from the whole page, without the 75,000 links of every release ever made
      that pip would otherwise parse and judge for each target (most of its CPU time). Each wheel's address there
      is this server's, which gives its metadata (fetched from the index once per run) and nothing else: a dry run
      reads a wheel's metadata, never the wheel.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._pages = {}  # project -> Future: the index's page (bytes) or None
        self._releases = {}  # project -> Future: {version: [the index's entries of its wheels]}
        self._metadata = {}  # a wheel's address on the index -> Future: its metadata file (bytes)
        self._pins = []  # one {project: version} per pinned cut, named by its position
        self.sizes = {}  # wheel file name -> its size in bytes, as the index states it
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_LocalIndexHandler, self))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.root}/simple"

    def _once(self, cache, key, make):
        """``make()`` for ``key``, made by the first thread that asks and awaited by the others (uv and pip ask for
        the same page from several processes at once); a failure is not kept, so that uv's retry fetches again."""
        with self._lock:
            future = cache.get(key)
            mine = future is None
            if mine:
                future = cache[key] = concurrent.futures.Future()
        if mine:
            try:
                future.set_result(make())
            except Exception as error:
                with self._lock:
                    del cache[key]
                future.set_exception(error)
        return future.result()

    def page(self, project):
        return self._once(self._pages, project, lambda: _index_page(project))

    def releases(self, project):
        return self._once(self._releases, project, lambda: self._wheels_by_release(project))

    def _wheels_by_release(self, project):
        releases = {}
        body = self.page(project)
        for entry in json.loads(body)["files"] if body is not None else ():
            if entry["filename"].endswith(".whl"):  # --only-binary: pip never takes an sdist
                releases.setdefault(str(parse_wheel_filename(entry["filename"])[1]), []).append(entry)
        with self._lock:
            self.sizes.update((entry["filename"], entry["size"]) for files in releases.values() for entry in files)
        return releases

    def pinned(self, pins):
        """The address of an index that lists, for each of ``pins``, the index's wheels of the pinned release."""
        versions = {}
        for pin in pins:
            name, _, version = pin.split(";")[0].strip().partition("==")
            versions[canonicalize_name(name)] = version.strip()
        with self._lock:
            self._pins.append(versions)
            return f"{self.root}/pinned/{len(self._pins) - 1}/simple"

    def pinned_page(self, cut, project):
        version = self._pins[cut].get(project)
        files = self.releases(project).get(version, []) if version is not None else []
        # Each wheel's metadata (PEP 658) through this server, which fetches it from the index once per run: the
        # index here lists no metadata with its wheels (though it serves it), and pip would otherwise download every
        # wheel it picks, for every target (up to 2.5 GB and a third of the test's CPU time).
        files = [dict(entry, url=f"{self.root}/files/{urllib.parse.quote(entry['url'], safe='')}",
                      **{"core-metadata": entry.get("core-metadata") or entry.get("data-dist-info-metadata") or True})
                 for entry in files]
        return json.dumps({"meta": {"api-version": "1.1"}, "name": project, "files": files}).encode()

    def metadata(self, wheel_url):
        """The metadata file of the wheel at ``wheel_url`` on the index: its ``.metadata`` file, or, where the index
        has none, the ``METADATA`` of the wheel itself."""
        return self._once(self._metadata, wheel_url, lambda: _wheel_metadata(wheel_url))

    def size(self, url):
        """The size in bytes of the wheel at ``url`` (as the index states it), or a local file's."""
        if url.startswith("file:"):
            return Path(urllib.request.url2pathname(url[5:])).stat().st_size
        return self.sizes[urllib.request.unquote(url.split("#")[0]).rsplit("/", 1)[-1]]

    def close(self):
        self.server.shutdown()


class _LocalIndexHandler(http.server.BaseHTTPRequestHandler):
    def __init__(self, index, *args, **kwargs):
        self.index = index
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        parts = urllib.request.unquote(self.path.split("?")[0]).strip("/").split("/")
        whole = len(parts) == 2 and parts[0] == "simple"
        wheel = urllib.request.unquote(self.path.split("?")[0].partition("/files/")[2])
        metadata = self.path.startswith("/files/") and wheel.endswith(".whl.metadata")
        try:
            if metadata:
                body = self.index.metadata(wheel.removesuffix(".metadata"))
            elif whole:
                body = self.index.page(canonicalize_name(parts[1]))
            elif len(parts) == 4 and parts[0] == "pinned" and parts[2] == "simple":
                body = self.index.pinned_page(int(parts[1]), canonicalize_name(parts[3]))
            else:
                body = None
        except OSError:  # URLError and HTTPError among them
            self.send_error(502)  # the index failed: uv retries, pip reports it
            return
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain" if metadata else "application/vnd.pypi.simple.v1+json")
        if whole:  # for uv's cache of the run (pip's cut pages stay out of pip's cache, which is the user's)
            self.send_header("Cache-Control", "max-age=86400")
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
def index():
    local = LocalIndex()
    yield local
    local.close()


@pytest.fixture(scope="module")
def table(pip, kit_files, index, tmp_path_factory):
    jobs = [(target, python, tmp_path_factory.mktemp("resolve")) for target in TARGETS for python in PYTHONS]
    uv_cache = tmp_path_factory.mktemp("uv-cache")

    def resolve(job):
        """Both requirement sets compiled for the target, then pip's dry run of the larger one that resolves."""
        target, python, scratch = job
        compiled = {kind: _compile(kit_files, index.url, uv_cache, TARGETS[target][0], python, files)
                    for kind, files in REQUIREMENTS.items()}
        pins = {kind: kind_pins for kind, (kind_pins, _) in compiled.items()}
        why = {kind: kind_why for kind, (_, kind_why) in compiled.items()}
        checked = "keras" if pins["keras"] is not None else "base"
        if pins[checked] is None:
            return pins, why, (None, None)
        return pins, why, _pip_dry_run(pip, kit_files, index.pinned(pins[checked]), pins[checked],
                                       TARGETS[target][1], python, scratch / "report.json")

    # The index answers slowly, one page at a time, and the suite's other tests need the cores: each target's
    # resolutions and dry run mostly wait, so ten targets at once (folders made first: pytest's temporary-folder
    # factory is not made for threads).
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        resolved = list(pool.map(resolve, jobs))
    rows = [_row(target, python, pins, why, run, index.size)
            for (target, python, _), (pins, why, run) in zip(jobs, resolved)]
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


def test_a_pin_without_a_wheel_for_the_target_fails_the_dry_run(pip, kit_files, index, tmp_path):
    """pip's dry run through the local index's pinned cut still says no where the index has no wheel for the target:
    TensorFlow 2.21 has none for CPython 3.14."""
    pins = ["tensorflow-cpu==2.21.0"]
    _, tags, _ = TARGETS["Linux x86_64 (glibc 2.35)"]
    installs, why = _pip_dry_run(pip, kit_files, index.pinned(pins), pins, tags, "3.14", tmp_path / "report.json")
    assert installs is None and any("tensorflow-cpu==2.21.0" in line for line in why), why
    assert index.releases("tensorflow-cpu")["2.21.0"]  # the cut lists the release's wheels, none of them for 3.14
