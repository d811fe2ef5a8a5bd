"""Each submission is graded in a process of its own, inside that student's own limits.

nbgrader grades a batch of notebooks in one process, the *parent*. Whatever a submission can make the grader do —
its test cells, every model rebuilt and run, every reference computed for a stand-in, 05's training — happens in
a *worker*: a process forked for that one notebook from a server that has already imported the grading code (and
Keras, for 04–05), so the import is paid once per batch and never on a student's bill. The worker

* joins cgroups of its own: memory (``CONVCOURSE_GRADER_MEMORY_LIMIT_MB``) and processes, with a CPU limit
  (``RLIMIT_CPU``, ``CONVCOURSE_GRADER_CPU_SECONDS``) and a wall budget: the notebook's
  ``CONVCOURSE_NOTEBOOK_TIMEOUT`` plus the time its kernels may take to start;
* runs :class:`~convcourse.grader.execute.TrustedExecute` on its notebook with Keras' state as the server left
  it (untouched by any other student), sending each finished cell back as it goes;
* ends. No process grades two students.

Past a limit the worker is killed: the cells it finished keep their outputs, the cell it was running and every
later one fail with a message naming the limit, and the batch goes on with the next notebook in a fresh worker.
While one notebook is graded, the next notebook's worker is already forked and booting its kernels (a spare,
used once). What each worker cost (its peak memory from its cgroup, its CPU and wall time, the limit it hit) is
appended to ``<grading folder>/costs/<assignment>.jsonl``.
"""

import asyncio
import atexit
import contextlib
import gc
import importlib
import json
import multiprocessing
import os
import resource
import signal
import socket
import threading
import time
from pathlib import Path

import nbformat
from nbclient.util import run_sync
from traitlets import Integer, default

from convcourse.grader import sandbox
from convcourse.grader.checks import preload_reference_cache
from convcourse.grader.execute import KERAS_ASSIGNMENTS, TrustedExecute, error_output, gradebook_cells
from convcourse.grader.launcher import setting, unsafe_mode

LIMITS = {
    "memory": "the grader's work for your submission (models rebuilt and run, references computed for your calls, "
              "training) used more than its {memory} MB of memory",
    "cpu": "the grader's work for your submission used more than its {cpu} s of CPU time",
    "time": "grading your submission took longer than its budget of {budget} s",
    "crashed": "the grading process of your submission ended unexpectedly ({detail})",
}
LIMIT_ERROR = "GradingLimit"
NOT_GRADED = ("NotRun", "not run: {limit} at an earlier cell")


def _preloads(assignment):
    """What the fork server imports once: the grading code, the assignment's test material, Keras for 04–05."""
    modules = ["convcourse.grader.contained", "convcourse.grader.proxy", "nbclient", "nbgrader.api"]
    if assignment.startswith(KERAS_ASSIGNMENTS):
        modules += ["convcourse.grader.lean_keras", "convcourse.student.models"]
    package = f"convcourse.assignments.a{assignment}"
    folder = Path(__file__).resolve().parents[1] / "assignments" / f"a{assignment}"
    modules += [f"{package}.{path.stem}" for path in sorted(folder.glob("[!_]*.py"))]
    return modules


_CONTEXT = {}


def _leave_the_event_loop():
    """In the forked server: close its copy of this process's asyncio loop (nbgrader's process has one by then),
    so that each worker makes its own. Inherited, one epoll instance would serve every worker and the parent at
    once, and a worker would miss its kernel's replies (seen: a class hung at its second notebook). Closing it here
    closes only the server's copies of the loop's descriptors."""
    from jupyter_core.utils import ensure_event_loop

    ensure_event_loop().close()
    asyncio.set_event_loop(None)


def _context(assignment):
    """The fork server of this process (one per batch, which grades one assignment)."""
    if "context" not in _CONTEXT:
        context, preloads = multiprocessing.get_context("forkserver"), _preloads(assignment)
        context.set_forkserver_preload(preloads)
        if threading.active_count() == 1:
            _fork_the_server(preloads)
        _CONTEXT["context"] = context
    return _CONTEXT["context"]


