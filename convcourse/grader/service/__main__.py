"""The grading service's commands (``CONVCOURSE_SERVICE`` must name the broker and the database):

    python -m convcourse.grader.service worker [--concurrency N] [--name NAME]   # grade; on any prepared machine
    python -m convcourse.grader.service watch --exchange ROOT                    # grade on submit, release feedback
    python -m convcourse.grader.service reconcile [--exchange ROOT] [--stale S] [--retry-failed]
    python -m convcourse.grader.service status [ASSIGNMENT]                      # queued, running, graded, failed
    python -m convcourse.grader.service servers             # a private Redis + PostgreSQL on loopback, to try it
"""

import argparse
import os
import signal
import sys

from convcourse.grader.service import settings


def _require_setting():
    if not settings.configured():
        raise SystemExit(f"{settings.VARIABLE} is not set: it names the broker and the database, "
                         "'redis://HOST:PORT/N postgresql://USER@HOST:PORT/DB' (see the README).")
    settings.broker_url()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convcourse.grader.service", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="a Celery worker that grades (prepare the machine first)")
    worker.add_argument("--concurrency", type=int, default=None, help="notebooks at once (default: cores)")
    worker.add_argument("--name", default="grader@%h")
    watch = commands.add_parser("watch", help="queue new exchange submissions, release their feedback")
    watch.add_argument("--exchange", required=True, help="the exchange's root (nbgrader's Exchange.root)")
    watch.add_argument("--interval", type=float, default=2.0)
    reconcile = commands.add_parser("reconcile", help="queue again what was submitted but not graded")
    reconcile.add_argument("--exchange", default=None)
    reconcile.add_argument("--stale", type=float, default=None, help="seconds (default: the visibility timeout)")
    reconcile.add_argument("--retry-failed", action="store_true")
    shown = commands.add_parser("status", help="how many queued, running, graded, failed; why they failed")
    shown.add_argument("assignment", nargs="?")
    commands.add_parser("servers", help="start a private Redis and PostgreSQL here, until Ctrl-C")
    args = parser.parse_args(argv)

    if args.command == "servers":
        from convcourse.grader.service.servers import start_both

        redis, postgres = start_both()
        print(f'export {settings.VARIABLE}="{redis.url} {postgres.url}"  # Ctrl-C stops both', flush=True)
        try:
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        finally:
            redis.remove()
            postgres.remove()
        return
    _require_setting()
    if args.command == "worker":
        from convcourse.grader.sandbox import destroy_orphaned_boxes

        destroy_orphaned_boxes()  # what this machine's killed workers left
        command = [sys.executable, "-m", "celery", "-A", "convcourse.grader.service.tasks", "worker",
                   "--loglevel", "INFO", "-n", args.name, "-E"]
        if args.concurrency:
            command += ["--concurrency", str(args.concurrency)]
        os.execv(sys.executable, command)
    from convcourse.grader.service import client, intake

    if args.command == "watch":
        print(f"watching {args.exchange} for submissions (daily quota {settings.daily_quota() or 'none'})",
              flush=True)
        intake.watch(args.exchange, interval=args.interval)
    elif args.command == "reconcile":
        queued = intake.reconcile(args.exchange, stale=args.stale, retry_failed=args.retry_failed)
        print(f"queued again: {len(queued)}")
        for row in queued:
            print(f"  {row['student']} {row['assignment']} ({row['status']})")
    elif args.command == "status":
        counts, failures = client.status(args.assignment)
        print("  ".join(f"{state}: {number}" for state, number in counts.items()))
        for student, assignment, reason in failures:
            print(f"  failed: {student} {assignment}: {reason}")
        try:
            from convcourse.grader.service.tasks import app

            active = app.control.inspect(timeout=2).active() or {}
            for worker, running in sorted(active.items()):
                print(f"  worker {worker}: {len(running)} running")
        except Exception as error:  # the broker is down: the counts above are still right
            print(f"  workers: the broker did not answer ({type(error).__name__})")


if __name__ == "__main__":
    main(sys.argv[1:])
