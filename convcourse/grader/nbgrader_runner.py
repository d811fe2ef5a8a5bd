"""nbgrader's commands as forks of one process that has imported nbgrader and the grading code once.

``python -m nbgrader`` imports nbgrader, nbconvert, SQLAlchemy, jsonschema and the grading code before it does
anything: about 1 s of CPU for every command, and a class graded by two workers, the instructor's flow or the
test suite runs many commands. The runner is one child of the calling process, started on first use, that has
imported them; each command is a fork of it, which runs nbgrader's application as ``python -m nbgrader`` would, in
the command's folder, with the command's arguments and environment, and exits the same way. Its output is relayed
to the caller as it comes. Nothing of a submission runs in the runner or in its forks: kernels run in the sandbox,
as before (:mod:`convcourse.grader.sandbox`).

The runner forks only while it runs no other thread, so no fork inherits a lock that a thread held, and it leaves
the objects of its imports out of garbage collections, so that its forks share them rather than copy them: a
trivial command costs 0.14 s of CPU from the runner, 1.0 s as ``python -m nbgrader`` (0.35 s without the freeze).
"""

import atexit
import codecs
import gc
import importlib
import itertools
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading

# What every command imports first (nbgrader's applications, and what nbgrader_config.py imports): importing them
# here, once, is the saving.
PRELOADED = (
    "nbgrader.apps.nbgraderapp",
    "nbgrader.converters.autograde",
    "nbconvert.preprocessors.sanitize",
    "convcourse.grader.contained",
    "convcourse.grader.execute",
    "convcourse.grader.feedback",
    "convcourse.grader.metadata_schema",
    "convcourse.grader.precompute",
    "convcourse.grader.sandbox",
    "convcourse.grader.service.settings",
)


# ---------------------------------------------------------------------------------------------------------------
# The caller's side.


class RunnerGone(RuntimeError):
    """The runner ended while a command ran: the command's outcome is unknown."""


class _Runner:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "convcourse.grader.nbgrader_runner"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._write_lock = threading.Lock()
        self._queues = {}
        self._numbers = itertools.count()
        self.alive = True
        threading.Thread(target=self._read_replies, name="nbgrader-runner-replies", daemon=True).start()

    def _read_replies(self):
        for line in self.process.stdout:
            message = json.loads(line)
            reply_queue = self._queues.get(message["id"])
            if reply_queue is not None:
                reply_queue.put(message)
        self.alive = False
        for reply_queue in list(self._queues.values()):
            reply_queue.put(None)

    def run(self, arguments, cwd, env, on_line):
        number = next(self._numbers)
        replies = self._queues[number] = queue.Queue()
        request = {"id": number, "arguments": list(arguments), "cwd": str(cwd), "env": dict(env)}
        try:
            with self._write_lock:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
            pending, output = "", []
            while True:
                message = replies.get()
                if message is None:
                    raise RunnerGone("the nbgrader runner ended during the command")
                if "text" in message:
                    pending += message["text"]
                    *lines, pending = pending.split("\n")
                    for line in lines:
                        output.append(line + "\n")
                        on_line(line + "\n")
                elif "returncode" in message:
                    if pending:
                        output.append(pending)
                        on_line(pending)
                    return message["returncode"], "".join(output)
        except OSError as error:  # BrokenPipeError among them
            self.alive = False
            raise RunnerGone(f"the nbgrader runner cannot be reached ({error})") from None
        finally:
            del self._queues[number]

    def close(self):
        try:
            self.process.stdin.close()
            self.process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


_RUNNER = []
_RUNNER_LOCK = threading.Lock()


def _runner():
    with _RUNNER_LOCK:
        current = _RUNNER[0] if _RUNNER else None
        # A fork of this process inherits the runner but not the thread that reads its replies: there poll() finds
        # the runner gone (it is not the fork's child), and the fork starts its own.
        if current is None or not current.alive or current.process.poll() is not None:
            if not _RUNNER:
                atexit.register(stop)
            _RUNNER[:] = [_Runner()]
        return _RUNNER[0]