def _fork_the_server(preloads):
    """Start multiprocessing's fork server as a fork of this process, not as a new interpreter: nbgrader, nbclient
    and the grading code are imported here already, and importing them again cost each batch about 2 s of CPU
    (only the preloads this process lacks, Keras for 04–05, are imported in the server). The rest is
    ``ForkServer.ensure_running`` of Python 3.11, with ``os.fork`` for its ``spawnv_passfds``. Only while this process
    runs no other thread (checked by the caller): a fork copies no thread, and a lock one of them held would stay
    held in every worker. Like this process, the server and its workers hold the notebook nbgrader read first (they
never use it); no student code runs in any of them."""
    from multiprocessing import connection, forkserver, resource_tracker

    server = forkserver._forkserver
    with server._lock:
        if server._forkserver_pid is not None:
            return
        resource_tracker.ensure_running()
        with socket.socket(socket.AF_UNIX) as listener:
            address = connection.arbitrary_address("AF_UNIX")
            listener.bind(address)
            os.chmod(address, 0o600)
            listener.listen()
            alive_r, alive_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    # Its end of the "alive" pipe closed, the server ends with this process, as a spawned one does.
                    os.close(alive_w)
                    _leave_the_event_loop()
                    preload_reference_cache()
                    for module in preloads:  # here rather than in forkserver.main, which then finds them
                        with contextlib.suppress(ImportError):  # as forkserver.main does
                            importlib.import_module(module)
                    # Every worker shares this process's objects until it writes to them, and a garbage
                    # collection in a worker visits (writes to) all of them: they are left out of collections.
                    gc.freeze()
                    forkserver.main(listener.fileno(), alive_r, preloads)
                finally:
                    os._exit(0)
            os.close(alive_r)
        server._forkserver_address, server._forkserver_alive_fd, server._forkserver_pid = address, alive_w, pid


class WorkerCgroups:
    """A worker's own memory and pids cgroups (none without isolation: then only its CPU limit applies)."""

    def __init__(self, pid, memory_mb):
        self.folders = {}
        if unsafe_mode():
            return
        name = f"{sandbox.run_id()}-grader{pid}"
        for controller, parent in sandbox.cgroup_folders().items():
            folder = parent / name
            folder.mkdir(parents=True, exist_ok=True)
            self.folders[controller] = folder
        (self.folders["memory"] / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
        (self.folders["pids"] / "pids.max").write_text(str(setting("CONVCOURSE_PROCESS_LIMIT", 256)))
        for folder in self.folders.values():
            (folder / "cgroup.procs").write_text(str(pid))

    def _read(self, controller, name):
        try:
            return (self.folders[controller] / name).read_text()
        except (KeyError, OSError):
            return ""

    def peak_bytes(self):
        return int(self._read("memory", "memory.max_usage_in_bytes") or 0)

    def hit_memory_limit(self):
        fields = dict(line.split() for line in self._read("memory", "memory.oom_control").splitlines() if " " in line)
        return int(fields.get("oom_kill", 0)) > 0

    def remove(self):
        for folder in self.folders.values():
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # a process is still leaving the cgroup
                    time.sleep(0.01)


class Worker:
    """The parent's handle on one worker process: started (and its kernels booting) before its notebook comes."""

    def __init__(self, assignment, config, memory_mb):
        self.assignment = assignment
        self.memory_mb = memory_mb
        context = _context(assignment)
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child_end, assignment, config), daemon=True,
                                       name=f"grading {assignment}")
        self.process.start()
        child_end.close()
        self.cgroups = WorkerCgroups(self.process.pid, memory_mb)
        self.run = f"{sandbox.run_id()}-w{self.process.pid}"
        # Only once it is inside its cgroups; with the name its boxes take, by which stop() finds them.
        self.connection.send(("boot", self.run))

    def alive(self):
        return self.process.is_alive()

    def grade(self, nb, resources, budget, wall_seconds, cpu_seconds, on_ready=None):
        """Grade ``nb`` in the worker; the graded notebook (cells past a limit failed with its message).
        ``on_ready()`` is called once the worker's kernel answers (then the next worker may boot its own)."""
        started = time.monotonic()
        job = {"notebook": nbformat.writes(nb), "resources": _plain_resources(resources), "cpu": cpu_seconds}
        finished, failure, limit, detail, cpu_used = {}, None, None, "", None
        try:
            self.connection.send(("grade", job))
        except (BrokenPipeError, ConnectionResetError, OSError):
            limit = "crashed"
        deadline = started + wall_seconds
        while limit is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                limit = "time"
                break
            try:
                if not self.connection.poll(min(remaining, 0.5)):
                    if not self.process.is_alive() and not self.connection.poll(0):
                        limit = "crashed"
                    continue
                kind, *payload = self.connection.recv()
            except (EOFError, OSError):
                limit = "crashed"
                break
            if kind == "ready":
                if on_ready is not None:
                    on_ready()
            elif kind == "cell":
                index, cell = payload
                finished[index] = nbformat.from_dict(json.loads(cell))
            elif kind == "done":
                nb_json, cpu_used = payload
                graded = nbformat.reads(nb_json, as_version=4)
                nb.cells = graded.cells
                nb.metadata = graded.metadata
                break
            elif kind == "failed":
                failure = payload[0]
                break
            elif kind == "limit":
                limit = payload[0]
        if limit is not None:
            self.stop()  # now: its exit code and its cgroup's OOM count name the limit
            limit, detail = self._which_limit(limit)
            _fail_from(nb, finished, LIMITS[limit].format(
                memory=self.memory_mb, cpu=cpu_seconds, budget=budget, detail=detail))
        self._record(resources, started, cpu_used, limit)
        # The rest (killing the worker, its kernels and their boxes, removing its cgroups) is no student's wait:
        # the next notebook starts meanwhile; the interpreter joins the thread before it exits.
        threading.Thread(target=self.end, name=f"ending worker {self.process.pid}").start()
        if failure is not None:
            raise RuntimeError(failure)
        return nb

    def _which_limit(self, seen):
        code = self.process.exitcode
        if self.cgroups.hit_memory_limit():
            return "memory", ""
        # RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard one (this side kills only after "time").
        if seen == "crashed" and code in (-signal.SIGXCPU, -signal.SIGKILL):
            return "cpu", ""
        if seen == "time":
            return "time", ""
        return "crashed", f"exit code {code}"

    def stop(self):
        """End the worker (at once: whatever it still did is not needed) and whatever boxes it left."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.connection.close()
        sandbox.destroy_boxes_of_run(self.run)

    def end(self):
        """:meth:`stop`, then remove its cgroups: nothing of the worker is left."""
        self.stop()
        self.cgroups.remove()

    def _record(self, resources, started, cpu_used, limit):
        folder = os.environ.get("CONVCOURSE_GRADING_DIR")
        if not folder:
            return
        info = (resources or {}).get("nbgrader", {})
        line = {"student": info.get("student"), "assignment": self.assignment, "limit": limit,
                "wall_seconds": round(time.monotonic() - started, 3),
                "cpu_seconds": None if cpu_used is None else round(cpu_used, 3),
                "peak_memory_mb": round(self.cgroups.peak_bytes() / 2**20, 1) or None,
                "memory_limit_mb": self.memory_mb}
        costs = Path(folder) / "costs"
        costs.mkdir(parents=True, exist_ok=True)
        with open(costs / f"{self.assignment}.jsonl", "a") as handle:
            handle.write(json.dumps(line) + "\n")


def _plain_resources(resources):
    """What the worker needs of nbgrader's resources, as plain data."""
    resources = resources or {}
    return json.loads(json.dumps({"metadata": dict(resources.get("metadata", {})),
                                  "nbgrader": dict(resources.get("nbgrader", {}))}, default=str))


