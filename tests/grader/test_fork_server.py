"""The grading workers' fork server is a fork of the nbgrader process (what it imported is not imported again), and a
fresh interpreter when that process already runs other threads (a fork would copy none of them). Forked, it leaves
that process's asyncio loop behind: sharing its epoll instance, workers would miss their kernels' replies."""

import subprocess
import sys
import textwrap

import pytest

PARENT = textwrap.dedent("""
    import os, runpy, sys, threading, time
    from multiprocessing import forkserver
    from jupyter_core.utils import ensure_event_loop
    from convcourse.grader import contained

    if sys.argv[1] == "with-a-thread":
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
    loop = ensure_event_loop()  # as nbgrader's process has one by the time its first notebook is graded
    context = contained._context("01_cross_correlation")
    workers = [context.Process(target=runpy.run_path, args=(sys.argv[2],), kwargs={"init_globals": {"parent": id(loop)}})
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    server = forkserver._forkserver._forkserver_pid
    with open(f"/proc/{server}/cmdline", "rb") as server_command, open("/proc/self/cmdline", "rb") as own_command:
        same_command = server_command.read() == own_command.read()
    with open(f"/proc/{server}/stat") as handle:
        parent = int(handle.read().rpartition(")")[2].split()[1])
    print(",".join(str(worker.exitcode) for worker in workers), parent == os.getpid(), same_command)
""")
# In a worker: the event loop it runs is its own (exit 0), not the parent's (exit 3), and it works.
WORKER = textwrap.dedent("""
    import asyncio, sys
    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop()
    loop.run_until_complete(asyncio.sleep(0.01))
    sys.exit(3 if id(loop) == parent else 0)
""")


@pytest.mark.parametrize(("threads", "forked"), [("alone", True), ("with-a-thread", False)])
def test_the_fork_server_is_forked_only_from_a_process_without_threads(threads, forked, tmp_path):
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    completed = subprocess.run([sys.executable, "-c", PARENT, threads, str(worker)], capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    exitcodes, child_of_this_process, same_command = completed.stdout.split()
    assert exitcodes == "0,0", "a worker ran the grading process's own event loop"
    assert child_of_this_process == "True"
    assert same_command == str(forked)
