"""The grading service's soak (``python -m benchmarks --only service``): real Redis, PostgreSQL and Celery workers.

``soak`` submissions of assignment 01, each from a different student, land in a JupyterHub exchange's inbound
folder at once (a deadline rush); the watcher queues them, 2 workers (one notebook at a time each, the cores of
this machine) grade them, and the watcher releases each page into the exchange. A third of the way through, one
worker is killed with SIGKILL (its machine "dies"; the instructor's ``reconcile`` queues its notebook again and a
fresh worker takes its place); two thirds of the way, PostgreSQL is restarted. Measured: submit-to-feedback
latency (from the moment the submission is in the exchange to the moment its page is), notebooks per minute,
lost grades (submissions without a page or a gradebook record) and duplicated ones (gradings beyond one per
submission, nbgrader submissions beyond one per student).

Then each assignment's cost per notebook through the service, in CPU seconds of the whole machine (kernels
included, so run it alone), and from it the 16-core workers a course of 10,000 needs to return every 04
submission within 10 minutes.
"""

import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from convcourse.grader import grading
from convcourse.grader.service import servers

REPO = Path(__file__).resolve().parent.parent
SOAKED = "01_cross_correlation"
COURSE_SIZE, CORES, MINUTES = 10_000, 16, 10


def _report(rows, row):
    """Keep ``row`` for the final table and print it now: a long soak interrupted still leaves its figures."""
    rows.append(row)
    label, value, unit = row
    print(f"  = {label}: {value:.1f} {unit}", flush=True)


def _machine_cpu():
    with open("/proc/stat") as handle:
        ticks = [int(value) for value in handle.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _worker(name, folder, log):
    folder.mkdir(parents=True)
    return subprocess.Popen(
        [sys.executable, "-m", "convcourse.grader.service", "worker", "--concurrency", "1", "--name",
         f"{name}@{os.uname().nodename}"],
        cwd=folder, env=dict(os.environ, CONVCOURSE_WORKER_DIR=str(folder)), stdout=log.open("w"),
        stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=servers.die_with_parent)


def _stop(process, sig=signal.SIGTERM):
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _drop(exchange, student, notebook):
    stamp = time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime())
    folder = exchange / "convolutions-by-hand" / "inbound" / f"{student}+{SOAKED}+{stamp}+{os.urandom(6).hex()}"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{SOAKED}.ipynb")
    (folder / "timestamp.txt").write_text(stamp)
    (folder / "submission_secret.txt").write_text(os.urandom(64).hex())
    return folder.name


def _released(exchange, rows):
    from nbgrader.utils import notebook_hash

    outbound = exchange / "convolutions-by-hand" / "feedback"
    found = {}
    for row in rows:
        page = outbound / f"{notebook_hash(secret=row['secret'], notebook_id=row['notebook_id'])}.html"
        if page.exists():
            found[row["inbound"]] = page.stat().st_mtime
    return found


def soak(rows, count, folder, postgres):
    from convcourse.grader.service import intake, store

    course = grading.prepare_course(folder / "course", [SOAKED])
    release = grading.generate_assignment(course, SOAKED)
    answers = grading.solution_answers(REPO / "solutions" / SOAKED / f"{SOAKED}.ipynb")
    wrong = (REPO / "tests" / "submissions" / SOAKED / "wrong" / "conv2d__missing_bias.py").read_text()
    exchange = folder / "exchange"
    (exchange / "convolutions-by-hand" / "inbound").mkdir(parents=True)
    workers = [_worker(f"soak{k}", folder / f"w{k}", folder / f"w{k}.log") for k in (1, 2)]
    watcher = subprocess.Popen(
        [sys.executable, "-m", "convcourse.grader.service", "watch", "--exchange", str(exchange), "--interval", "1"],
        env=dict(os.environ, CONVCOURSE_DAILY_QUOTA="0"), stdout=(folder / "watch.log").open("w"),
        stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=servers.die_with_parent)
    submitted = {}
    try:
        time.sleep(5)  # the workers connect
        start = time.time()
        for k in range(count):
            notebook = grading.student_notebook(release, dict(answers, conv2d=wrong) if k % 4 == 3 else answers)
            name = _drop(exchange, f"student{k:04d}", notebook)
            submitted[name] = time.time()
        print(f"  {count} submissions in the exchange; grading", flush=True)
        killed = restarted = False
        while True:
            time.sleep(2)
            graded = len(store.rows(assignment=SOAKED, purpose="submit", status="graded"))
            print(f"  graded {graded}/{count} ({time.time() - start:.0f} s)", flush=True)
            if not killed and graded >= count // 3:
                _stop(workers[0], signal.SIGKILL)
                requeued = intake.reconcile()
                print(f"  killed worker soak1 (SIGKILL); reconcile queued {len(requeued)} again", flush=True)
                workers[0] = _worker("soak3", folder / "w3", folder / "w3.log")
                killed = True
            if not restarted and graded >= 2 * count // 3:
                postgres.restart()
                print("  restarted PostgreSQL", flush=True)
                restarted = True
            recorded = store.rows(assignment=SOAKED, purpose="submit")  # not the cost measurement's
            if len(recorded) == count and all(row["status"] in ("graded", "failed") for row in recorded):
                if len(_released(exchange, recorded)) == sum(row["status"] == "graded" for row in recorded):
                    break
        finished = time.time()
    finally:
        _stop(watcher)
        for worker in workers:
            _stop(worker)
    recorded = store.rows(assignment=SOAKED, purpose="submit")
    pages = _released(exchange, recorded)
    latencies = sorted(pages[name] - submitted[name] for name in pages)
    gradebook = grading.scores(course, SOAKED, sorted({row["student"] for row in recorded}))
    # Lost: no page in the exchange, not graded, or no gradebook record (nbgrader keeps one per student at most).
    lost = sum(row["inbound"] not in pages or row["status"] != "graded" or row["student"] not in gradebook
               for row in recorded) + count - len(recorded)
    duplicated = sum(max(0, row["gradings"] - 1) for row in recorded)
    _report(rows, (f"service soak: {count} submissions of {SOAKED}, 2 workers", count, "submissions"))
    _report(rows, ("service: submit-to-feedback latency, median", statistics.median(latencies), "s"))
    _report(rows, ("service: submit-to-feedback latency, 95th percentile",
                   latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)], "s"))
    _report(rows, ("service: throughput", 60 * count / (finished - start), "notebooks/min"))
    _report(rows, ("service: lost grades (must be 0)", lost, "submissions"))
    _report(rows, ("service: duplicated grades (must be 0)", duplicated, "gradings"))
    _report(rows, ("service: deliveries beyond one (killed worker, retries)",
                   sum(max(0, row["deliveries"] - 1) for row in recorded), "deliveries"))