def _fail_from(nb, finished, reason):
    """The notebook as far as the worker got: finished cells keep their outputs, the next code cell gets the
    limit's message and every later code cell a note that it was not run."""
    failed = False
    for index, cell in enumerate(nb.cells):
        if index in finished:
            nb.cells[index] = finished[index]
        elif cell.cell_type == "code" and cell.source.strip():
            cell.outputs = [error_output(LIMIT_ERROR, reason) if not failed
                            else error_output(NOT_GRADED[0], NOT_GRADED[1].format(limit=reason))]
            failed = True


class ContainedExecute(TrustedExecute):
    """nbgrader's ``Execute`` for this course: each notebook is graded by :class:`TrustedExecute` in a worker."""

    grader_memory_mb = Integer(
        help="Memory of one submission's grading process (models rebuilt and run, references, training); "
             "CONVCOURSE_GRADER_MEMORY_LIMIT_MB, else 2048.",
    ).tag(config=True)
    grader_cpu_seconds = Integer(
        help="CPU seconds of one submission's grading process; 0 means the notebook's time budget. "
             "CONVCOURSE_GRADER_CPU_SECONDS, else 0.",
    ).tag(config=True)

    # Read when the executor is made (as TrustedExecute's notebook_timeout), not when this module is imported.
    @default("grader_memory_mb")
    def _grader_memory_from_the_environment(self):
        return setting("CONVCOURSE_GRADER_MEMORY_LIMIT_MB", 2048)

    @default("grader_cpu_seconds")
    def _grader_cpu_from_the_environment(self):
        return setting("CONVCOURSE_GRADER_CPU_SECONDS", 0)

    def preprocess(self, nb, resources=None, km=None):
        info = (resources or {}).get("nbgrader", {})
        assignment = info.get("assignment", "")
        # Before the first worker: the fork server, and so every worker and launcher, inherits the zygotes' names
        # and the instructor's cells (read from the gradebook once per batch, not once per student).
        sandbox.ensure_zygotes(("numpy", "keras") if assignment.startswith(KERAS_ASSIGNMENTS) else ("numpy",))
        if {"db_url", "notebook"} <= info.keys():
            try:
                gradebook_cells(info["db_url"], info["notebook"], assignment)
            except Exception:  # noqa: BLE001, S110 (the worker reads them itself and reports what is wrong)
                pass
        worker = _take_spare(assignment) or Worker(assignment, self.config, self.grader_memory_mb)
        _SPARE["notebooks"] += 1
        expected = int(os.environ.get("CONVCOURSE_NOTEBOOKS_IN_PROCESS", 0) or 0)

        def boot_next():
            # Once this notebook's kernel answers, not before: two kernels starting at once would slow both.
            if not 0 < expected <= _SPARE["notebooks"] and _SPARE["worker"] is None:
                _SPARE["worker"] = Worker(assignment, self.config, self.grader_memory_mb)

        # The worker's kernels start within the budget too: each may take the kernel start-up timeout.
        wall = self.notebook_timeout + 2 * self.startup_timeout + self.interrupt_grace
        cpu = self.grader_cpu_seconds or self.notebook_timeout
        return worker.grade(nb, resources, self.notebook_timeout, wall, cpu, on_ready=boot_next), resources


