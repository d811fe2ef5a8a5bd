"""The runtime guard that keeps graded functions hand-written.

While a graded function runs under :func:`hand_written`, every call into
TensorFlow, Keras, PyTorch, JAX, ``scipy.signal``, ``scipy.ndimage`` or the course's own
package, and every call of ``np.convolve`` / ``np.correlate``, is refused with
:class:`ForbiddenCallError`.
The guard watches calls with a profile hook, so a name imported before the call
(``from scipy.signal import correlate2d``) is caught as well; a refusal that the
function catches is still remembered and reported after it returns.
"""

import contextlib
import os
import sys
import threading

import numpy as np

FORBIDDEN_PACKAGES = {
    "tensorflow": "TensorFlow",
    "keras": "Keras",
    "tf_keras": "Keras",
    "torch": "PyTorch",
    "jax": "JAX",
    "jaxlib": "JAX",
    os.path.join("scipy", "signal"): "scipy.signal",
    os.path.join("scipy", "ndimage"): "scipy.ndimage",
}


def _code_of(function):
    # NumPy 2 wraps its Python functions in array-function dispatchers; the code runs in ``_implementation``.
    return getattr(function, "_implementation", function).__code__


_FORBIDDEN_NUMPY = {_code_of(np.convolve): "np.convolve", _code_of(np.correlate): "np.correlate"}
_FORBIDDEN_C_MODULES = ("tensorflow", "keras", "torch", "jax", "jaxlib", "scipy.signal", "scipy.ndimage")
_NUMPY_CORE_CORRELATE = ("correlate", "correlate2")


class ForbiddenCallError(RuntimeError):
    """A graded function called a library routine it must write by hand."""


_COURSE_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_THIS_FILE = os.path.abspath(__file__)
# Not helpers to refuse: the grader's courier (its stand-ins answer calls of already graded functions) and the
# notebook setup, whose import hook (it styles Matplotlib) is consulted by every import a graded function makes.
_INFRASTRUCTURE = (_THIS_FILE, *(os.path.join(os.path.dirname(_THIS_FILE), name) for name in ("callee.py", "notebook.py")))


def _package_of(filename):
    # The course's own helpers (test cases, the oracle) are not for graded functions either.
    if filename.startswith(_COURSE_PACKAGE) and filename not in _INFRASTRUCTURE:
        return "the course package convcourse"
    parts = filename.replace("\\", "/").split("/")
    for marker, name in FORBIDDEN_PACKAGES.items():
        marker_parts = marker.replace("\\", "/").split("/")
        for start in range(len(parts) - len(marker_parts)):
            if parts[start:start + len(marker_parts)] == marker_parts and start > 0 and parts[start - 1] in (
                "site-packages", "dist-packages", "lib-dynload"
            ):
                return name
    return None


def _c_function_owner(function):
    module = getattr(function, "__module__", None) or ""
    owner = getattr(function, "__self__", None)
    if not module and owner is not None:
        module = getattr(owner, "__name__", "") or type(owner).__module__
    for prefix in _FORBIDDEN_C_MODULES:
        if module == prefix or module.startswith(prefix + "."):
            return module
    return None


class _Watch:
    def __init__(self, function_name):
        self.function_name = function_name
        self.violations = []
        self._cache = {}

    def _refuse(self, what):
        message = (
            f"{self.function_name} called {what}. Graded functions must be written by hand with NumPy: "
            "TensorFlow, Keras, PyTorch, JAX, scipy.signal, scipy.ndimage, np.convolve and np.correlate "
            "are unavailable while they run."
        )
        self.violations.append(message)
        raise ForbiddenCallError(message)

    def profile(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            if code in _FORBIDDEN_NUMPY:
                self._refuse(_FORBIDDEN_NUMPY[code])
            filename = code.co_filename
            if filename not in self._cache:
                self._cache[filename] = _package_of(filename)
            package = self._cache[filename]
            if package is not None:
                self._refuse(f"{package} ({code.co_name} in {os.path.basename(filename)})")
        elif event == "c_call":
            owner = _c_function_owner(arg)
            if owner is not None:
                self._refuse(f"{owner}.{getattr(arg, '__name__', '?')}")


def _refusing(watch, name):
    def refused(*args, **kwargs):
        watch._refuse(name)

    return refused


@contextlib.contextmanager
def hand_written(function_name):
    """Run the body with forbidden routines unavailable; yields the watch whose ``violations`` list the refusals."""
    watch = _Watch(function_name)
    core = sys.modules.get("numpy._core.multiarray")
    swapped = [(np, "convolve", np.convolve), (np, "correlate", np.correlate)]
    if core is not None:
        swapped += [(core, name, getattr(core, name)) for name in _NUMPY_CORE_CORRELATE if hasattr(core, name)]
    for owner, name, _ in swapped:
        setattr(owner, name, _refusing(watch, f"np.{name}"))
    previous_profile = sys.getprofile()
    previous_thread_profile = threading.getprofile()
    sys.setprofile(watch.profile)
    threading.setprofile(watch.profile)
    try:
        yield watch
    finally:
        sys.setprofile(previous_profile)
        threading.setprofile(previous_thread_profile)
        for owner, name, original in swapped:
            setattr(owner, name, original)