def stop():
    """End this process's runner (its running commands finish first); the next command starts a new one."""
    with _RUNNER_LOCK:
        if _RUNNER:
            _RUNNER.pop().close()


def run(arguments, cwd, env, on_line=lambda line: None):
    """``python -m nbgrader <arguments>`` in ``cwd`` with ``env``, as a fork of the runner: ``(returncode,
    output)``, stdout and stderr together; ``on_line(line)`` is called for each line as it comes."""
    return _runner().run(arguments, cwd, env, on_line)


# ---------------------------------------------------------------------------------------------------------------
# The runner's side.


def _send(message):
    data = json.dumps(message).encode() + b"\n"
    try:
        while data:
            data = data[os.write(1, data):]
    except BrokenPipeError:  # the caller is gone: its commands finish unheard
        pass


def _run_command(request, read_end, write_end, inherited):
    """In the fork: become ``python -m nbgrader <arguments>`` and exit as it would (SystemExit unwinds to the
    interpreter, which joins threads and runs exit handlers)."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for descriptor in (read_end, *inherited):  # the runner's: its wake-up pipe, other commands' output
        os.close(descriptor)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    os.chdir(request["cwd"])
    sys.path[0] = request["cwd"]  # as ``python -m`` run there would have it
    os.environ.clear()
    os.environ.update(request["env"])
    import nbgrader
    from nbgrader.apps.nbgraderapp import main as nbgrader_main

    sys.argv = [os.path.join(os.path.dirname(nbgrader.__file__), "__main__.py"), *request["arguments"]]
    nbgrader_main()
    raise SystemExit(0)


def serve():
    """Read one JSON request per line on stdin; fork a command for each; relay each command's output and exit
    status on stdout. Ends when stdin closes and every command has finished."""
    for name in PRELOADED:
        importlib.import_module(name)
    from convcourse.grader.gradebook_engine import share_engines  # the runner's side only: it imports nbgrader

    share_engines()
    # What the imports made is shared by every fork as long as no fork writes to it: the garbage collector of a
    # fork would (it visits every object), so those objects are left out of its collections.
    gc.freeze()
    # A child's exit wakes the loop (its output may have ended before it exits, or after).
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)
    streams = {}  # output descriptor -> [id, incremental decoder]
    children, exited, ended = {}, {}, set()  # pid -> id; id -> exit code; ids whose output ended
    requests_open, pending = True, b""
    while requests_open or children or streams:
        watched = [wake_read, *streams] + ([0] if requests_open else [])
        for descriptor in select.select(watched, [], [])[0]:
            if descriptor == wake_read:
                os.read(wake_read, 4096)
            elif descriptor == 0:
                data = os.read(0, 65536)
                requests_open = bool(data)
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    request = json.loads(line)
                    if threading.active_count() != 1:
                        raise RuntimeError("the nbgrader runner must fork with no other thread running")
                    read_end, write_end = os.pipe()
                    pid = os.fork()
                    if pid == 0:
                        _run_command(request, read_end, write_end, [wake_read, wake_write, *streams])
                    os.close(write_end)
                    streams[read_end] = [request["id"], codecs.getincrementaldecoder("utf-8")(errors="replace")]
                    children[pid] = request["id"]
            else:
                number, decoder = streams[descriptor]
                data = os.read(descriptor, 65536)
                text = decoder.decode(data, final=not data)
                if text:
                    _send({"id": number, "text": text})
                if not data:
                    os.close(descriptor)
                    del streams[descriptor]
                    ended.add(number)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            exited[children.pop(pid)] = os.waitstatus_to_exitcode(status)
        for number in [number for number in exited if number in ended]:
            ended.discard(number)
            _send({"id": number, "returncode": exited.pop(number)})


if __name__ == "__main__":
    serve()
