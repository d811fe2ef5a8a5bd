"""A kernel zygote: a runtime's Python with the kernel's imports done once, forked into each student's box.

Importing TensorFlow costs a 04–05 kernel about 3 s of CPU, more than the rest of its notebook; NumPy and ipykernel
cost every kernel about 0.3 s. A grading batch starts one zygote per kernel runtime (:mod:`convcourse.grader.sandbox`):
this script, run as root by that runtime's interpreter, with the box's environment, importing only the runtime's own
packages (never the grader's, never a submission). It then listens on a Unix socket in a folder only root can enter.

Bubblewrap still builds every box: the launcher (:mod:`convcourse.grader.launcher`) starts ``bwrap`` with a
placeholder (``sleep``) instead of the kernel and asks the zygote for a kernel in that placeholder's box. The zygote
forks a child, which

* checks that the placeholder is in the box's cgroups and in namespaces other than the host's, and joins those cgroups;
* drops its supplementary groups and takes the sandbox group, then joins the placeholder's PID, cgroup, network, IPC,
  UTS and mount namespaces, and last its user namespace (the one bubblewrap built with ``--disable-userns``);
* forks the kernel, which drops every capability (bounding, permitted, effective, inheritable, ambient), takes the
  sandbox user, sets ``no_new_privs``, checks all that in ``/proc/self/status`` (or exits), closes every inherited
  descriptor, takes the box's environment and per-process limits, and runs ipykernel.

The kernel then sees exactly what a kernel bubblewrap had started would see: the box's files, no network, its PID
namespace (the zygote is not in it), the sandbox user with no capabilities. Nothing of the zygote is secret: it was
started with the box's environment and has imported nothing but the runtime. Standard library only, as it runs
before any course code is importable.

    python zygote.py SOCKET MODULE...
"""

import contextlib
import ctypes
import gc
import importlib
import importlib.abc
import json
import os
import random
import signal
import socket
import sys

PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 1, 24, 38, 47, 4
CAPABILITY_VERSION_3 = 0x20080522
# Joined in this order: the user namespace last, since joining it first would leave no capability over the others
# (they belong to bubblewrap's outer user namespace).
NAMESPACES = (("pid", 0x20000000), ("cgroup", 0x02000000), ("net", 0x40000000), ("ipc", 0x08000000),
              ("uts", 0x04000000), ("mnt", 0x00020000), ("user", 0x10000000))
NO_CAPABILITY = "0000000000000000"
# Keras imports Matplotlib's pyplot and scikit-learn's wrappers whenever they are installed, for plotting and
# wrapping no graded kernel does: about 0.5 s of CPU per batch. They are hidden while the preloads run, so Keras
# records them as absent (its two image-gallery plotters then say Matplotlib is missing); a cell's own
# ``import matplotlib`` works as ever. The grader's own Keras leaves them out too (convcourse.grader.lean_keras).
KERAS_OPTIONAL_PACKAGES = ("matplotlib", "sklearn")

_libc = ctypes.CDLL(None, use_errno=True)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


class _LeftOut(importlib.abc.MetaPathFinder):
    def __init__(self, packages):
        self.packages = packages

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.packages:
            raise ModuleNotFoundError(f"{name} is left out of this import", name=name)
        return None


@contextlib.contextmanager
def imports_without(packages):
    """While inside, importing any of ``packages`` (or a module of theirs) fails as if it were not installed."""
    finder = _LeftOut(packages)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def _preload(modules):
    with imports_without(KERAS_OPTIONAL_PACKAGES):
        for module in modules:
            importlib.import_module(module)


def _own_status():
    with open("/proc/self/status") as handle:
        return dict(line.split(":", 1) for line in handle.read().splitlines() if ":" in line)


