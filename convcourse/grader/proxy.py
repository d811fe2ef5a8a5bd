"""The grader's side of a call into a student's kernel: a stand-in for a graded function.

A test cell runs in the grader's process with each graded function's name bound to a :class:`KernelFunction`.
Calling it writes the arguments to the kernel's read-only requests folder, asks the kernel to run
:func:`convcourse.student.callee.serve`, and reads the reply from the kernel's scratch folder as data only:
arrays through ``numpy.load(allow_pickle=False)``, Keras models rebuilt from their config in Keras' safe mode
(as ``load_model(safe_mode=True)`` would) once their config has passed :mod:`convcourse.grader.modelcheck`, each
file opened without following links and refused past a size cap.
The student's code can change what comes back, never how the grader judges it.
"""

import builtins
import io
import json
import os
import stat

import numpy as np

from convcourse.student.callee import (
    BUILTIN_EXCEPTIONS,
    INLINE_TOTAL_BYTES,
    inline_array,
    inline_spec,
    is_keras_model,
    model_spec,
    spec_of_model,
)
from convcourse.grader.modelcheck import ModelRefused, check_model
from convcourse.grader.modelspec import ModelSpec, ReturnedModel
from convcourse.student.guard import ForbiddenCallError

MAX_RESULT_BYTES = 256 * 1024 * 1024
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_MODEL_WEIGHTS = 4096

_REPLAYED = {name: getattr(builtins, name) for name in BUILTIN_EXCEPTIONS}
_REPLAYED["ForbiddenCallError"] = ForbiddenCallError


class KernelCallFailed(Exception):
    """The kernel could not answer a call: it died, ran out of time, or replied with something unreadable.

    The checks let it through unchanged (it is no answer to judge), so the cell's error names what happened.
    """


class CellTimeoutError(KernelCallFailed):
    """A call ran past the test cell's time limit (the kernel then obeyed the interrupt)."""


class KernelUnresponsive(KernelCallFailed):
    """A call ran past the time limit and the kernel ignored the interrupt: it is restarted."""


class KernelDied(KernelCallFailed):
    """The kernel died during a call (os._exit, a crash, the memory limit): it is restarted."""


class StudentRaised(Exception):
    """Marker mixed into a replayed exception: the student's function raised it, not the grader."""


class ReturnedObject:
    """A returned value the grader does not take in (a list of strings, a custom class, an ndarray subclass)."""

    def __init__(self, type_name, ndarray_subclass=False):
        self.type_name = type_name
        self.ndarray_subclass = ndarray_subclass

    def __repr__(self):
        return f"<a {self.type_name}>"


def _replayed_exception(reply):
    """The exception the student's function raised, as the builtin class nearest to it."""
    kind = _REPLAYED.get(reply.get("builtin"), Exception)
    message = str(reply.get("message", ""))[:4000]
    student_type = str(reply.get("type", kind.__name__))[:200]
    # StudentRaised is itself an Exception: a plain Exception is replayed as StudentRaised alone (bases in the
    # other order would have no consistent method resolution order).
    bases = (StudentRaised,) if kind is Exception else (kind, StudentRaised)
    replay = type(kind.__name__, bases, {"__module__": "builtins"})
    error = replay(message)
    error.student_type = student_type
    return error