def cost_per_notebook(rows, assignments, folder):
    """CPU seconds of the whole machine per notebook graded through the service, one worker, two notebooks."""
    from convcourse.grader import classroom

    costs, walls = {}, {}
    for assignment in assignments:
        course = grading.prepare_course(folder / f"cost-{assignment}", [assignment])
        release = grading.generate_assignment(course, assignment)
        answers = grading.solution_answers(REPO / "solutions" / assignment / f"{assignment}.ipynb")
        worker = _worker(f"cost-{assignment}", folder / f"cost-worker-{assignment}", folder / f"cost-{assignment}.log")
        try:
            warm = ["warmup"]
            grading.submit(course, assignment, warm[0], grading.student_notebook(release, answers))
            classroom.autograde(course, assignment, students=warm)  # the worker's references, its first imports
            students = ["first", "second"]
            for student in students:
                grading.submit(course, assignment, student, grading.student_notebook(release, answers))
            spent, start = _machine_cpu(), time.perf_counter()
            classroom.autograde(course, assignment, students=students)
            costs[assignment] = (_machine_cpu() - spent) / len(students)
            wall = walls[assignment] = (time.perf_counter() - start) / len(students)
        finally:
            _stop(worker)
        _report(rows, (f"service: {assignment}, CPU per notebook", costs[assignment], "s"))
        _report(rows, (f"service: {assignment}, wall per notebook (one worker process)", wall, "s"))
    if "04_fully_convolutional" in costs:
        cores = COURSE_SIZE * costs["04_fully_convolutional"] / (MINUTES * 60)
        _report(rows, (f"16-core workers for {COURSE_SIZE:,} submissions of 04 in {MINUTES} min",
                       math.ceil(cores / CORES), "workers"))
        # On a machine that is not idle the CPU count includes others' work; one worker process's wall time per
        # notebook (a notebook keeps about one core busy) does not, though it still waits for a shared core.
        cores = COURSE_SIZE * walls["04_fully_convolutional"] / (MINUTES * 60)
        _report(rows, (f"16-core workers for {COURSE_SIZE:,} submissions of 04 in {MINUTES} min, from wall time",
                       math.ceil(cores / CORES), "workers"))


def run(rows, count, assignments):
    problems = servers.missing()
    if problems:
        raise SystemExit("the service benchmark needs " + " and ".join(problems) + " (make services)")
    wanted = (sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir()) if assignments == "all"
              else [name for name in assignments.split(",") if name])
    redis, postgres = servers.start_both()
    saved = os.environ.get("CONVCOURSE_SERVICE")
    os.environ["CONVCOURSE_SERVICE"] = f"{redis.url} {postgres.url}"
    try:
        with tempfile.TemporaryDirectory(prefix="convcourse-service-bench-") as folder:
            if wanted:
                cost_per_notebook(rows, wanted, Path(folder))
            if count:
                soak(rows, count, Path(folder), postgres)
    finally:
        os.environ.pop("CONVCOURSE_SERVICE")
        if saved is not None:
            os.environ["CONVCOURSE_SERVICE"] = saved
        redis.remove()
        postgres.remove()