def _enter_box(request):
    """In the forked child (root, one thread): into the placeholder's cgroups and namespaces, as the sandbox group."""
    placeholder, uid = int(request["placeholder"]), int(request["uid"])
    for procs in request["cgroup_procs"]:
        with open(procs) as handle:
            if str(placeholder) not in handle.read().split():
                raise RuntimeError(f"process {placeholder} is not in the box's cgroup {procs}")
    if os.readlink(f"/proc/{placeholder}/exe") != request["placeholder_program"]:
        raise RuntimeError(f"process {placeholder} is not the box's placeholder")
    if os.readlink(f"/proc/{placeholder}/ns/pid") == os.readlink("/proc/self/ns/pid"):
        raise RuntimeError(f"process {placeholder} is not in a box of its own")
    handles = [(os.open(f"/proc/{placeholder}/ns/{name}", os.O_RDONLY), name, flag) for name, flag in NAMESPACES]
    for procs in request["cgroup_procs"]:
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    for handle, name, flag in handles:
        _check(_libc.setns(handle, flag), f"joining the box's {name} namespace")
        os.close(handle)
    os.chdir(request["scratch"])


def _drop_privileges(uid):
    """Every capability gone, for good, and the sandbox user: checked, not assumed."""
    with open("/proc/sys/kernel/cap_last_cap") as handle:
        last = int(handle.read())
    for capability in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "dropping the bounding set")
    os.setresuid(uid, uid, uid)
    _check(_libc.capset(ctypes.byref(_CapHeader(CAPABILITY_VERSION_3, 0)), (_CapData * 2)()), "clearing capabilities")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient capabilities")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs")
    status = _own_status()
    expected = {**{f"Cap{kind}": NO_CAPABILITY for kind in ("Inh", "Prm", "Eff", "Bnd", "Amb")},
                "Uid": "\t".join([str(uid)] * 4), "Gid": "\t".join([str(uid)] * 4), "Groups": "", "NoNewPrivs": "1"}
    found = {key: status.get(key, "").strip() for key in expected}
    wrong = {key: value for key, value in found.items() if value != expected[key]}
    if wrong:
        raise RuntimeError(f"privileges not dropped: {wrong}")


def _run_kernel(request):
    """In the kernel process, inside the box: drop everything inherited, then ipykernel. Never returns."""
    code = 70
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _drop_privileges(int(request["uid"]))
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        null = os.open("/dev/null", os.O_RDWR)
        for target in (0, 1, 2):
            os.dup2(null, target)
        os.close(null)
        os.environ.clear()
        os.environ.update(request["environment"])
        import resource

        for which, value in request["limits"]:
            resource.setrlimit(which, (value, value))
        # A fresh process would seed these from the system: the zygote's state is every kernel's otherwise.
        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        sys.path[0] = request["scratch"]
        from ipykernel import kernelapp

        code = 0
        kernelapp.launch_new_instance()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0
    except BaseException:  # noqa: BLE001 (the launcher sees the kernel end; nothing here may reach the zygote)
        code = 70
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110
                pass
        os._exit(code)


def _serve(connection):
    """In the child forked for one request: enter the box, fork the kernel, tell the launcher its pid. Never returns."""
    try:
        with connection.makefile("rb") as reader:
            request = json.loads(reader.readline())
        os.setsid()
        _enter_box(request)
        kernel = os.fork()  # the kernel: the first process of this child's to be in the box's PID namespace
        if kernel == 0:
            connection.close()
            _run_kernel(request)
        reply = {"pid": kernel}
    except BaseException as error:  # noqa: BLE001 (reported to the launcher, which fails the kernel's start)
        reply = {"error": f"{type(error).__name__}: {error}"}
    try:
        connection.sendall(json.dumps(reply).encode() + b"\n")
    finally:
        os._exit(0)


def main(argv):
    if len(argv) < 2:
        raise SystemExit("usage: python zygote.py SOCKET [MODULE...]")
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "dying with the grader")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(argv[1] + ".new")
    os.chmod(argv[1] + ".new", 0o600)
    listener.listen(64)  # launchers may connect at once: they wait in the backlog while the imports run
    os.rename(argv[1] + ".new", argv[1])  # the socket appears once it listens
    _preload(argv[2:])
    # Every kernel shares the preloads' objects until it writes to them, and a garbage collection in a kernel
    # visits (writes to) all of them: they are left out of collections.
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the children exit at once; nobody waits for them
    while True:
        connection, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            _serve(connection)
        connection.close()


if __name__ == "__main__":
    main(sys.argv)
