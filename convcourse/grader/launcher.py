"""The grading kernel's launcher: join the box's cgroups, drop to the sandbox user, exec the kernel under bwrap.

Started by :class:`convcourse.grader.sandbox.SandboxKernelManager` as ``python -m convcourse.grader.launcher -f
CONNECTION_FILE`` with the box described in its environment. Standard library only: it runs once per kernel.

Where the grading batch runs a kernel zygote for the runtime (``CONVCOURSE_ZYGOTE``, :mod:`convcourse.grader.zygote`),
bubblewrap builds the same box around a placeholder (``sleep``) and the zygote forks the kernel into it, its imports
already done; the launcher stays, as root outside the box, until that kernel ends. If the zygote cannot be reached,
the kernel is started the plain way.
"""

import json
import os
import resource
import select
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

UNSAFE_VARIABLE = "CONVCOURSE_UNSAFE_NO_SANDBOX"
PLACEHOLDER = "/usr/bin/sleep"  # what bubblewrap runs in a box whose kernel comes from the zygote


def setting(name, default):
    return int(os.environ.get(name, default))


def unsafe_mode():
    return os.environ.get(UNSAFE_VARIABLE) == "1"


def box_limits():
    """Per-process caps inside the box: CPU time, file size, no core dumps, open files, address space."""
    megabyte = 1024 * 1024
    limits = {
        resource.RLIMIT_CPU: setting("CONVCOURSE_CPU_LIMIT_S", 900),
        resource.RLIMIT_FSIZE: setting("CONVCOURSE_FILE_LIMIT_MB", 128) * megabyte,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NOFILE: 1024,
    }
    # The cgroup caps all the kernel's processes together; this per-process cap on address space turns one
    # absurd allocation into a clean MemoryError instead of an out-of-memory kill.
    limits[resource.RLIMIT_AS] = setting("CONVCOURSE_ADDRESS_SPACE_MB", 8192) * megabyte
    capped = []
    for which, value in limits.items():
        _, hard = resource.getrlimit(which)
        capped.append((which, value if hard == resource.RLIM_INFINITY else min(value, hard)))
    return capped


def apply_limits():
    for which, value in box_limits():
        resource.setrlimit(which, (value, value))


