"""Grading kernels in a box: bubblewrap, a private size-capped scratch, cgroup limits for all processes together.

nbgrader starts each submission's kernel with :class:`SandboxKernelManager` (``nbgrader_config.py``). For every
kernel it makes a *box*:

* a fresh folder ``mkdtemp`` under ``CONVCOURSE_SANDBOX_DIR`` (never reused), holding ``requests/`` (written by the
  grader, read-only inside) and ``scratch/``, a tmpfs of ``CONVCOURSE_SCRATCH_MB`` owned by the sandbox user: the
  kernel's home, its ``ipc`` sockets and its replies;
* a memory cgroup (``CONVCOURSE_MEMORY_LIMIT_MB`` for all the kernel's processes together) and a pids cgroup
  (``CONVCOURSE_PROCESS_LIMIT``);

and the launcher (:mod:`convcourse.grader.launcher`) joins the cgroups, drops to the
sandbox user (``CONVCOURSE_SANDBOX_UID``) and runs the kernel's runtime under ``bwrap``: a read-only view of that
runtime and of ``/usr`` only, no network, its own PID, IPC and UTS namespaces, size-capped private ``/tmp`` and
``/dev/shm``, ``--die-with-parent``. The course's checkout, its ``.git``, the main environment, solutions,
gradebook and other students' boxes are simply not there. Cleanup kills the processes of one box's cgroups,
nothing else. Where :func:`ensure_zygotes` has started a zygote for the runtime (a grading batch does), bubblewrap
builds the same box around a placeholder and the kernel is forked into it with its imports done
(:mod:`convcourse.grader.zygote`).

Isolation never degrades silently: without root, ``bwrap`` or writable cgroups, :func:`isolation_problems` says
why and kernels refuse to start, unless the instructor sets ``CONVCOURSE_UNSAFE_NO_SANDBOX=1`` (documented in
the README: then kernels run as the grader's user with resource limits only).
"""

import asyncio
import atexit
import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type, Unicode

from convcourse.grader.launcher import UNSAFE_VARIABLE, box_environment, setting, unsafe_mode

KERNEL_NAME = "convcourse-sandbox"
CGROUP_ROOT = Path("/sys/fs/cgroup")
def cgroup_folders():
    """The memory and pids hierarchies under which boxes get their cgroups (cgroup v1, as on this machine)."""
    return {"memory": CGROUP_ROOT / "memory" / "convcourse", "pids": CGROUP_ROOT / "pids" / "convcourse"}


