"""The kernel launcher used for grading: resource limits and, when started as root, an unprivileged user.

nbgrader starts every submission's kernel through the ``convcourse-sandbox`` kernel spec, which runs
``python -m convcourse.grader.sandbox -f <connection file>``. Before handing over to ``ipykernel`` it

* caps address space (``CONVCOURSE_MEMORY_LIMIT_MB``, default 6144), CPU time
  (``CONVCOURSE_CPU_LIMIT_S``, default 900), processes and threads (``CONVCOURSE_PROCESS_LIMIT``,
  default 256) and file size (``CONVCOURSE_FILE_LIMIT_MB``, default 64);
* when it runs as root: takes a free *slot* — its own user id (``60100 + slot``), in no group — kills
  whatever an earlier kernel of that slot left running (forked children), moves to the slot's fresh
  scratch folder and drops to that user id. The submission then cannot read ``solutions/`` or
  ``.grading/`` (gradebook, other students' work), which the grader keeps private (mode 0700), nor
  anything else that is not world-readable, and its process limit is its own.

Without root, the limits still apply but files are not protected and the process limit is shared with the
grader's user. A slot belongs to a kernel for as long as that kernel's process lives.
"""

import fcntl
import json
import os
import resource
import shutil
import signal
import stat
import sys
from pathlib import Path

KERNEL_NAME = "convcourse-sandbox"
FIRST_SANDBOX_UID = 60100
SLOTS = 64


def _limit(name, default):
    return int(os.environ.get(name, default))


def apply_limits():
    """Cap memory, CPU time, processes and file size for this process and its children."""
    megabyte = 1024 * 1024
    limits = {
        resource.RLIMIT_AS: _limit("CONVCOURSE_MEMORY_LIMIT_MB", 6144) * megabyte,
        resource.RLIMIT_CPU: _limit("CONVCOURSE_CPU_LIMIT_S", 900),
        resource.RLIMIT_NPROC: _limit("CONVCOURSE_PROCESS_LIMIT", 256),
        resource.RLIMIT_FSIZE: _limit("CONVCOURSE_FILE_LIMIT_MB", 64) * megabyte,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in limits.items():
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _others_can_use(path, permission):
    """Can a user other than the owner reach ``path`` (every parent folder searchable) with ``permission``?"""
    path = Path(os.path.realpath(path))
    parents_ok = all(os.stat(parent).st_mode & stat.S_IXOTH for parent in path.parents)
    return parents_ok and bool(os.stat(path).st_mode & permission)


def sandbox_user_can_run_python():
    """Can another user run this interpreter and import the course package? (Not for a Python under /root.)"""
    import convcourse

    return all((
        _others_can_use(sys.executable, stat.S_IXOTH),
        _others_can_use(os.path.join(sys.base_prefix, "lib"), stat.S_IXOTH),
        _others_can_use(os.path.dirname(convcourse.__file__), stat.S_IXOTH),
    ))


def sandbox_root():
    """Root-owned folder of slot locks and scratch folders (``CONVCOURSE_SANDBOX_DIR``)."""
    root = Path(os.environ.get("CONVCOURSE_SANDBOX_DIR", "/tmp/convcourse-sandbox"))
    root.mkdir(mode=0o711, parents=True, exist_ok=True)
    os.chmod(root, 0o711)
    return root


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _take_slot(root):
    """Claim a slot whose kernel is gone: the slot file names the kernel's process id (kept across exec).

    Children a submission forked do not keep a slot: the next kernel that takes it kills them first.
    """
    with open(root / "slots.lock", "a") as master:
        fcntl.flock(master, fcntl.LOCK_EX)
        for slot in range(SLOTS):
            owner = root / f"slot-{slot}.pid"
            try:
                pid = int(owner.read_text())
            except (OSError, ValueError):
                pid = None
            if pid is None or not _alive(pid):
                owner.write_text(str(os.getpid()))
                return slot
    raise RuntimeError(f"all {SLOTS} sandbox slots in {root} have a running kernel")


def drop_privileges(connection_file):
    """As root: take a slot, clear it, and become its user in its scratch folder.

    Returns the connection file the kernel should use. Stays root, with a warning, when another user
    could not run this Python (make the virtual environment from a system Python, as ``make setup`` does).
    """
    if os.geteuid() != 0:
        return connection_file
    if not sandbox_user_can_run_python():
        print(f"convcourse.grader.sandbox: another user cannot run {sys.executable}; the kernel keeps running as root "
              "with resource limits only", file=sys.stderr)
        return connection_file
    root = sandbox_root()
    slot = _take_slot(root)
    uid = FIRST_SANDBOX_UID + slot
    scratch = root / f"slot-{slot}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    private_copy = scratch / Path(connection_file).name
    shutil.copy(connection_file, private_copy)
    for path in (scratch, private_copy):
        os.chown(path, uid, uid)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    # Whatever an earlier kernel of this slot left behind (forked children) goes now; kill(-1) spares us.
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.chdir(scratch)
    os.environ.update(HOME=str(scratch), USER=f"sandbox{slot}", MPLCONFIGDIR=str(scratch / "matplotlib"),
                      IPYTHONDIR=str(scratch / "ipython"), TMPDIR=str(scratch))
    return str(private_copy)


def reap_sandbox_processes():
    """Kill every process still running under a sandbox user id (children a submission left behind)."""
    sandbox_uids = {str(uid) for uid in range(FIRST_SANDBOX_UID, FIRST_SANDBOX_UID + SLOTS)}
    killed = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid_line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if uid_line.split()[1] in sandbox_uids:
            try:
                os.kill(int(status.parent.name), signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
    return killed


def kernel_spec():
    """The kernel spec dictionary (``kernel.json``) that starts kernels through this launcher."""
    return {
        "argv": [sys.executable, "-m", "convcourse.grader.sandbox", "-f", "{connection_file}"],
        "display_name": "Python 3 (convcourse grading sandbox)",
        "language": "python",
        "metadata": {"debugger": False},
    }


def install_kernel_spec(folder):
    """Write ``<folder>/kernels/convcourse-sandbox/kernel.json``; put ``folder`` on ``JUPYTER_PATH`` to use it."""
    target = Path(folder) / "kernels" / KERNEL_NAME
    target.mkdir(parents=True, exist_ok=True)
    (target / "kernel.json").write_text(json.dumps(kernel_spec(), indent=1))
    return target


def main(argv):
    if len(argv) < 3 or argv[1] != "-f":
        raise SystemExit("usage: python -m convcourse.grader.sandbox -f CONNECTION_FILE [ipykernel options]")
    connection_file = drop_privileges(argv[2])
    apply_limits()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, *argv[3:]])


if __name__ == "__main__":
    main(sys.argv)
