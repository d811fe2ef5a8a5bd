"""The grading service with real servers: Redis, PostgreSQL and two Celery workers, each a process of its own
with a working folder of its own, and a watcher on a JupyterHub exchange.

A class of four submits assignment 01 through the exchange (alice and carol with nbgrader's own ``submit``, the
others written into the inbound folder as ``submit`` writes them). While it is graded, one worker is killed with SIGKILL
in the middle of a notebook, PostgreSQL is restarted and so is the broker, Redis; the instructor's ``reconcile`` puts the lost notebook back
on the queue. Then: every submission is graded, exactly once (one record, one completed grading, one nbgrader
submission per student); the grades are those ``make autograde`` gives the same notebooks on this machine with
SQLite; each student's feedback is in the exchange and *Fetch Feedback* brings it; carol, over her daily quota of
one, is told so instead of being graded; a submission no worker can grade ends failed, with its reason; then the
instructor's ``make autograde`` through the service (final grading) gives the same grades again.
"""

import base64
import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import threading
import time

import nbformat
import pytest
from corpus import REPO

from convcourse.grader import classroom, grading
from convcourse.grader.service import servers

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_cross_correlation"
SUBMISSIONS = REPO / "tests" / "submissions" / ASSIGNMENT


def _answers():
    return grading.solution_answers(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def _class():
    """Each student's answers: two correct, one with a known mistake, one that does not even parse."""
    bias = (SUBMISSIONS / "wrong" / "conv2d__missing_bias.py").read_text()
    return {"alice": _answers(), "bob": dict(_answers(), conv2d=bias), "carol": _answers(),
            "erin": dict(_answers(), corr2d="def corr2d(")}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    problems = servers.missing()
    assert not problems, "the service's tests need " + " and ".join(problems) + " (make services)"
    redis, postgres = servers.start_both()
    saved = os.environ.get("CONVCOURSE_SERVICE")
    os.environ["CONVCOURSE_SERVICE"] = f"{redis.url} {postgres.url}"
    try:
        yield redis, postgres, tmp_path_factory.mktemp("service")
    finally:
        if saved is None:
            del os.environ["CONVCOURSE_SERVICE"]
        else:
            os.environ["CONVCOURSE_SERVICE"] = saved
        redis.remove()
        postgres.remove()


class Worker:
    """``python -m convcourse.grader.service worker`` in its own session and folder, one notebook at a time."""

    def __init__(self, name, folder):
        self.name = f"{name}@{os.uname().nodename}"
        folder.mkdir()
        self.log = folder / "worker.log"
        environment = dict(os.environ, CONVCOURSE_WORKER_DIR=str(folder), CONVCOURSE_GRADING_ATTEMPTS="2")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "convcourse.grader.service", "worker", "--concurrency", "1", "--name", self.name],
            cwd=folder, env=environment, stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=servers.die_with_parent)

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def _student_home(tmp_path, student, exchange):
    home = tmp_path / student
    home.mkdir()
    config = (REPO / "kit" / "hub" / "nbgrader_config.py").read_text()
    config += (f"c.Exchange.root = {str(exchange)!r}\n"
               f"c.Exchange.cache = {str(home / '.nbgrader_cache')!r}\n"
               f"c.CourseDirectory.student_id = {student!r}\n")
    (home / "nbgrader_config.py").write_text(config)
    return home


def _drop_in_inbound(exchange, student, notebook):
    """What ``nbgrader submit`` leaves in the exchange, written directly (it is the same for the service)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime())
    suffix = base64.urlsafe_b64encode(os.urandom(9)).decode()
    folder = exchange / "convolutions-by-hand" / "inbound" / f"{student}+{ASSIGNMENT}+{stamp}+{suffix}"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    (folder / "timestamp.txt").write_text(stamp)
    (folder / "submission_secret.txt").write_text(os.urandom(64).hex())


def _wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"waited {seconds} s for {what}")


def _local_grades(tmp_path, notebooks):
    """``make autograde``'s grades of the same notebooks: this machine, SQLite, no service."""
    saved = os.environ.pop("CONVCOURSE_SERVICE")
    try:
        course = grading.prepare_course(tmp_path / "local", [ASSIGNMENT])
        grading.generate_assignment(course, ASSIGNMENT)
        for student, notebook in notebooks.items():
            grading.submit(course, ASSIGNMENT, student, notebook)
        outcome = classroom.autograde(course, ASSIGNMENT, workers=2)
    finally:
        os.environ["CONVCOURSE_SERVICE"] = saved
    return {student: result["cells"] for student, result in outcome.items()}