class CallFolders:
    """Where one kernel's calls travel: ``requests`` (grader-written, read-only inside) and ``results`` (kernel's)."""

    def __init__(self, requests, results, model_policy=None):
        self.requests = str(requests)
        self.results = str(results)
        self._inlined = [0]
        self._lazy_models = False
        # What a returned model may be (convcourse.grader.modelcheck); None: no model is expected.
        self.model_policy = model_policy

    def write_request(self, number, calls, stand_ins=(), guarded=True):
        """Write request ``number``: ``calls`` is a list of ``(function name, args, seed)`` run in order;
        during each, the functions named in ``stand_ins`` are answered by the grader's references; ``guarded``
        runs them under the hand-written guard (not for functions whose point is to build Keras models).
        Returns the names of the files written (to remove once answered)."""
        files = []
        self._inlined = [0]
        # A model given as config and weights comes back the same way (built in Keras only if a check needs it).
        self._lazy_models = any(isinstance(value, ModelSpec) for _, args, _ in calls for value in args)
        request = {"calls": [{"function": function, "args": [self._encode(value, number, files) for value in args],
                              "seed": seed, "stand_ins": list(stand_ins), "guarded": guarded}
                             for function, args, seed in calls]}
        with open(os.path.join(self.requests, f"{number}.json"), "w") as handle:
            handle.write(json.dumps(request))  # dumps: the C encoder (dump runs the pure-Python one)
        files.append(f"{number}.json")
        return files

    def write_value(self, prefix, value, files):
        """Write ``value`` for the kernel to read (a stand-in's answer); its spec. File names go to ``files``."""
        return self._encode(value, prefix, files)

    def _encode(self, value, prefix, files, depth=0):
        if value is None or type(value) in (bool, int, float, str):
            return {"kind": "json", "value": value}
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            return self._encode_file(np.asarray(value), prefix, files, scalar=True)
        if isinstance(value, (tuple, list)) and depth < 4:
            return {"kind": "list" if type(value) is list else "tuple",
                    "items": [self._encode(item, prefix, files, depth + 1) for item in value]}
        if isinstance(value, np.ndarray):
            return self._encode_file(np.asarray(value, order="C"), prefix, files)
        if is_keras_model(value):
            return model_spec(value, lambda array: self._encode_file(array, prefix, files))
        if isinstance(value, ModelSpec):
            return spec_of_model(value.config, value.weights, lambda array: self._encode_file(array, prefix, files))
        raise TypeError(f"a test passed {type(value).__name__} to a graded function; the grader cannot send it")

    def _encode_file(self, array, prefix, files, scalar=False):
        spec = inline_spec(array, self._inlined)
        if spec is None:
            name = f"{prefix}-a{len(files)}.npy"
            np.save(os.path.join(self.requests, name), array, allow_pickle=False)
            files.append(name)
            spec = {"kind": "array", "file": name}
        if scalar:
            spec["scalar"] = True
        return spec

    def read_arguments(self, specs):
        """Arguments the kernel sent to a stand-in, read as data (same limits as replies)."""
        if not isinstance(specs, list) or len(specs) > 16:
            raise KernelCallFailed("a stand-in call sent malformed arguments")
        budget = [MAX_RESULT_BYTES]
        return [self._decode(spec, budget) for spec in specs]

    def _read(self, name, limit):
        """The bytes of ``results/name``: a regular file, never through a link, at most ``limit`` bytes."""
        if "/" in name or name.startswith("."):
            raise KernelCallFailed(f"the kernel named a result file {name!r}")
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
        directory = os.open(self.results, os.O_RDONLY | os.O_DIRECTORY)
        try:
            descriptor = os.open(name, flags, dir_fd=directory)
        except OSError as error:
            raise KernelCallFailed(f"the kernel's reply {name} cannot be read ({error.strerror})") from None
        finally:
            os.close(directory)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise KernelCallFailed(f"the kernel's reply {name} is not a regular file")
            if status.st_size > limit:
                raise KernelCallFailed(f"the kernel's reply {name} has {status.st_size:,} bytes (limit {limit:,})")
            with os.fdopen(descriptor, "rb", closefd=False) as handle:
                return handle.read(limit + 1)
        finally:
            os.close(descriptor)

    def read_replies(self, number, count):
        """For each of the ``count`` calls of request ``number``: ``("returned", value, {index: new value})`` or
        ``("raised", exception, {})``."""
        try:
            replies = json.loads(self._read(f"{number}-result.json", MAX_JSON_BYTES))["replies"]
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, RecursionError):
            raise KernelCallFailed("the kernel's reply is not the expected JSON") from None
        if not isinstance(replies, list) or len(replies) != count:
            raise KernelCallFailed("the kernel's reply does not answer every call")
        budget = [MAX_RESULT_BYTES]
        return [self._reply(reply, budget) for reply in replies]

    def _reply(self, reply, budget):
        if not isinstance(reply, dict):
            raise KernelCallFailed("the kernel's reply is not a JSON object")
        if reply.get("status") == "raised":
            return "raised", _replayed_exception(reply), {}
        if reply.get("status") != "returned":
            raise KernelCallFailed("the kernel's reply has no status")
        value = self._decode(reply.get("value"), budget)
        mutated = reply.get("mutated") or {}
        if not isinstance(mutated, dict):
            raise KernelCallFailed("the kernel's reply lists mutated arguments wrongly")
        return "returned", value, {int(k): self._decode(v, budget) for k, v in list(mutated.items())[:16]
                                   if str(k).isdigit()}

    def _decode(self, spec, budget, depth=0):
        if not isinstance(spec, dict) or depth > 4:
            raise KernelCallFailed("the kernel's reply is malformed")
        kind = spec.get("kind")
        if kind == "json":
            value = spec.get("value")
            if value is None or type(value) in (bool, int, float):
                return value
            if type(value) is str:
                return value[:10_000]
            raise KernelCallFailed("the kernel's reply holds an unexpected JSON value")
        if kind in ("tuple", "list"):
            items = spec.get("items")
            if not isinstance(items, list) or len(items) > 64:
                raise KernelCallFailed("the kernel's reply holds a malformed sequence")
            decoded = [self._decode(item, budget, depth + 1) for item in items]
            return tuple(decoded) if kind == "tuple" else decoded
        if kind == "opaque":
            return ReturnedObject(str(spec.get("type", "object"))[:200], bool(spec.get("ndarray_subclass")))
        if kind == "array":
            array = self._inline_array(spec, budget) if "inline" in spec else self._file_array(spec, budget)
            if array.dtype.kind not in "biuf":
                raise KernelCallFailed(f"the kernel returned an array of dtype {array.dtype}")
            return array[()] if spec.get("scalar") else array
        if kind == "model":
            return self._model(spec, budget, depth)
        raise KernelCallFailed(f"the kernel's reply has an unknown kind {kind!r}")

    @staticmethod
    def _inline_array(spec, budget):
        try:
            array = inline_array(spec, min(budget[0], INLINE_TOTAL_BYTES))
        except (ValueError, TypeError) as error:
            raise KernelCallFailed(f"the kernel returned an unreadable array ({error})") from None
        budget[0] -= array.nbytes
        return array

    def _file_array(self, spec, budget):
        data = self._read(str(spec.get("file", "")), budget[0])
        budget[0] -= len(data)
        try:
            return np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError as error:
            raise KernelCallFailed(f"the kernel returned an unreadable array ({error})") from None

    def _model(self, spec, budget, depth):
        weights = spec.get("weights")
        if not isinstance(weights, list) or len(weights) > MAX_MODEL_WEIGHTS:
            raise KernelCallFailed("the kernel's reply holds a model without a list of weights")
        arrays = []
        for weights_spec in weights:
            if not isinstance(weights_spec, dict) or weights_spec.get("kind") != "array":
                raise KernelCallFailed("the kernel's reply holds a model whose weights are not arrays")
            arrays.append(self._decode(weights_spec, budget, depth + 1))
        try:
            check_model(spec.get("config"), arrays, self.model_policy)
        except ModelRefused as refusal:
            raise ValueError(f"the returned model was refused before Keras saw it: {refusal}") from None
        returned = ReturnedModel(spec.get("config"), arrays)
        return returned if self._lazy_models else returned.keras_model()

    def clear(self, names, number):
        """Remove request ``number``'s files and the kernel's replies to it (unlinking never follows a link)."""
        for name in names:
            try:
                os.unlink(os.path.join(self.requests, name))
            except FileNotFoundError:
                pass
        prefix = f"{number}-"
        for name in os.listdir(self.results):
            if name.startswith(prefix):
                try:
                    os.unlink(os.path.join(self.results, name))
                except (FileNotFoundError, IsADirectoryError, PermissionError):
                    pass