def isolation_problems():
    """Why kernels cannot be isolated here (an empty list when they can)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("grading does not run as root (it needs root to mount a private scratch and set cgroups)")
    if shutil.which("bwrap") is None:
        problems.append("bubblewrap is not installed (Debian: apt-get install bubblewrap)")
    for controller in ("memory", "pids"):
        if not os.access(CGROUP_ROOT / controller, os.W_OK):
            problems.append(f"the {controller} cgroup controller is not writable at {CGROUP_ROOT / controller}")
    return problems


def sandbox_root():
    root = Path(os.environ.get("CONVCOURSE_SANDBOX_DIR", "/tmp/convcourse-sandbox"))
    root.mkdir(mode=0o711, parents=True, exist_ok=True)
    os.chmod(root, 0o711)
    return root


def run_id():
    """This grading run's id: boxes are named after it, so that a run's cleanup touches only its own boxes."""
    return os.environ.get("CONVCOURSE_RUN_ID") or f"run{os.getpid()}"


class Box:
    """One kernel's private folders and cgroups (see the module docstring)."""

    def __init__(self):
        self.isolated = not unsafe_mode()
        self.uid = setting("CONVCOURSE_SANDBOX_UID", 60100)
        self.root = Path(tempfile.mkdtemp(prefix=f"{run_id()}-", dir=sandbox_root()))
        os.chmod(self.root, 0o711)  # the sandbox user must traverse it to reach its scratch (names are random)
        self.requests = self.root / "requests"
        self.scratch = self.root / "scratch"
        self.requests.mkdir(mode=0o755)
        self.scratch.mkdir(mode=0o700)
        self.cgroups = {name: folder / self.root.name for name, folder in cgroup_folders().items()}
        self._mounted = False
        self.refresh()

    def refresh(self):
        """A fresh, empty scratch and fresh cgroups (at the start and at each restart of the kernel)."""
        self.stop_processes()
        if not self.isolated:
            for entry in self.scratch.iterdir():
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
            return
        if self._mounted:
            subprocess.run(["umount", "-l", str(self.scratch)], check=False)
        size = setting("CONVCOURSE_SCRATCH_MB", 512)
        subprocess.run(["mount", "-t", "tmpfs", "-o",
                        f"size={size}m,nr_inodes=10000,mode=0700,uid={self.uid},gid={self.uid},nosuid,nodev",
                        "tmpfs", str(self.scratch)], check=True)
        self._mounted = True
        for name, folder in self.cgroups.items():
            folder.mkdir(parents=True, exist_ok=True)
        memory = setting("CONVCOURSE_MEMORY_LIMIT_MB", 3072) * 1024 * 1024
        (self.cgroups["memory"] / "memory.limit_in_bytes").write_text(str(memory))
        (self.cgroups["pids"] / "pids.max").write_text(str(setting("CONVCOURSE_PROCESS_LIMIT", 256)))

    def launcher_environment(self, runtime_python):
        return {
            "CONVCOURSE_BOX_SCRATCH": str(self.scratch), "CONVCOURSE_BOX_REQUESTS": str(self.requests),
            "CONVCOURSE_BOX_CGROUPS": os.pathsep.join(str(f / "cgroup.procs") for f in self.cgroups.values())
            if self.isolated else "",
            "CONVCOURSE_RUNTIME_PYTHON": str(runtime_python),
        }

    def stop_processes(self):
        """Kill every process of this box's cgroups (and only those)."""
        if not self.isolated:
            return
        for _ in range(50):
            pids = set()
            for folder in self.cgroups.values():
                try:
                    pids.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
                except FileNotFoundError:
                    continue
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def stop_strays(self):
        """Kill the box's processes other than bubblewrap and the kernel: whatever a cell forked and left running
        (a fork bomb's sleepers would otherwise hold the process limit and starve the next cells)."""
        if not self.isolated:
            return 0
        try:
            pids = [int(p) for p in (self.cgroups["pids"] / "cgroup.procs").read_text().split()]
        except FileNotFoundError:
            return 0
        parents, names, started = {}, {}, {}
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                started[pid] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
            except (OSError, IndexError, ValueError):
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            names[pid], parents[pid] = fields.get("Name", "").strip(), int(fields.get("PPid", "0"))
        keep = {pid for pid, name in names.items() if name == "bwrap"}
        try:  # a kernel from the zygote is not bubblewrap's child: the launcher wrote its pid beside the box
            keep.add(int((self.root / "kernel-pid").read_text()))
        except (OSError, ValueError):
            pass
        # bubblewrap's first child is the kernel (or, for a kernel from the zygote, the placeholder); orphans a cell
        # left are bubblewrap's children too, but later.
        children = [pid for pid, parent in parents.items() if parent in keep and pid not in keep]
        keep |= {min(children, key=started.get)} if children else set()
        stray = [pid for pid in names if pid not in keep]
        for pid in stray:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(stray)

    def destroy(self):
        self.stop_processes()
        if self.isolated:
            for folder in self.cgroups.values():
                try:
                    folder.rmdir()
                except OSError:
                    pass
            if self._mounted:
                subprocess.run(["umount", "-l", str(self.scratch)], check=False)
                self._mounted = False
        shutil.rmtree(self.root, ignore_errors=True)


def destroy_boxes_of_run(run):
    """After a run: remove whatever boxes of ``run`` a crashed grader left (processes, mounts, cgroups, folders)."""
    removed = 0
    for root in sandbox_root().glob(f"{run}-*"):
        box = Box.__new__(Box)
        box.isolated = True
        box.root, box.scratch, box.requests = root, root / "scratch", root / "requests"
        box.cgroups = {name: folder / root.name for name, folder in cgroup_folders().items()}
        box._mounted = os.path.ismount(box.scratch)
        box.destroy()
        removed += 1
    return removed


def _gone(pid):
    """Has process ``pid`` (from a leftover's name) ended?"""
    return not os.path.exists(f"/proc/{pid}")


def destroy_orphaned_boxes():
    """Remove the boxes whose grading worker (``w<pid>`` in their name, :mod:`convcourse.grader.contained`) no
    longer exists: a worker machine killed in the middle of a notebook leaves them, with nobody left to clean up.
    A box whose worker is alive, or whose name has no worker, is left alone. The empty cgroups of such workers go
    too. Returns how many boxes were removed."""
    removed = 0
    for root in sandbox_root().iterdir():
        match = re.fullmatch(r"(?P<run>.+-w(?P<pid>\d+))-[^-]+", root.name)
        if match and root.exists() and _gone(match.group("pid")):
            removed += destroy_boxes_of_run(match.group("run"))
    _remove_orphaned_worker_cgroups()
    return removed


