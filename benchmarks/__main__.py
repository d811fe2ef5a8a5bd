"""Timings that matter to students, instructors and CI, each the median of ``--repeat`` runs.

    python -m benchmarks [--repeat 3] [--only setup,book,nbval,autograde,throughput,suite,platforms,service]
                         [--class-size N] [--assignments 04,05]
                         [--soak 300] [--service-assignments all]

* setup: a fresh clone's ``make setup`` (new .venv, packages from the registry or uv's cache);
* book: ``make book`` from a clean ``_build`` and again with nothing changed;
* nbval: re-executing and comparing each chapter;
* autograde: for each assignment, its release (the Keras references of its hidden tests are computed then, once),
  the first solution notebook alone, then wall and CPU seconds per notebook graded in a class of ``--class-size``
  (default 6; one instructor's command: its nbgrader runner's start included, as the first notebook's);
* throughput: a synthetic class of ``--class-size`` (default 16) notebooks of assignment 01, released, then
  autograded sequentially and with one worker per core, in notebooks per minute (the whole ``autograde`` call), and
  whether both runs gave identical grades;
* suite: the whole ``make test``, and its ten slowest tests;
* platforms: the student kit's platform table (``tests/student/test_kit_platforms.py``, resolved on the package
  index once, not repeated): each platform and CPython START-HERE names, whether the base kit and Keras resolve,
  with which backend, and the download sizes;
* service: the grading service under load, a soak rather than a timing: ``--soak``
  submissions (default 300) of assignment 01 dropped into a JupyterHub exchange at once, graded by 2 Celery
  workers with a private Redis and PostgreSQL, a worker killed with SIGKILL and the database restarted on the
  way; submit-to-feedback latency (median, 95th percentile), notebooks per minute, lost and duplicated grades
  (both must be 0); then each assignment's CPU seconds per notebook through the service (two notebooks each, one
  worker; the whole machine's CPU, so run it alone) and the 16-core workers a course of 10,000 needs to return
  every 04 submission within 10 minutes.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from convcourse.grader import grading, nbgrader_runner

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _timed(command, cwd, env=None):
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return elapsed


def _median(repeat, run):
    return statistics.median(run() for _ in range(repeat))


def bench_setup(repeat, rows):
    def once():
        with tempfile.TemporaryDirectory() as folder:
            clone = Path(folder) / "course"
            subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
            return _timed(["make", "setup"], clone)

    rows.append(("fresh clone -> make setup", _median(repeat, once), "s"))


def bench_book(repeat, rows):
    def clean():
        shutil.rmtree(REPO / "_build", ignore_errors=True)
        return _timed(["make", "book"], REPO)

    rows.append(("make book, clean", _median(repeat, clean), "s"))
    rows.append(("make book, nothing changed", _median(repeat, lambda: _timed(["make", "book"], REPO)), "s"))


def bench_nbval(repeat, rows):
    for chapter in sorted((REPO / "chapters").glob("*.ipynb")):
        command = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
                   "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", str(chapter.relative_to(REPO))]
        rows.append((f"nbval {chapter.stem}", _median(repeat, lambda: _timed(command, REPO)), "s"))


def _course_with(assignment, students, folder, timings=None):
    course = grading.prepare_course(folder, [assignment])
    start = time.perf_counter()
    release = grading.generate_assignment(course, assignment)
    if timings is not None:
        timings.append(time.perf_counter() - start)
    answers = grading.solution_answers(REPO / "solutions" / assignment / f"{assignment}.ipynb")
    for student in students:
        grading.submit(course, assignment, student, grading.student_notebook(release, answers))
    return course


def _require_full_marks(course, assignment, students):
    """Every submission here is the solution: a figure from a class that did not earn full marks (no bubblewrap,
    a broken runtime) times a failure, not grading, so it is refused instead of printed. Returns the grades."""
    graded = grading.scores(course, assignment, students)
    short = sorted(student for student in students
                   if not graded.get(student) or any(score != top for score, top in graded[student].values()))
    if short:
        raise RuntimeError(f"{assignment}: {len(short)} of {len(students)} solution notebooks did not earn full "
                           f"marks (first: {short[0]}), so their timing would not be grading's; is bubblewrap "
                           "installed ('make sandbox') and are the kernel runtimes built ('make runtimes')?")
    return graded


CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class CpuMeter:
    """CPU seconds spent by this process and everything it starts, sandboxed kernels included.

    Kernels are not this process's children to wait for (they are killed at the end of a notebook), so
    ``resource.getrusage`` misses them. Where the cpuacct cgroup is writable (root, cgroup v1, as grading needs)
    this process joins a cpuacct cgroup of its own, which its nbgrader processes and their kernels inherit (a box
    joins only memory and pids cgroups): the count is exact on a busy machine. Otherwise the whole machine's busy
    CPU is counted, which is right only on a quiet machine."""

    def __init__(self):
        self.folder = CPUACCT / f"convcourse-benchmark-{os.getpid()}"
        try:
            self.folder.mkdir(exist_ok=True)
            (self.folder / "cgroup.procs").write_text(str(os.getpid()))
            self.source = "cpuacct cgroup of the benchmark"
        except OSError:
            self.folder = None
            self.source = "whole machine (no writable cpuacct cgroup): run on a quiet machine"

    def seconds(self):
        if self.folder is not None:
            return int((self.folder / "cpuacct.usage").read_text()) / 1e9
        with open("/proc/stat") as handle:
            ticks = [int(value) for value in handle.readline().split()[1:]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")

    def close(self):
        if self.folder is not None:
            (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))
            try:
                self.folder.rmdir()
            except OSError:  # a straggler still in it: the empty cgroup goes when it does
                pass


def bench_autograde(repeat, rows, assignments=None, class_size=6):
    """Per assignment: the release (``generate_assignment``, which also computes the Keras references of the
    hidden tests), one solution notebook alone (a new nbgrader runner), then ``class_size`` more in one batch (a
    new runner again),
    as in a class: wall and CPU seconds per notebook (kernels included, :class:`CpuMeter`; the batch's start, its
    nbgrader process, fork server and kernel zygotes, shared by the class), the first one's too; then the same class
    with one worker per core (notebooks per minute), and the largest peak memory of one student's grading process
    (its cgroup's)."""
    meter = CpuMeter()
    print(f"CPU counted by: {meter.source}", flush=True)
    try:
        for assignment in sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir()):
            if assignments and not any(assignment.startswith(prefix) for prefix in assignments):
                continue
            release, cold, cold_cpu, warm, cpu, parallel, peak = [], [], [], [], [], [], []
            for _ in range(repeat):
                with tempfile.TemporaryDirectory() as folder:
                    students = [f"student{k}" for k in range(class_size + 1)]
                    course = _course_with(assignment, students, folder, release)
                    # Each autograde below is one instructor's command: it starts its own nbgrader runner.
                    nbgrader_runner.stop()
                    start, spent = time.perf_counter(), meter.seconds()
                    grading.autograde(course, assignment, students[:1])
                    cold.append(time.perf_counter() - start)
                    cold_cpu.append(meter.seconds() - spent)
                    _require_full_marks(course, assignment, students[:1])
                    nbgrader_runner.stop()
                    start, spent = time.perf_counter(), meter.seconds()
                    grading.autograde(course, assignment, students[1:])
                    warm.append((time.perf_counter() - start) / class_size)
                    cpu.append((meter.seconds() - spent) / class_size)
                    _require_full_marks(course, assignment, students[1:])
                    # The same class again, one worker per core: the class's pace.
                    nbgrader_runner.stop()
                    start = time.perf_counter()
                    grading.autograde(course, assignment, students[1:], workers=os.cpu_count() or 1)
                    parallel.append(class_size * 60 / (time.perf_counter() - start))
                    _require_full_marks(course, assignment, students[1:])
                    peak.append(_largest_grading_peak(course, assignment))
            rows.append((f"release {assignment} (references included)", statistics.median(release), "s"))
            rows.append((f"autograde {assignment}: first notebook, alone", statistics.median(cold), "s"))
            rows.append((f"autograde {assignment}: CPU of the first notebook, alone", statistics.median(cold_cpu), "s"))
            rows.append((f"autograde {assignment}: per notebook in a class of {class_size}", statistics.median(warm),
                         "s"))
            rows.append((f"autograde {assignment}: CPU per notebook in a class of {class_size}",
                         statistics.median(cpu), "s"))
            # What one more student costs: the class's CPU less the first notebook's, which carries the batch's
            # own start (nbgrader, the fork server, the kernel zygotes) as the class does.
            rows.append((f"autograde {assignment}: CPU per further notebook (the class less the first alone) / "
                         f"{class_size - 1}", statistics.median((class_size * c - first) / (class_size - 1)
                                                                for c, first in zip(cpu, cold_cpu)), "s"))
            rows.append((f"autograde {assignment}: notebooks per minute, one worker per core",
                         statistics.median(parallel), "notebooks/min"))
            rows.append((f"autograde {assignment}: grading process's peak memory per student (largest)",
                         statistics.median(peak), "MB"))
    finally:
        meter.close()