def box_environment(scratch, venv):
    environment = {"HOME": scratch, "PATH": f"{venv}/bin:/usr/bin:/bin", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
                   "MPLCONFIGDIR": f"{scratch}/.matplotlib", "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3",
                   "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "KERAS_HOME": f"{scratch}/.keras"}
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this machine's OpenBLAS needs them (see env notes)
        if name in os.environ:
            environment[name] = os.environ[name]
    return environment


def _bwrap_command(runtime, scratch, requests, kernel_argv, uid):
    venv = Path(runtime).parent.parent
    command = [
        shutil.which("bwrap"), "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--disable-userns",
        "--uid", str(uid), "--gid", str(uid),
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/sbin", "/sbin",
        "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(setting("CONVCOURSE_TMP_MB", 256) * 1024 * 1024), "--tmpfs", "/tmp",
        "--size", str(setting("CONVCOURSE_SHM_MB", 64) * 1024 * 1024), "--tmpfs", "/dev/shm",
        # Binds come after the private /tmp: a runtime or a box under /tmp would otherwise be hidden by it.
        "--ro-bind", str(venv), str(venv),
        "--bind", scratch, scratch,
        "--ro-bind", requests, requests,
        "--chdir", scratch,
    ]
    for name, value in box_environment(scratch, venv).items():
        command += ["--setenv", name, value]
    return command + kernel_argv


def _box_cgroup_procs():
    """The ``cgroup.procs`` files of the box's cgroups (memory, then pids), from the launcher's environment."""
    return [procs for procs in os.environ["CONVCOURSE_BOX_CGROUPS"].split(os.pathsep) if procs]


def _join_box_cgroups():
    for procs in _box_cgroup_procs():
        Path(procs).write_text(str(os.getpid()))


def _drop_to(uid):
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _placeholder_in(procs, bwrap, seconds=30):
    """The pid of the box's placeholder (``sleep``), once it runs, from the box's cgroup."""
    for _ in range(int(seconds * 200)):
        ended, status = os.waitpid(bwrap, os.WNOHANG)
        if ended:
            raise RuntimeError(f"bubblewrap ended before its box was ready (wait status {status})")
        for pid in Path(procs).read_text().split():
            try:
                if Path(f"/proc/{pid}/comm").read_text() == Path(PLACEHOLDER).name + "\n":
                    return int(pid)
            except OSError:
                continue
        time.sleep(0.005)
    raise RuntimeError("the box's placeholder did not start")


def _from_zygote(zygote, runtime, scratch, requests, kernel_args, uid):
    """Bubblewrap builds the box around a placeholder; the zygote forks the kernel into it. Waits for that kernel
    to end, then exits; returns (nothing started) only if the zygote cannot be reached."""
    try:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(zygote)
    except OSError:
        return None
    command = _bwrap_command(runtime, scratch, requests, [PLACEHOLDER, "infinity"], uid)
    bwrap = os.fork()
    if bwrap == 0:  # the launcher itself stays out of the box: it is no process of the student's
        _join_box_cgroups()
        _drop_to(uid)
        os.execve(command[0], command, {})
    # The box is built once the placeholder runs: bubblewrap's last step (it names its first process earlier).
    procs = _box_cgroup_procs()
    request = {"placeholder": _placeholder_in(procs[-1], bwrap), "placeholder_program": PLACEHOLDER, "uid": uid,
               "scratch": scratch, "cgroup_procs": procs, "limits": box_limits(), "argv": kernel_args,
               "environment": box_environment(scratch, Path(runtime).parent.parent)}
    client.sendall(json.dumps(request).encode() + b"\n")
    with client.makefile("rb") as reader:
        reply = json.loads(reader.readline() or b'{"error": "the zygote closed the connection"}')
    client.close()
    if "error" in reply:
        raise RuntimeError(f"the kernel zygote could not start the kernel: {reply['error']}")
    kernel = reply["pid"]
    Path(scratch).parent.joinpath("kernel-pid").write_text(str(kernel))  # outside the box: for stop_strays

    def end(*_):
        for pid in (kernel, bwrap):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, end)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts go to the kernel by message
    try:
        watched = os.pidfd_open(kernel)
    except ProcessLookupError:
        end()
    select.select([watched], [], [])
    end()


def main(argv):
    if len(argv) < 3 or argv[1] != "-f":
        raise SystemExit("usage: python -m convcourse.grader.launcher -f CONNECTION_FILE [ipykernel options]")
    scratch = os.environ["CONVCOURSE_BOX_SCRATCH"]
    requests = os.environ["CONVCOURSE_BOX_REQUESTS"]
    runtime = os.environ["CONVCOURSE_RUNTIME_PYTHON"]
    private_connection = os.path.join(scratch, "kernel.json")
    shutil.copy(argv[2], private_connection)
    # No SQLite input history: a grading kernel's history is thrown away with its box, and keeping it costs 0.1 s of
    # CPU per kernel (In and _ih still work).
    kernel_args = ["-f", private_connection, "--HistoryManager.enabled=False", *argv[3:]]
    kernel_argv = [runtime, "-m", "ipykernel_launcher", *kernel_args]
    if unsafe_mode():
        apply_limits()
        os.execve(runtime, kernel_argv, dict(os.environ, HOME=scratch, TMPDIR=scratch))
    uid = setting("CONVCOURSE_SANDBOX_UID", 60100)
    os.chown(private_connection, uid, uid)
    os.chmod(private_connection, 0o600)
    zygote = os.environ.get("CONVCOURSE_ZYGOTE")
    if zygote:
        _from_zygote(zygote, runtime, scratch, requests, kernel_args, uid)
    _join_box_cgroups()
    apply_limits()
    command = _bwrap_command(runtime, scratch, requests, kernel_argv, uid)
    _drop_to(uid)
    os.execve(command[0], command, {})



if __name__ == "__main__":
    main(sys.argv)