class KernelFunction:
    """Stands in for the graded function ``name`` in a test cell; each call runs in the student's kernel.

    ``runner(calls)`` does one round trip (the executor's) for a list of ``(name, args, seed)`` and returns one
    ``(status, value, mutated)`` per call. :meth:`prefetch` sends a whole list of calls at once (a check about to
    try many configurations); later calls are then answered in order from those replies. An argument the kernel
    changed is changed here too, so the checks see a mutation as if the function had run in this process.
    """

    runs_in_kernel = True

    def __init__(self, name, runner):
        self.__name__ = name
        self.__qualname__ = name
        self._runner = runner
        self._prefetched = []

    def __call__(self, *args):
        return self.call(*args)

    def prefetch(self, arg_lists):
        """Run ``self(*args)`` for every ``args`` in ``arg_lists`` in one round trip; the next calls use the replies."""
        replies = self._runner([(self.__name__, tuple(args), None) for args in arg_lists])
        self._prefetched = [(_signature(args), reply) for args, reply in zip(arg_lists, replies, strict=True)]

    def call(self, *args, seed=None):
        if self._prefetched and seed is None and self._prefetched[0][0] == _signature(args):
            _, (status, value, mutated) = self._prefetched.pop(0)
        else:
            self._prefetched = []
            ((status, value, mutated),) = self._runner([(self.__name__, args, seed)])
        if status == "raised":
            raise value
        for index, after in mutated.items():
            if index < len(args) and isinstance(args[index], np.ndarray):
                _mirror_mutation(args[index], after)
            elif index < len(args) and (is_keras_model(args[index]) or isinstance(args[index], ModelSpec)):
                _mirror_model_change(args[index], after)
            elif index < len(args) and type(args[index]) is list:
                args[index][:] = after if isinstance(after, (list, tuple)) else [after]
        return value

    def __repr__(self):
        return f"<graded function {self.__name__}, run in the student's kernel>"


def _signature(args):
    """What a prefetched reply is matched on: the arguments' types and shapes, in order."""
    return tuple((type(value).__name__, getattr(value, "shape", None)) for value in args)


def _mirror_model_change(original, after):
    """The student's function changed the model it was given: change the grader's copy (a Keras model or a
    :class:`ModelSpec`) the same way, or at least visibly."""
    if isinstance(original, ModelSpec):
        before = original.weights
        try:
            arrays = after.weights if isinstance(after, ModelSpec) else after.get_weights()
        except (AttributeError, ValueError):
            arrays = None
        if arrays is None or [a.shape for a in arrays] != [b.shape for b in before]:
            arrays = [array.copy() for array in before]
            arrays[0] = arrays[0] + 1.0
        original.weights = arrays
        return
    try:
        original.set_weights(after.get_weights())
    except (AttributeError, ValueError):
        first = original.weights[0]
        first.assign(first.numpy() + 1.0)


def _mirror_mutation(original, after):
    try:
        if isinstance(after, np.ndarray) and after.shape == original.shape:
            original[...] = after
            return
    except (TypeError, ValueError):
        pass
    flat = original.reshape(-1)
    if flat.size:
        flat[0] = flat[0] + 1 if np.isfinite(flat[0]) else 0
