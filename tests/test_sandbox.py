"""The grading sandbox on its own: a kernel in its box sees only its runtime, has no network, is limited as a
whole, and its cleanup touches nothing else. Each test starts a real kernel through the real kernel manager."""

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from convcourse.grader import sandbox
from convcourse.grader.sandbox import Box, SandboxKernelManager, isolation_problems

ISOLATED = not isolation_problems()
needs_isolation = pytest.mark.skipif(not ISOLATED, reason="needs root, bubblewrap and cgroups")


@contextlib.asynccontextmanager
async def ready_kernel(runtime="numpy", timeout=60):
    """A sandboxed kernel that has answered, and its client; both stopped at the end."""
    km = SandboxKernelManager(kernel_name=sandbox.KERNEL_NAME, runtime=runtime)
    await km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=timeout)
        yield km, kc
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)


def run_in_kernel(code, runtime="numpy", timeout=60):
    """Start a sandboxed kernel, run ``code``, return what it printed (stdout) and the box it had."""

    async def main():
        printed = []

        def keep(message):
            if message["msg_type"] == "stream":
                printed.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                printed.append(f"{message['content']['ename']}: {message['content']['evalue']}")

        async with ready_kernel(runtime, timeout) as (km, kc):
            box_root = km.box.root
            await kc.execute_interactive(code, timeout=timeout, output_hook=keep)
        return "".join(printed), box_root

    return asyncio.run(main())


