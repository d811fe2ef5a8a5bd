"""Notebook setup: the same seeds, quiet logs and print options in every chapter and assignment.

NumPy only unless ``keras=True``: the exercises of 01-03 and 06 run where TensorFlow is not installed.
"""

import importlib.abc
import importlib.util
import logging
import os
import random
import sys
import warnings

import numpy as np

DEFAULT_SEED = 0


def setup_notebook(seed=DEFAULT_SEED, keras=False):
    """Make a notebook reproducible and quiet; with ``keras=True`` also TensorFlow and Keras.

    Call it before anything imports TensorFlow: the log level and thread counts
    only take effect if they are set before TensorFlow starts.
    """
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    random.seed(seed)
    np.random.seed(seed)
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    if keras:
        _setup_keras(seed)
    # Matplotlib is styled when it is first imported, not imported here: a notebook without plots (every graded
    # kernel) does not pay the 0.2 s its import costs.
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].rcParams.update(FIGURE_STYLE)
    elif not any(isinstance(finder, _StyleOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _StyleOnImport())
    return None


# The book shows a figure at its own pixel size up to the text width (about 780 px at 1280 px): at 100 dpi a
# 10-point label is about 14 px high, and figures wider than 7.8 in are scaled down no more than they must be.
FIGURE_STYLE = {"figure.dpi": 100, "savefig.dpi": 100, "image.cmap": "gray", "axes.titlesize": "medium"}


class _StyleOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ``matplotlib`` is about to be imported, it lets the other finders find it and
    has its loader apply :data:`FIGURE_STYLE` once the module has run. Then it steps aside for good."""

    def find_spec(self, name, path=None, target=None):
        if name != "matplotlib":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            module.rcParams.update(FIGURE_STYLE)

        spec.loader.exec_module = exec_module
        return spec


class KerasNotInstalledError(ModuleNotFoundError):
    """Keras (or a backend for it) is missing: the student has not installed ``requirements-keras.txt`` yet."""


KERAS_MISSING = (
    "this exercise needs Keras, which is not installed in this environment ({missing} is missing). Install it as "
    "START-HERE.md says at the end of step 1: in the terminal, with the course's environment active and in the "
    "kit's folder, run  python -m pip install -r requirements.txt -r requirements-keras.txt  then restart the "
    "kernel (Kernel -> Restart Kernel) and run this cell again."
)


def keras_backend():
    """The Keras backend the kit installed here: ``"tensorflow"`` where TensorFlow has a wheel, ``"jax"`` where
    the kit installs JAX instead (CPython 3.14); ``KERAS_BACKEND``, when set, wins."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    for backend in ("tensorflow", "jax"):
        if importlib.util.find_spec(backend) is not None:
            return backend
    return None


def _setup_keras(seed):
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ["TF_DETERMINISTIC_OPS"] = "1"
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    # TensorFlow still runs some CPU ops through oneDNN, which picks the widest vector instructions the processor
    # has: with AVX-512 some float sums round differently from AVX2's, and after training a weight can differ in
    # its third decimal (seen: chapter 05's trained filters). Capped at AVX2, every x86 processor that has AVX2
    # computes the same numbers.
    os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    backend = keras_backend()
    if backend is None or importlib.util.find_spec("keras") is None:
        missing = "keras" if importlib.util.find_spec("keras") is None else "TensorFlow (or JAX)"
        __tracebackhide__ = True
        raise KerasNotInstalledError(KERAS_MISSING.format(missing=missing)) from None
    os.environ["KERAS_BACKEND"] = backend
    # Keras' advice (e.g. "prefer an Input object") goes to stderr, where nbgrader would fail a test cell.
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")
    logging.getLogger("absl").setLevel(logging.ERROR)

    import keras

    if backend == "tensorflow":
        import tensorflow as tf

        # One thread per op: float sums then always happen in the same order, so
        # trained weights and printed numbers are identical from run to run.
        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass  # TensorFlow already started in this process; its threads stay as they are.
        tf.config.experimental.enable_op_determinism()
        tf.get_logger().setLevel(logging.ERROR)
    keras.utils.set_random_seed(seed)