def _remove_orphaned_worker_cgroups():
    """The cgroups of grading workers (``<run>-grader<pid>``, :mod:`convcourse.grader.contained`) that no longer
    exist: a worker killed with its parent never removes its own. A cgroup with a process in it stays."""
    if unsafe_mode() or isolation_problems():
        return
    for parent in cgroup_folders().values():
        for folder in parent.glob("*-grader*"):
            match = re.fullmatch(r".+-grader(?P<pid>\d+)", folder.name)
            if match and _gone(match.group("pid")):
                try:
                    folder.rmdir()
                except OSError:  # still holds a process (a straggler of that worker): the next sweep takes it
                    pass


def _others_can_reach(folder):
    """Can a user other than the owner enter ``folder`` (every folder above it searchable, itself readable)?"""
    folder = Path(os.path.realpath(folder))
    return (all(os.stat(parent).st_mode & stat.S_IXOTH for parent in folder.parents)
            and os.stat(folder).st_mode & stat.S_IROTH and os.stat(folder).st_mode & stat.S_IXOTH)


def runtime_python(kind):
    """The interpreter of the kernel runtime ``kind`` (``numpy`` or ``keras``), built first if missing or stale."""
    if kind not in _RUNTIMES:
        from convcourse.grader import runtime

        _RUNTIMES[kind] = runtime.ensure_runtime(kind)
    return _RUNTIMES[kind]


_RUNTIMES = {}  # checked once per grading process

# What a runtime's zygote imports once for all its kernels: what every kernel imports at its start or in its first
# cells (ipykernel, NumPy, the course's student side; Keras and TensorFlow in the Keras runtime).
ZYGOTE_PRELOADS = {
    "numpy": ("numpy", "ipykernel.kernelapp", "ipykernel.ipkernel", "convcourse.student.notebook",
              "convcourse.student.checks", "convcourse.student.callee"),
}
ZYGOTE_PRELOADS["keras"] = ZYGOTE_PRELOADS["numpy"] + ("keras", "convcourse.student.models")
_ZYGOTES = {}


def zygote_variable(kind):
    return f"CONVCOURSE_ZYGOTE_{kind.upper()}"


