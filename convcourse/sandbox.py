"""The kernel launcher used for grading: resource limits and, when started as root, an unprivileged user.

nbgrader starts every submission's kernel through the ``convcourse-sandbox`` kernel spec, which runs
``python -m convcourse.sandbox -f <connection file>``. Before handing over to ``ipykernel`` it

* caps address space (``CONVCOURSE_MEMORY_LIMIT_MB``, default 6144), CPU time
  (``CONVCOURSE_CPU_LIMIT_S``, default 900), processes and threads of the sandbox user
  (``CONVCOURSE_PROCESS_LIMIT``, default 512), file size (``CONVCOURSE_FILE_LIMIT_MB``, default 64);
* when it runs as root: moves to a fresh scratch folder and becomes the user ``nobody``, so that the
  submission cannot read ``solutions/``, ``.grading/`` (the gradebook, other students' submissions) or
  anything else that is not world-readable. The caller (``convcourse.classroom``) makes those folders
  private (mode 0700) before grading. Without root the limits still apply but files are not protected.
"""

import json
import os
import pwd
import resource
import shutil
import stat
import sys
import tempfile
from pathlib import Path

KERNEL_NAME = "convcourse-sandbox"
SANDBOX_USER = "nobody"


def _limit(name, default):
    return int(os.environ.get(name, default))


def apply_limits():
    """Cap memory, CPU time, processes and file size for this process and its children."""
    megabyte = 1024 * 1024
    limits = {
        resource.RLIMIT_AS: _limit("CONVCOURSE_MEMORY_LIMIT_MB", 6144) * megabyte,
        resource.RLIMIT_CPU: _limit("CONVCOURSE_CPU_LIMIT_S", 900),
        resource.RLIMIT_NPROC: _limit("CONVCOURSE_PROCESS_LIMIT", 512),
        resource.RLIMIT_FSIZE: _limit("CONVCOURSE_FILE_LIMIT_MB", 64) * megabyte,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in limits.items():
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _others_can_use(path, permission):
    """Can a user other than the owner reach ``path`` (every parent folder searchable) with ``permission``?"""
    path = Path(os.path.realpath(path))
    parents_ok = all(os.stat(parent).st_mode & stat.S_IXOTH for parent in path.parents)
    return parents_ok and bool(os.stat(path).st_mode & permission)


def sandbox_user_can_run_python():
    """Can ``nobody`` run this interpreter and import the course package? (Not for a Python under /root.)"""
    import convcourse

    return all((
        _others_can_use(sys.executable, stat.S_IXOTH),
        _others_can_use(os.path.join(sys.base_prefix, "lib"), stat.S_IXOTH),
        _others_can_use(os.path.dirname(convcourse.__file__), stat.S_IXOTH),
    ))


def drop_privileges(connection_file):
    """As root: copy the connection file into a scratch folder owned by ``nobody``, become ``nobody`` there.

    Returns the connection file the kernel should use. Stays root, with a warning, when ``nobody`` could
    not run this Python (make the virtual environment from a system Python, as ``make setup`` does).
    """
    if os.geteuid() != 0:
        return connection_file
    if not sandbox_user_can_run_python():
        print(f"convcourse.sandbox: {SANDBOX_USER} cannot run {sys.executable}; the kernel keeps running as root "
              "with resource limits only", file=sys.stderr)
        return connection_file
    user = pwd.getpwnam(SANDBOX_USER)
    scratch = Path(tempfile.mkdtemp(prefix="convcourse-kernel-", dir=os.environ.get("CONVCOURSE_SCRATCH_DIR")))
    private_copy = scratch / Path(connection_file).name
    shutil.copy(connection_file, private_copy)
    for path in (scratch, private_copy):
        os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(scratch, 0o700)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    os.chdir(scratch)
    os.environ.update(HOME=str(scratch), USER=SANDBOX_USER, MPLCONFIGDIR=str(scratch / "matplotlib"),
                      IPYTHONDIR=str(scratch / "ipython"), TMPDIR=str(scratch))
    return str(private_copy)


def kernel_spec():
    """The kernel spec dictionary (``kernel.json``) that starts kernels through this launcher."""
    return {
        "argv": [sys.executable, "-m", "convcourse.sandbox", "-f", "{connection_file}"],
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
        raise SystemExit("usage: python -m convcourse.sandbox -f CONNECTION_FILE [ipykernel options]")
    connection_file = drop_privileges(argv[2])
    apply_limits()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, *argv[3:]])


if __name__ == "__main__":
    main(sys.argv)