def test_kernel_spec_runs_the_launcher_and_interrupts_by_message(tmp_path, monkeypatch):
    # A spec of the same name on the Jupyter path is not what starts: the manager knows its own.
    planted = tmp_path / "kernels" / sandbox.KERNEL_NAME
    planted.mkdir(parents=True)
    (planted / "kernel.json").write_text(json.dumps({"argv": ["python", "-c", "print('planted')"],
                                                     "display_name": "planted", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    for name in (sandbox.KERNEL_NAME, "python3"):
        spec = SandboxKernelManager(kernel_name=name).kernel_spec
        assert spec.argv[:3] == [sys.executable, "-m", "convcourse.grader.launcher"]
        assert spec.interrupt_mode == "message"


def test_the_manager_makes_clients_that_know_a_kernel_is_ready_without_waiting_for_silence():
    # jupyter_client's own client waits for IOPub to fall silent for 0.2 s: about a fifth of 01's notebook.
    assert type(SandboxKernelManager(kernel_name=sandbox.KERNEL_NAME).client()) is sandbox.ReadyKernelClient


def test_launcher_usage_message():
    completed = subprocess.run([sys.executable, "-m", "convcourse.grader.launcher"], capture_output=True, text=True)
    assert completed.returncode != 0 and "usage: python -m convcourse.grader.launcher -f" in completed.stderr


def test_grading_refuses_without_isolation(monkeypatch):
    monkeypatch.setattr(sandbox, "isolation_problems", lambda: ["bubblewrap is not installed"])
    monkeypatch.delenv(sandbox.UNSAFE_VARIABLE, raising=False)
    with pytest.raises(RuntimeError, match="Refusing to run student code without isolation: bubblewrap"):
        run_in_kernel("1")


@pytest.fixture(params=["bubblewrap", "zygote"])
def kernel_start(request):
    """Each kernel started by bubblewrap itself, or forked by the runtime's zygote into a box bubblewrap built."""
    sandbox.stop_zygotes()
    if request.param == "zygote":
        sandbox.ensure_zygotes(["numpy"])
    yield request.param
    sandbox.stop_zygotes()


@needs_isolation
def test_a_kernel_sees_its_runtime_only_and_no_network(kernel_start):
    code = """
import os, socket, sys
print("uid", os.getuid())
print("root", sorted(os.listdir("/")))
print("python", sys.executable)
for module in ("tensorflow", "keras", "scipy", "torch", "jax", "convcourse.grader", "nbgrader"):
    try:
        __import__(module)
        print("imported", module)
    except ImportError:
        pass
with socket.socket() as probe:
    try:
        probe.connect(("127.0.0.1", 22))
        print("network yes")
    except OSError as error:
        print("network no")
print("processes", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
"""
    printed, _ = run_in_kernel(code)
    assert "uid 60100" in printed
    # The system's /usr (and its links), a private /proc, /dev and /tmp, and the folder holding the runtime.
    runtime_top = sandbox.runtime_python("numpy").parts[1]
    expected = sorted({"bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr", runtime_top})
    assert f"root {expected}" in printed, printed
    assert "imported" not in printed, printed
    assert "network no" in printed
    # bwrap's reaper and the kernel (from the zygote: bwrap's reaper, the placeholder and the kernel): no other
    # process of the machine is visible, the zygote's neither.
    assert f"processes {[1, 2] if kernel_start == 'bubblewrap' else [1, 2, 3]}" in printed, printed


@needs_isolation
def test_only_the_runtime_is_mounted_from_the_checkout():
    checkout = sandbox.runtime_python("numpy").parent.parent.parent
    printed, _ = run_in_kernel(f"import os; print(sorted(os.listdir({str(checkout)!r})))")
    assert printed.strip() == "['.venv-kernel']", printed


@needs_isolation
def test_memory_is_limited_for_all_processes_together(monkeypatch, kernel_start):
    monkeypatch.setenv("CONVCOURSE_MEMORY_LIMIT_MB", "600")
    code = """
import os, signal, time
children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        hoard = b"x" * (300 * 2**20)
        time.sleep(60)
        os._exit(0)
    children.append(pid)
killed = 0
deadline = time.monotonic() + 30
while time.monotonic() < deadline and killed == 0:
    for pid in list(children):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            killed += 1
            children.remove(pid)
    time.sleep(0.2)
print("killed", killed)
"""
    printed, _ = run_in_kernel(code)
    assert "killed" in printed and "killed 0" not in printed, printed


@needs_isolation
def test_private_tmp_is_capped(monkeypatch, kernel_start):
    monkeypatch.setenv("CONVCOURSE_TMP_MB", "16")
    code = """
written = 0
try:
    with open("/tmp/filler", "wb") as handle:
        for _ in range(64):
            handle.write(b"0" * 2**20)
            handle.flush()
            written += 1
except OSError as error:
    print("stopped", error.errno)
print("written", written)
"""
    printed, _ = run_in_kernel(code)
    assert "stopped 28" in printed and int(printed.split("written")[1]) <= 16, printed


@needs_isolation
def test_shutdown_removes_the_box_and_its_processes(kernel_start):
    printed, root = run_in_kernel("import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n")
    assert not root.exists()
    for name in ("memory", "pids"):
        assert not (sandbox.CGROUP_ROOT / name / "convcourse" / root.name).exists()


@needs_isolation
def test_cleanup_of_a_run_leaves_other_runs_alone(monkeypatch):
    monkeypatch.setenv("CONVCOURSE_RUN_ID", "run-mine")
    mine = Box()
    monkeypatch.setenv("CONVCOURSE_RUN_ID", "run-other")
    other = Box()
    try:
        assert sandbox.destroy_boxes_of_run("run-mine") == 1
        assert not mine.root.exists() and other.root.exists() and os.path.ismount(other.scratch)
    finally:
        other.destroy()


@needs_isolation
def test_boxes_whose_worker_is_gone_are_removed_and_no_other(monkeypatch):
    gone = subprocess.Popen(["true"])
    gone.wait()
    boxes = {}
    for name, run in (("orphan", f"run-orphans-w{gone.pid}"), ("alive", f"run-orphans-w{os.getpid()}"),
                      ("no worker", "run-orphans")):
        monkeypatch.setenv("CONVCOURSE_RUN_ID", run)
        boxes[name] = Box()
    try:
        assert sandbox.destroy_orphaned_boxes() >= 1
        assert not boxes["orphan"].root.exists()
        assert all(boxes[name].root.exists() and os.path.ismount(boxes[name].scratch)
                   for name in ("alive", "no worker"))
    finally:
        for box in boxes.values():
            box.destroy()


@needs_isolation
def test_cgroups_of_grading_workers_that_are_gone_are_removed_and_no_other():
    gone = subprocess.Popen(["true"])
    gone.wait()
    made = {}
    for name, pid in (("gone", gone.pid), ("alive", os.getpid())):
        made[name] = [parent / f"run-orphans-grader{pid}" for parent in sandbox.cgroup_folders().values()]
        for folder in made[name]:
            folder.mkdir(parents=True, exist_ok=True)
    try:
        sandbox.destroy_orphaned_boxes()
        assert not any(folder.exists() for folder in made["gone"])
        assert all(folder.exists() for folder in made["alive"])
    finally:
        for folder in made["gone"] + made["alive"]:
            if folder.exists():
                folder.rmdir()


@needs_isolation
def test_grading_refuses_a_runtime_other_users_cannot_read(tmp_path, monkeypatch):
    """A checkout in a 0750 home folder: the sandbox user could not read the runtime, so nothing runs at all."""
    home = tmp_path / "home"
    (home / "venv" / "bin").mkdir(parents=True)
    home.chmod(0o750)
    monkeypatch.setattr(sandbox, "runtime_python", lambda kind: home / "venv" / "bin" / "python")
    with pytest.raises(RuntimeError, match="is not readable by other users"):
        run_in_kernel("1")


@needs_isolation
def test_processes_a_cell_leaves_running_are_ended_the_kernel_stays(kernel_start):
    async def main():
        async with ready_kernel() as (km, kc):
            code = ("import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        time.sleep(600)\n"
                    "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(600)\n    os._exit(0)\n"
                    "time.sleep(1)")
            await kc.execute_interactive(code, timeout=60, output_hook=lambda message: None)
            ended = km.box.stop_strays()
            printed = []
            await kc.execute_interactive("print('still here')", timeout=60,
                                         output_hook=lambda m: printed.append(m["content"].get("text", "")))
            return ended, "".join(printed)

    ended, printed = asyncio.run(main())
    assert ended >= 4 and "still here" in printed, (ended, printed)


PRIVILEGES = """
import ctypes, os
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
print({key: status[key].strip() for key in ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                                             "NoNewPrivs")})
libc = ctypes.CDLL(None, use_errno=True)
print("new user namespace", libc.unshare(0x10000000) == 0)
targets = []
for fd in os.listdir("/proc/self/fd"):
    try:
        targets.append(os.readlink(f"/proc/self/fd/{fd}"))
    except FileNotFoundError:  # the listing's own descriptor
        pass
print("descriptors", sorted(t for t in targets if not t.startswith(("socket:", "pipe:", "anon_inode:"))))
"""


@needs_isolation
@pytest.mark.parametrize("runtime", ["numpy", "keras"])
def test_a_kernel_from_the_zygote_has_no_privilege_and_inherits_nothing(runtime):
    """The zygote is root and imported the runtime: its kernel is the sandbox user with no capability at all, can
    make no user namespace (bubblewrap's ``--disable-userns`` holds), and holds no file the zygote had open."""
    sandbox.stop_zygotes()
    sandbox.ensure_zygotes([runtime])
    try:
        printed, root = run_in_kernel(PRIVILEGES + PRELOADS, runtime)
    finally:
        sandbox.stop_zygotes()
    nothing = "0000000000000000"
    assert ("{'Uid': '60100\\t60100\\t60100\\t60100', 'Gid': '60100\\t60100\\t60100\\t60100', 'Groups': '', "
            f"'CapInh': '{nothing}', 'CapPrm': '{nothing}', 'CapEff': '{nothing}', 'CapBnd': '{nothing}', "
            f"'CapAmb': '{nothing}', 'NoNewPrivs': '1'}}") in printed, printed
    assert "new user namespace False" in printed, printed
    assert "descriptors ['/dev/null', '/dev/null', '/dev/null']" in printed, printed
    assert f"preloaded {runtime == 'keras'}" in printed, printed
    # Keras was imported without Matplotlib (which it never needs in a graded kernel); a cell may still import it.
    assert "matplotlib before the cell False" in printed and "matplotlib in the cell True" in printed, printed


PRELOADS = """
import sys
print('preloaded', 'keras' in sys.modules)
print('matplotlib before the cell', 'matplotlib' in sys.modules)
import matplotlib
print('matplotlib in the cell', 'matplotlib' in sys.modules)
"""


@needs_isolation
def test_the_zygote_forks_only_into_a_box(tmp_path):
    """Asked for a kernel in a process that is not a box's placeholder (the grader itself, a process of the box
    that is not the placeholder), the zygote refuses and starts nothing."""
    sandbox.stop_zygotes()
    sandbox.ensure_zygotes(["numpy"])
    box = Box()
    try:
        procs = [str(folder / "cgroup.procs") for folder in box.cgroups.values()]

        def ask(pid):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(os.environ[sandbox.zygote_variable("numpy")])
                request = {"placeholder": pid, "placeholder_program": "/usr/bin/sleep", "uid": 60100,
                           "scratch": str(box.scratch), "cgroup_procs": procs, "environment": {}, "limits": [],
                           "argv": []}
                client.sendall(json.dumps(request).encode() + b"\n")
                return json.loads(client.makefile("rb").readline())

        assert "is not in the box's cgroup" in ask(os.getpid())["error"]
        stray = subprocess.Popen(["sleep", "60"])
        for path in procs:
            with open(path, "w") as handle:
                handle.write(str(stray.pid))
        try:
            assert "is not in a box of its own" in ask(stray.pid)["error"]
        finally:
            stray.kill()
            stray.wait()
    finally:
        box.destroy()
        sandbox.stop_zygotes()


@needs_isolation
def test_a_kernel_starts_the_plain_way_when_the_zygote_is_gone(monkeypatch, tmp_path):
    monkeypatch.setenv(sandbox.zygote_variable("numpy"), str(tmp_path / "no-zygote"))
    printed, _ = run_in_kernel("import os; print('processes', len([p for p in os.listdir('/proc') if p.isdigit()]))")
    assert "processes 2" in printed, printed


@needs_isolation
def test_a_kernel_from_the_zygote_dies_with_its_launcher():
    """As bubblewrap's ``--die-with-parent`` gives a kernel it starts: the launcher killed, bubblewrap goes, and so
    does every process of its PID namespace, the kernel the zygote forked into it included."""
    sandbox.stop_zygotes()
    sandbox.ensure_zygotes(["numpy"])

    async def main():
        async with ready_kernel() as (km, _):
            kernel = int((km.box.root / "kernel-pid").read_text())
            os.kill(km.provisioner.process.pid, signal.SIGKILL)
            for _ in range(500):
                if not os.path.exists(f"/proc/{kernel}") or " Z " in open(f"/proc/{kernel}/stat").read():
                    return True
                await asyncio.sleep(0.01)
            return False

    try:
        assert asyncio.run(main())
    finally:
        sandbox.stop_zygotes()


@needs_isolation
def test_the_folder_of_a_zygote_whose_grader_is_gone_is_removed_when_zygotes_start_again():
    gone = subprocess.Popen(["true"])
    gone.wait()
    left = Path(tempfile.mkdtemp(prefix=f"convcourse-zygote-{gone.pid}-"))
    mine = Path(tempfile.mkdtemp(prefix=f"convcourse-zygote-{os.getpid()}-"))
    sandbox.stop_zygotes()
    try:
        sandbox.ensure_zygotes(["numpy"])
        assert not left.exists() and mine.exists()
    finally:
        sandbox.stop_zygotes()
        shutil.rmtree(mine, ignore_errors=True)
        shutil.rmtree(left, ignore_errors=True)