def ensure_zygotes(kinds):
    """Start a kernel zygote (:mod:`convcourse.grader.zygote`) for each runtime in ``kinds`` that has none yet in this
    process, and name its socket in the environment that kernel launchers inherit. Nothing without isolation: then
    kernels start the plain way. The zygotes end with this process."""
    if unsafe_mode() or isolation_problems():
        return
    from convcourse.grader import zygote

    if not _ZYGOTES:
        _remove_folders_of_gone_zygotes()
    for kind in kinds:
        if kind in _ZYGOTES and _ZYGOTES[kind][0].poll() is None:
            continue
        # A zygote that died is started again at the same address, which the fork server's workers already know.
        folder = _ZYGOTES[kind][1] if kind in _ZYGOTES else Path(
            tempfile.mkdtemp(prefix=f"convcourse-zygote-{os.getpid()}-"))
        for stale in ("socket", "socket.new"):  # the folder is 0700: only root enters it
            (folder / stale).unlink(missing_ok=True)
        venv = Path(runtime_python(kind)).parent.parent
        environment = dict(box_environment(str(folder), venv), MPLBACKEND="module://matplotlib_inline.backend_inline")
        process = subprocess.Popen(
            [str(runtime_python(kind)), zygote.__file__, str(folder / "socket"), *ZYGOTE_PRELOADS[kind]],
            env=environment, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(500):  # the socket appears once it listens, before the imports: launchers wait in its backlog
            if (folder / "socket").exists() or process.poll() is not None:
                break
            time.sleep(0.01)
        _ZYGOTES[kind] = (process, folder)
        os.environ[zygote_variable(kind)] = str(folder / "socket")


def _remove_folders_of_gone_zygotes():
    """The folders (a socket) of zygotes whose grading process is gone without its exit handlers (killed)."""
    for folder in Path(tempfile.gettempdir()).glob("convcourse-zygote-*-*"):
        owner = folder.name.split("-")[2]
        if owner.isdigit() and _gone(owner):
            shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def stop_zygotes():
    for kind, (process, folder) in list(_ZYGOTES.items()):
        process.kill()
        process.wait()
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(zygote_variable(kind), None)
        del _ZYGOTES[kind]


class ReadyKernelClient(AsyncKernelClient):
    """A client that knows a kernel is ready as soon as it has answered ``kernel_info`` on the shell channel and
    published the idle status of that request on IOPub (so both channels are connected). jupyter_client's own wait
    then listens for IOPub to fall silent for 0.2 s, which every graded notebook would spend idle."""

    async def wait_for_ready(self, timeout=None):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (float("inf") if timeout is None else timeout)
        while loop.time() < deadline:
            msg_id = self.kernel_info()
            reply = await self._answer(self.shell_channel, msg_id, "kernel_info_reply", min(deadline, loop.time() + 1))
            if reply is not None and await self._answer(self.iopub_channel, msg_id, "status", loop.time() + 0.5):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
        raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    @staticmethod
    async def _answer(channel, msg_id, msg_type, until):
        """The message of ``msg_type`` on ``channel`` that answers ``msg_id`` (for a status: its idle), or ``None``
        once ``until`` (event-loop time) has passed; other messages are dropped."""
        loop = asyncio.get_running_loop()
        while (remaining := until - loop.time()) > 0:
            try:
                message = await channel.get_msg(timeout=remaining)
            except queue.Empty:
                return None
            if message.get("parent_header", {}).get("msg_id") != msg_id or message.get("msg_type") != msg_type:
                continue
            if msg_type != "status" or message.get("content", {}).get("execution_state") == "idle":
                return message
        return None


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels live in a :class:`Box` and talk over ``ipc`` sockets in its scratch."""

    runtime = Unicode("numpy", help="Kernel runtime: 'numpy' (no TensorFlow) or 'keras'.").tag(config=True)
    client_class = DottedObjectName("convcourse.grader.sandbox.ReadyKernelClient")
    # What client() makes: AsyncKernelManager fixes it to AsyncKernelClient by its own default, which a subclass's
    # client_class does not change (a default fires no observer), so the ready client has to be named here too.
    client_factory = Type(klass=ReadyKernelClient)

    box = None

    @property
    def kernel_spec(self):
        # Always the launcher's spec, whatever name is asked for: nothing found on the Jupyter path decides what
        # starts, and no worker pays for the search (jupyter_client imports IPython to list its folders: about
        # 0.1 s of CPU per grading worker).
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(name=KERNEL_NAME, resource_dir="", **kernel_spec())
        return self._kernel_spec

    async def _async_pre_start_kernel(self, **kw):
        problems = [] if unsafe_mode() else isolation_problems()
        if problems:
            raise RuntimeError(
                "Refusing to run student code without isolation: " + "; ".join(problems)
                + f". Fix that, or set {UNSAFE_VARIABLE}=1 to grade without the sandbox (see the README)."
            )
        runtime = runtime_python(self.runtime)
        if not unsafe_mode() and not _others_can_reach(Path(runtime).parent.parent):
            raise RuntimeError(
                f"Refusing to run student code: the kernel runtime {Path(runtime).parent.parent} is not readable "
                "by other users (is the checkout in a home folder of mode 0750 or 0700?). The sandbox user must "
                "read it: make every folder above it world-searchable (chmod o+x), or move the checkout."
            )
        if self.box is None:
            self.box = Box()
        else:
            self.box.refresh()
        self.transport = "ipc"
        self.ip = str(self.box.scratch / "kernel")
        env = dict(kw.pop("env", None) or os.environ)
        env.update(self.box.launcher_environment(runtime))
        env.pop("CONVCOURSE_ZYGOTE", None)
        if os.environ.get(zygote_variable(self.runtime)):
            env["CONVCOURSE_ZYGOTE"] = os.environ[zygote_variable(self.runtime)]
        kw["env"] = env
        return await super()._async_pre_start_kernel(**kw)

    async def _async_wait(self, pollinterval=0.1):
        # A killed kernel is gone within milliseconds: look every 10 ms, not jupyter_client's 100, so that a
        # worker does not sit idle for most of a tenth of a second after every notebook.
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if self.box is not None:
            self.box.stop_processes()
            if not restart:
                self.box.destroy()
                self.box = None

    def stop_strays(self):
        return self.box.stop_strays() if self.box is not None else 0

    def call_folders(self):
        from convcourse.grader.proxy import CallFolders

        return CallFolders(self.box.requests, self.box.scratch)


def kernel_spec():
    """The kernel spec (as in a ``kernel.json``) of every sandboxed kernel: it starts through the launcher."""
    return {
        "argv": [sys.executable, "-m", "convcourse.grader.launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (convcourse grading sandbox)",
        "language": "python",
        # Signals do not cross into bwrap's PID namespace; ipykernel turns an interrupt message into SIGINT.
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
