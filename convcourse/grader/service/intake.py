"""Submissions into the service, pages out: grade on submit, with a daily quota per student.

:func:`scan_exchange` puts every new submission in a JupyterHub exchange's ``inbound`` folder on the queue (an
LMS download collected with ``make collect-zip`` goes through :func:`submit`, the same way); :func:`release` writes
each graded submission's feedback page into the exchange's ``feedback`` folder under the name nbgrader's
*Fetch Feedback* looks for, as ``nbgrader release_feedback`` would; :func:`watch` does both every few seconds.
A student past the quota of graded submissions per assignment and day (``CONVCOURSE_DAILY_QUOTA``, default 3)
is not graded, nor is a submission after the assignment's due date: the page released for it says so.
:func:`reconcile` compares what was submitted with what was graded and puts back on the queue whatever is missing.

The pages are read from the database, which the workers write: the exchange is the only folder involved, and it
stays on the machine that serves it.
"""

import html
import os
import re
import time
from pathlib import Path

from nbgrader.utils import notebook_hash, parse_utc

from convcourse.grader import grading
from convcourse.grader.service import settings, store, tasks

SECRET = re.compile(r"^[0-9a-f]{16,256}$")
# A student id becomes a folder name on the workers: the characters an LMS download may use, and no dot-only name.
STUDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


def _assignments():
    return {path.name for path in (grading.REPO_ROOT / "solutions").iterdir() if path.is_dir()}


def submit(purpose, student, assignment, notebook, timestamp, notebook_id=None, inbound=None, secret=None,
           batch="", quota=None):
    """Record a submission (``notebook``: its bytes) and queue its grading, unless the student is over the quota
    (``purpose="submit"`` only) or it was recorded before. Returns its row."""
    notebook_id = notebook_id or assignment
    identifier = store.submission_id(purpose, student, assignment, timestamp, notebook, batch)
    known = store.get(identifier)
    if known is not None:
        return known
    row = dict(id=identifier, purpose=purpose, student=student, assignment=assignment, notebook_id=notebook_id,
               timestamp=timestamp, inbound=inbound, secret=secret, notebook=notebook, status="queued")
    quota = settings.daily_quota() if quota is None else quota
    due = _due_date(assignment) if purpose == "submit" else None
    if due is not None and timestamp and parse_utc(timestamp) > due:
        # Graded on submission it would replace the final grade in the gradebook; the final grading skips it too.
        row.update(status="late", feedback=late_page(assignment),
                   reason="submitted after the due date: not graded on submission")
    elif purpose == "submit" and quota:
        day = time.strftime("%Y-%m-%d", time.gmtime())
        if store.quota_used(student, assignment, day) >= quota:
            row.update(status="over_quota", day=day, feedback=quota_page(assignment, quota),
                       reason=f"over the daily quota of {quota} graded submissions")
    store.add(row)
    if row["status"] == "queued":
        tasks.send(row)
    return store.get(identifier)


def quota_page(assignment, quota):
    """What a student over the quota fetches as feedback."""
    title = f"{assignment}: not graded (daily limit reached)"
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "</head><body><main>"
            f"<h1>{html.escape(title)}</h1>"
            f"<p>You have had {quota} submissions of this assignment graded today, the most a day. This one was "
            "received and kept, but not graded: submit again tomorrow for feedback. Your grade for the course "
            "comes from your last submission before the deadline, whichever it is.</p></main></body></html>\n")


def late_page(assignment):
    """What a student who submits after the due date fetches as feedback."""
    title = f"{assignment}: received after the due date"
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "</head><body><main>"
            f"<h1>{html.escape(title)}</h1>"
            "<p>This submission was received and kept, but it came after the due date, so it is not graded on "
            "submission. Your grade comes from your last submission before the due date.</p></main></body></html>\n")


_DUE_DATES = {}


def _due_date(assignment):
    """The assignment's due date in the gradebook (naive UTC, as nbgrader keeps it), or ``None``; looked up at
    most once a minute."""
    from nbgrader.api import Gradebook, MissingEntry

    known = _DUE_DATES.get(assignment)
    if known is None or time.monotonic() - known[1] > 60:
        with Gradebook(settings.database_url(), tasks.COURSE_ID) as gradebook:
            try:
                due = gradebook.find_assignment(assignment).duedate
            except MissingEntry:
                due = None
        known = _DUE_DATES[assignment] = (due, time.monotonic())
    return known[0]


