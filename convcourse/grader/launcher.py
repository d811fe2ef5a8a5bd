"""The grading kernel's launcher: join the box's cgroups, drop to the sandbox user, exec the kernel under bwrap.

Started by :class:`convcourse.grader.sandbox.SandboxKernelManager` as ``python -m convcourse.grader.launcher -f
CONNECTION_FILE`` with the box described in its environment. Standard library only: it runs once per kernel.
"""

import os
import resource
import shutil
import sys
from pathlib import Path

UNSAFE_VARIABLE = "CONVCOURSE_UNSAFE_NO_SANDBOX"


def setting(name, default):
    return int(os.environ.get(name, default))


def unsafe_mode():
    return os.environ.get(UNSAFE_VARIABLE) == "1"


def apply_limits():
    """Per-process caps inside the box: CPU time, file size, no core dumps, open files."""
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
    for which, value in limits.items():
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


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
    environment = {"HOME": scratch, "PATH": f"{venv}/bin:/usr/bin:/bin", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
                   "MPLCONFIGDIR": f"{scratch}/.matplotlib", "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3",
                   "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "KERAS_HOME": f"{scratch}/.keras"}
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this machine's OpenBLAS needs them (see env notes)
        if name in os.environ:
            environment[name] = os.environ[name]
    for name, value in environment.items():
        command += ["--setenv", name, value]
    return command + kernel_argv


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
    kernel_argv = [runtime, "-m", "ipykernel_launcher", "-f", private_connection, "--HistoryManager.enabled=False",
                   *argv[3:]]
    if unsafe_mode():
        apply_limits()
        os.execve(runtime, kernel_argv, dict(os.environ, HOME=scratch, TMPDIR=scratch))
    for procs in filter(None, os.environ["CONVCOURSE_BOX_CGROUPS"].split(os.pathsep)):
        Path(procs).write_text(str(os.getpid()))
    uid = setting("CONVCOURSE_SANDBOX_UID", 60100)
    os.chown(private_connection, uid, uid)
    os.chmod(private_connection, 0o600)
    apply_limits()
    command = _bwrap_command(runtime, scratch, requests, kernel_argv, uid)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    os.execve(command[0], command, {})



if __name__ == "__main__":
    main(sys.argv)
