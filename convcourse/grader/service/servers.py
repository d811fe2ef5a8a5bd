"""A private Redis and PostgreSQL on this machine, on loopback, in folders of their own: for the tests, the
benchmark and a trial run (``python -m convcourse.grader.service servers``). A course's real ones are Debian's
``redis-server`` and ``postgresql`` services, reached by ``CONVCOURSE_SERVICE``.

Redis keeps an append-only file (``appendonly yes``), so queued submissions survive its restart. PostgreSQL
refuses to run as root: its cluster belongs to the ``postgres`` user Debian's package creates.
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def die_with_parent():
    """For ``preexec_fn``: the child gets SIGKILL when the process that started it dies (a test or benchmark
    interrupted must not leave workers behind)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing answered on 127.0.0.1:{port} within {seconds} s")


def missing():
    """What is not installed, in words (empty when both servers can start)."""
    problems = []
    if not shutil.which("redis-server"):
        problems.append("redis-server (Debian: apt-get install redis-server)")
    if not _postgres_bin():
        problems.append("PostgreSQL (Debian: apt-get install postgresql)")
    return problems


def _postgres_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Redis:
    def __init__(self, folder=None, port=None):
        self.folder = Path(folder or tempfile.mkdtemp(prefix="convcourse-redis-"))
        self.port = port or free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "yes", "--protected-mode", "yes", "--logfile", "redis.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        _wait_for_port(self.port)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)

    def restart(self):
        self.stop()
        return self.start()

    def remove(self):
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgreSQL:
    """A cluster in a fresh folder, trusting connections from loopback only, with a database ``gradebook``. Its
    folder must be reachable by ``postgres`` when run as root: a new one in the system's temporary folder is."""

    def __init__(self, folder=None, port=None):
        self.folder = Path(folder or tempfile.mkdtemp(prefix="convcourse-postgres-"))
        self.port = port or free_port()
        self.bin = _postgres_bin()

    @property
    def url(self):
        return f"postgresql://grader@127.0.0.1:{self.port}/gradebook"

    def _run(self, *command):
        owner = self.folder.stat().st_uid
        prefix = [] if os.getuid() == owner else ["runuser", "-u", pwd.getpwuid(owner).pw_name, "--"]
        # Into a file, not a pipe: the server pg_ctl starts would keep a pipe open after pg_ctl is gone.
        with tempfile.TemporaryFile("w+") as output:
            completed = subprocess.run(prefix + [str(self.bin / command[0]), *command[1:]], stdout=output,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, timeout=120)
            if completed.returncode:
                output.seek(0)
                raise RuntimeError(f"{command[0]} failed: {output.read()}")

    def start(self):
        data = self.folder / "data"
        if not data.exists():
            if os.getuid() == 0:
                os.chown(self.folder, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
            self._run("initdb", "-D", str(data), "-U", "grader", "-A", "trust", "--no-sync", "-E", "UTF8")
            created = True
        else:
            created = False
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=on"
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(self.folder / "postgres.log"), "-w", "start")
        if created:
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "grader", "gradebook")
        return self

    def stop(self):
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def restart(self):
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-l", str(self.folder / "postgres.log"),
                  "-w", "restart")

    def remove(self):
        if (self.folder / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_both():
    """Start a Redis and a PostgreSQL, each in a new temporary folder (:meth:`remove` stops and deletes them)."""
    redis = Redis().start()
    try:
        return redis, PostgreSQL().start()
    except BaseException:
        redis.remove()
        raise