def _inbound(exchange_root, course_id):
    return Path(exchange_root) / course_id / "inbound"


def _complete(folder):
    """``(timestamp, secret)`` of a finished nbgrader submission folder, ``None`` while it is being written."""
    try:
        secret = (folder / "submission_secret.txt").read_text().strip()
        timestamp = (folder / "timestamp.txt").read_text().strip()
    except OSError:
        return None
    return (timestamp, secret) if SECRET.match(secret) and timestamp else None


def scan_exchange(exchange_root, course_id=tasks.COURSE_ID, quota=None):
    """Queue every submission in the exchange's inbound folder not seen before; return the new rows."""
    inbound = _inbound(exchange_root, course_id)
    if not inbound.is_dir():
        return []
    known = store.known_inbound()
    new = []
    for folder in sorted(inbound.iterdir()):
        parts = folder.name.split("+")
        if folder.name in known or len(parts) < 3 or not folder.is_dir():
            continue
        complete = _complete(folder)
        if complete is None:
            continue
        student, assignment = parts[0], parts[1]
        if not STUDENT.match(student) or assignment not in _assignments():
            continue  # not a submission of this course that nbgrader could have made; collect would skip it too
        notebooks = sorted(folder.glob("*.ipynb"))
        chosen = next((p for p in notebooks if p.stem == assignment), notebooks[0] if notebooks else None)
        data = chosen.read_bytes() if chosen else b""
        new.append(submit("submit", student, assignment, data, complete[0], assignment, inbound=folder.name,
                          secret=complete[1], quota=quota))
    return new


def release(exchange_root, course_id=tasks.COURSE_ID):
    """Write every graded (or over-quota) exchange submission's page into the exchange; return how many."""
    outbound = Path(exchange_root) / course_id / "feedback"
    outbound.mkdir(parents=True, exist_ok=True)
    os.chmod(outbound, 0o755)
    count = 0
    for row in store.to_release():
        checksum = notebook_hash(secret=row["secret"], notebook_id=row["notebook_id"])
        partial = outbound / f"{checksum}-tmp.html"
        partial.write_text(row["feedback"], encoding="utf-8")
        os.chmod(partial, 0o644)
        partial.replace(outbound / f"{checksum}.html")
        store.released(row["id"])
        count += 1
    return count


def reconcile(exchange_root=None, course_id=tasks.COURSE_ID, stale=None, retry_failed=False):
    """Queue again what was submitted and not graded: exchange submissions never recorded; submissions running
    on a worker that no longer answers (a machine that died: the broker would redeliver them only after its
    visibility timeout); submissions queued or running for longer than ``stale`` seconds (default: the
    visibility timeout; a message lost with a broker that kept no copy). With ``retry_failed``, failed ones too.
    A submission queued twice is still graded once (:mod:`.tasks`). Returns the rows queued again."""
    queued = scan_exchange(exchange_root, course_id) if exchange_root else []
    stale = float(os.environ.get("CONVCOURSE_VISIBILITY_TIMEOUT", 3600)) if stale is None else stale
    states = ("queued", "running", "failed") if retry_failed else ("queued", "running")
    alive = tasks.live_workers()
    now = time.time()
    for row in store.rows(status=states):
        last = row["started_at"] if row["status"] == "running" else row["submitted_at"]
        lost = row["status"] == "running" and row["worker"] not in alive
        if row["status"] == "failed" or lost or now - (last or 0) >= stale:
            tasks.send(row)
            queued.append(row)
    return queued


def watch(exchange_root, course_id=tasks.COURSE_ID, interval=2.0, stop=None):
    """Scan and release every ``interval`` seconds until ``stop()`` is true (forever by default)."""
    while not (stop and stop()):
        try:
            for row in scan_exchange(exchange_root, course_id):
                print(f"{row['student']} submitted {row['assignment']}: {row['status']}", flush=True)
            released = release(exchange_root, course_id)
            if released:
                print(f"released {released} feedback pages", flush=True)
        except Exception as error:  # the broker or the database is away longer than its retries: next round
            print(f"watching paused: {type(error).__name__}: {error}", flush=True)
        time.sleep(interval)