def test_a_class_graded_on_submission_through_the_service(service, monkeypatch):
    from convcourse.grader.service import client, intake, store

    redis, postgres, tmp_path = service
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    course = grading.prepare_course(tmp_path / "course", [ASSIGNMENT])
    grading.generate_assignment(course, ASSIGNMENT)  # its hidden tests into the PostgreSQL gradebook
    grading.nbgrader(course, "release_assignment", ASSIGNMENT, f"--Exchange.root={exchange}")
    release = course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebooks = {student: grading.student_notebook(release, answers) for student, answers in _class().items()}

    workers = [Worker(name, tmp_path / name) for name in ("w1", "w2")]
    watcher = subprocess.Popen(
        [sys.executable, "-m", "convcourse.grader.service", "watch", "--exchange", str(exchange), "--interval", "0.5"],
        env=dict(os.environ, CONVCOURSE_DAILY_QUOTA="1"), stdout=(tmp_path / "watch.log").open("w"),
        stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=servers.die_with_parent)
    try:
        homes = {}
        for student in ("alice", "carol"):
            home = homes[student] = _student_home(tmp_path, student, exchange)
            grading.nbgrader(home, "fetch_assignment", ASSIGNMENT)
            nbformat.write(notebooks[student], home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
            grading.nbgrader(home, "submit", ASSIGNMENT)
        for student in ("bob", "erin"):
            _drop_in_inbound(exchange, student, notebooks[student])
        grading.nbgrader(homes["carol"], "submit", ASSIGNMENT)  # a second time today: over her quota of one
        # A submission no worker can grade (an assignment it does not have): tried twice, then failed, with why.
        intake.submit("submit", "mallory", "99_missing", b"{}", "2026-01-01 00:00:00.000000 UTC")

        # A worker dies in the middle of a notebook; the database and the broker restart while the other one
        # grades (its connection to both breaks in the middle of its notebook).
        running = _wait(lambda: [row for row in store.rows(status="running", assignment=ASSIGNMENT)
                                 if row["worker"] == workers[0].name], 180, "w1 to start grading")
        workers[0].kill()
        postgres.restart()
        redis.restart()
        requeued = intake.reconcile()
        assert running[0]["id"] in {row["id"] for row in requeued}
        _wait(lambda: len(store.rows(status="graded")) == 4 and not store.rows(status=("queued", "running")),
              240, "every submission to be graded or failed")
        _wait(lambda: not intake.store.to_release(), 30, "the watcher to release every page")
        on_submit = grading.scores(course, ASSIGNMENT)

        # The deadline: the instructor collects each student's last submission and grades them through the service
        # with the same command as without it; the machine of the killed worker is back.
        workers.append(Worker("w3", tmp_path / "w3"))
        grading.nbgrader(course, "collect", ASSIGNMENT, "--update", "--before-duedate", f"--Exchange.root={exchange}",
                         "--ExchangeCollect.check_owner=False")
        final = classroom.autograde(course, ASSIGNMENT)
    finally:
        watcher.terminate()
        for worker in workers:
            worker.stop()
    rows = store.rows(purpose="submit", assignment=ASSIGNMENT)
    logs = (tmp_path / "watch.log").read_text() + "".join(
        f"\n{row['student']}: {row['status']} on {row['worker']}, {row['reason']}" for row in rows)
    graded = [row for row in rows if row["status"] == "graded"]
    over = [row for row in rows if row["status"] == "over_quota"]
    assert sorted(row["student"] for row in graded) == ["alice", "bob", "carol", "erin"], logs
    assert [row["student"] for row in over] == ["carol"], logs
    everything = store.rows(status="graded")  # on submission and at the deadline
    assert len(everything) == 8 and all(row["gradings"] == 1 for row in everything), logs
    assert store.get(running[0]["id"])["deliveries"] >= 2
    counts, failures = client.status()
    assert counts == {"queued": 0, "running": 0, "graded": 8, "failed": 1, "over_quota": 1, "late": 0}, counts
    assert [(student, assignment) for student, assignment, _ in failures] == [("mallory", "99_missing")]
    assert "99_missing" in failures[0][2] and store.rows(student="mallory")[0]["deliveries"] == 2, failures

    # The same grades as make autograde's, on submission and at the deadline; one nbgrader submission per student.
    assert sorted(on_submit) == sorted(notebooks)
    local = _local_grades(tmp_path, notebooks)
    assert on_submit == local
    assert {student: result["cells"] for student, result in final.items()} == local
    assert grading.scores(course, ASSIGNMENT) == local
    total = {student: sum(score for score, _ in cells.values()) for student, cells in local.items()}
    maximum = sum(top for _, top in local["alice"].values())
    assert total["alice"] == total["carol"] == maximum > total["bob"] and total["erin"] < maximum, total

    # Feedback in the exchange, one page per submission, fetched by each student; carol is told about the quota.
    pages = list((exchange / "convolutions-by-hand" / "feedback").glob("*.html"))
    assert len(pages) == 5
    score = re.compile(r"<h1[^>]*>[^<]*: ([\d.]+) of\s+([\d.]+) points</h1>")
    for student, home in homes.items():
        grading.nbgrader(home, "fetch_feedback", ASSIGNMENT)
        fetched = [p.read_text(encoding="utf-8") for p in (home / ASSIGNMENT / "feedback").glob("*/*.html")]
        assert len(fetched) == (2 if student == "carol" else 1), fetched
        assert any(score.search(page) and float(score.search(page).group(1)) == maximum for page in fetched)
        assert all("BEGIN HIDDEN TESTS" not in page for page in fetched)
    assert any("not graded (daily limit reached)" in page for page in
               [p.read_text() for p in (homes["carol"] / ASSIGNMENT / "feedback").glob("*/*.html")])


def test_processes_that_start_together_create_the_table_once(service):
    """The watcher, the workers and the instructor's client each create the service's table on their first use of
    the database; on a fresh database, eight of them starting at the same moment all succeed (without the lock,
    the ones that lose the race to create it failed with DuplicateTable)."""
    import sqlalchemy as sa

    from convcourse.grader.service import settings, store

    admin = sa.create_engine(settings.database_url(), isolation_level="AUTOCOMMIT")
    fresh = f"fresh_{os.getpid()}_{time.monotonic_ns()}"
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {fresh}"))
    url = settings.database_url().rsplit("/", 1)[0] + "/" + fresh
    starters = 8
    together = threading.Barrier(starters)

    def first_use(_):
        together.wait()
        return store._engine.__wrapped__(url)  # uncached: as a process of its own would
    engines = []
    try:
        with concurrent.futures.ThreadPoolExecutor(starters) as pool:
            engines.extend(pool.map(first_use, range(starters)))
        with engines[0].connect() as connection:
            assert connection.execute(sa.select(sa.func.count()).select_from(store.submissions)).scalar() == 0
    finally:
        for engine in engines:
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE {fresh} WITH (FORCE)"))
        admin.dispose()