_SPARE = {"worker": None, "notebooks": 0}


@atexit.register
def _stop_spare():
    spare, _SPARE["worker"] = _SPARE["worker"], None
    if spare is not None:
        spare.end()


def _take_spare(assignment):
    spare, _SPARE["worker"] = _SPARE["worker"], None
    if spare is None:
        return None
    if spare.assignment == assignment and spare.alive():
        return spare
    spare.end()
    return None


# ------------------------------------------------------------------------------------------------------------------
# The worker's side.

class _StreamingExecute(TrustedExecute):
    """:class:`TrustedExecute` that sends each finished cell to the parent as soon as it is done."""

    def __init__(self, *args, connection=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._connection = connection

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        self._connection.send(("ready",))
        return kc

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell.cell_type == "code":
            self._connection.send(("cell", cell_index, json.dumps(cell)))
        return cell

    # nbconvert calls the synchronous names, which nbclient binds to its own coroutines when the class is made.
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
    execute_cell = run_sync(async_execute_cell)


def _worker_main(connection, assignment, config):
    """One notebook, then exit: boot the kernels, wait for the notebook, grade it, send it back."""
    from convcourse.grader import execute

    os.environ["CONVCOURSE_NOTEBOOKS_IN_PROCESS"] = "1"
    try:
        _, os.environ["CONVCOURSE_RUN_ID"] = connection.recv()  # "boot": the parent has put it in its cgroups
        executor = _StreamingExecute(config=config, connection=connection)
        executor._assignment = assignment
        run_sync(execute.boot_kernels)(executor.kernel_name, executor.config, executor.kernel_runtime(),
                                      executor.extra_arguments, executor.log)
        kind, job = connection.recv()
        cpu = int(job["cpu"])
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        resource.setrlimit(resource.RLIMIT_CPU, (int(used) + cpu, int(used) + cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        nb = nbformat.reads(job["notebook"], as_version=4)
        nb, _ = executor.preprocess(nb, job["resources"])
        usage = resource.getrusage(resource.RUSAGE_SELF)
        connection.send(("done", nbformat.writes(nb), usage.ru_utime + usage.ru_stime - used))
    except execute.NotebookOverBudget:
        connection.send(("limit", "time"))
    except (EOFError, KeyboardInterrupt):
        pass
    except BaseException as error:  # noqa: BLE001 (the parent raises it, so nbgrader regrades the notebook alone)
        try:
            connection.send(("failed", f"{type(error).__name__}: {error}"[:4000]))
        except OSError:
            pass
    finally:
        try:
            run_sync(execute.shut_booted)()
        except Exception:  # noqa: BLE001, S110 (the parent destroys this worker's boxes anyway)
            pass
        os._exit(0)