def _largest_grading_peak(course, assignment):
    """The largest peak memory of one student's grading process (convcourse.grader.contained), in MB."""
    costs = Path(course) / ".grading" / "costs" / f"{assignment}.jsonl"
    return max((json.loads(line)["peak_memory_mb"] or 0.0) for line in costs.read_text().splitlines())


def bench_throughput(repeat, rows, class_size):
    assignment = "01_cross_correlation"
    students = [f"student{k:03d}" for k in range(class_size)]
    workers = os.cpu_count() or 1
    results = {}
    for label, count in (("sequential", 1), (f"{workers} workers", workers)):
        def once():
            with tempfile.TemporaryDirectory() as folder:
                course = _course_with(assignment, students, folder)
                nbgrader_runner.stop()
                start = time.perf_counter()
                grading.autograde(course, assignment, students, workers=count)
                elapsed = time.perf_counter() - start
                results[label] = _require_full_marks(course, assignment, students)
                return elapsed

        seconds = _median(repeat, once)
        rows.append((f"autograde {class_size} notebooks, {label}", 60 * class_size / seconds, "notebooks/min"))
    first, second = results.values()
    rows.append(("parallel grades identical to sequential", float(first == second), "1 = yes"))


def bench_suite(repeat, rows):
    """``make test``'s wall time, and the ten slowest tests of the last run (pytest's ``--durations``)."""
    slowest = []

    def once():
        start = time.perf_counter()
        completed = subprocess.run(["make", "test", "PYTEST_ARGS=--durations=10"], cwd=REPO, capture_output=True,
                                   text=True)
        elapsed = time.perf_counter() - start
        if completed.returncode != 0:
            raise RuntimeError(f"make test failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
        section = completed.stdout.partition("slowest 10 durations")[2].split("\n=")[0]
        slowest[:] = [line.strip() for line in section.splitlines()[1:] if line.strip()][:10]
        return elapsed

    rows.append(("make test", _median(repeat, once), "s"))
    for line in slowest:
        seconds, _, test = line.partition("s ")
        rows.append((f"  slow: {test.strip()[:90]}", float(seconds), "s"))


def bench_platforms(repeat, rows):
    """The kit's platform table, printed whole (its test resolves it on the package index: once, not repeated)."""
    with tempfile.TemporaryDirectory() as artefacts:
        completed = subprocess.run(
            [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "-o", "addopts=",
             "tests/student/test_kit_platforms.py"], cwd=REPO, capture_output=True, text=True,
            env=dict(os.environ, CONVCOURSE_ARTEFACTS=artefacts))
        table = Path(artefacts, "kit-platforms.md")
        if not table.exists():
            raise RuntimeError(f"the platform test wrote no table:\n{completed.stdout[-3000:]}")
        text = table.read_text()
    print(f"\nThe student kit's platforms (tests/student/test_kit_platforms.py):\n{text}", flush=True)
    lines = [line for line in text.splitlines()[2:] if line.startswith("|")]
    rows.append(("kit platforms x CPython where the base kit resolves",
                 sum(line.split("|")[3].strip().startswith("resolves") for line in lines), f"of {len(lines)}"))
    rows.append(("kit platforms x CPython where Keras resolves", sum("Keras on" in line for line in lines),
                 f"of {len(lines)} (macOS on Intel excluded by START-HERE)"))
    rows.append(("platform test passed", float(completed.returncode == 0), "1 = yes"))


def bench_service(repeat, rows, soak, assignments):
    from benchmarks import service_soak

    service_soak.run(rows, soak, assignments)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="setup,book,nbval,autograde,throughput,suite,platforms,service")
    parser.add_argument("--class-size", type=int, default=None,
                        help="notebooks in a class: autograde's (default 6) and throughput's (default 16)")
    parser.add_argument("--assignments", default="", help="autograde only these, by prefix: --assignments 04,05")
    parser.add_argument("--soak", type=int, default=300, help="submissions of the service's soak")
    parser.add_argument("--service-assignments", default="all",
                        help="assignments whose cost per notebook is measured through the service (comma-separated)")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    rows = []
    chosen = [prefix for prefix in args.assignments.split(",") if prefix]
    benches = [("setup", bench_setup), ("book", bench_book), ("nbval", bench_nbval),
               ("autograde", lambda r, out: bench_autograde(r, out, chosen, args.class_size or 6)),
               ("throughput", lambda r, out: bench_throughput(r, out, args.class_size or 16)), ("suite", bench_suite),
               ("platforms", bench_platforms),
               ("service", lambda r, out: bench_service(r, out, args.soak, args.service_assignments))]
    for name, bench in benches:
        if name in wanted:
            print(f"measuring {name} ({args.repeat} runs) ...", flush=True)
            bench(args.repeat, rows)
    width = max(len(label) for label, _, _ in rows)
    print(f"\n{'measure'.ljust(width)}  {'median':>9}  unit")
    for label, value, unit in rows:
        print(f"{label.ljust(width)}  {value:9.1f}  {unit}")


if __name__ == "__main__":
    main()
