"""The kernel's side of trusted grading: run one call of a graded function that the grader asked for.

When an assignment is graded, its test cells run in the grader's own process (:mod:`convcourse.grader.execute`).
Each call of a graded function there becomes one request to the student's kernel: the grader writes the
arguments to a folder the kernel can only read (arrays as ``.npy`` or inline, Keras models as their config and
weights, everything else as JSON) and runs ``serve(number, requests, results)`` in the kernel. This module calls
the student's function on those arguments — under the hand-written guard, with warnings silenced — and writes
what it returned, or the exception it raised, to the kernel's own scratch folder. The grader reads that back
with ``allow_pickle=False`` and Keras' safe mode and decides. Nothing here decides anything: code in the kernel
can only change the values the grader receives, which is what a submission controls anyway.
"""

import base64
import builtins
import contextlib
import copy
import json
import math
import os
import re
import sys
import warnings

import numpy as np

from convcourse.student.guard import ForbiddenCallError, hand_written

# Exceptions the grader re-raises as themselves; any other exception travels as its nearest builtin ancestor.
BUILTIN_EXCEPTIONS = frozenset((
    "ValueError", "TypeError", "IndexError", "KeyError", "ZeroDivisionError", "AttributeError", "NameError",
    "NotImplementedError", "RuntimeError", "ArithmeticError", "LookupError", "AssertionError", "MemoryError",
    "RecursionError", "OverflowError", "FloatingPointError", "UnboundLocalError", "Exception",
))


def _load_argument(spec, requests):
    kind = spec["kind"]
    if kind == "json":
        return spec["value"]
    if kind in ("tuple", "list"):
        items = [_load_argument(item, requests) for item in spec["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "array":
        value = inline_array(spec) if "inline" in spec else np.load(os.path.join(requests, spec["file"]),
                                                                    allow_pickle=False)
        return value[()] if spec.get("scalar") else value
    if kind == "model":
        return model_from_config(spec["config"], [_load_argument(weights, requests) for weights in spec["weights"]],
                                 compile=False)
    raise ValueError(f"unknown argument kind {kind!r}")


# A Keras model travels as data, both ways: the config a ``.keras`` archive keeps in ``config.json`` (architecture,
# build and compile settings) and its weights as arrays. Rebuilding it takes a quarter of ``load_model``'s time,
# and saving a tenth, through the same deserialization in safe mode.
def model_config(model):
    """``model``'s serialized config, as ``model.save`` writes it."""
    from keras.src.saving.serialization_lib import ObjectSharingScope, serialize_keras_object

    with ObjectSharingScope():
        return serialize_keras_object(model)


def model_spec(model, array_spec):
    """How ``model`` travels: ``{"kind": "model", "config": ..., "weights": [...]}``, each weight array given the
    spec ``array_spec(array)`` of the side that sends it (inline or as a file)."""
    return spec_of_model(model_config(model), model.get_weights(), array_spec)


def spec_of_model(config, weights, array_spec):
    """:func:`model_spec` of the model whose serialized config and weights these are."""
    return {"kind": "model", "config": config,
            "weights": [array_spec(np.asarray(array, order="C")) for array in weights]}


def model_from_config(config, weights, compile=True):
    """The model of ``config`` holding ``weights``, deserialized as ``keras.saving.load_model(safe_mode=True)``
    does: Keras' own classes only, no Lambda code. Raises ``ValueError`` (or ``TypeError``) for anything else."""
    import keras
    from keras.src.saving.serialization_lib import ObjectSharingScope, SafeModeScope

    if not isinstance(config, dict):
        raise ValueError("a model's config is not a JSON object")
    if not compile:
        config = dict(config, compile_config=None)
    with SafeModeScope(True), ObjectSharingScope():
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    if not isinstance(model, keras.Model):
        raise ValueError(f"the config describes a {type(model).__name__}, not a keras.Model")
    model.set_weights(weights)
    return model


# Small arrays travel inside the JSON (base64), which spares a file per argument and per result; larger ones, and
# any beyond a total per request, go as ``.npy`` files.
INLINE_MAX_BYTES = 64 * 1024
INLINE_TOTAL_BYTES = 4 * 1024 * 1024
# A stand-in's request is an input prompt, read by the grader up to STAND_IN_PROMPT_BYTES.
STAND_IN_PROMPT_BYTES = 64 * 1024
STAND_IN_INLINE_BYTES = 24 * 1024
_INLINE_DTYPE = re.compile(r"[<>|=]?[biuf][1248]")


def inline_spec(array, spent):
    """The JSON spec of ``array`` (numeric, C-contiguous) carried inline, or ``None`` when it should be a file;
    ``spent`` is a one-item list of the bytes already inlined in this message."""
    if array.nbytes > INLINE_MAX_BYTES or spent[0] + array.nbytes > INLINE_TOTAL_BYTES:
        return None
    spent[0] += array.nbytes
    return {"kind": "array", "dtype": array.dtype.str, "shape": list(array.shape),
            "inline": base64.b64encode(array.tobytes()).decode("ascii")}


def inline_array(spec, limit=INLINE_TOTAL_BYTES):
    """The array of an inline spec, checked as data: a plain numeric dtype, a shape of at most 32 sizes, exactly
    the bytes that shape needs and no more than ``limit``. Raises ``ValueError`` otherwise."""
    dtype, shape = spec.get("dtype"), spec.get("shape")
    if not isinstance(dtype, str) or not _INLINE_DTYPE.fullmatch(dtype):
        raise ValueError(f"an inline array has the dtype {str(dtype)[:40]!r}")
    if (not isinstance(shape, list) or len(shape) > 32
            or not all(type(size) is int and 0 <= size <= limit for size in shape)):
        raise ValueError("an inline array has a malformed shape")
    data = base64.b64decode(str(spec.get("inline", "")), validate=True)
    dtype = np.dtype(dtype)
    if len(data) > limit or len(data) != math.prod(shape) * dtype.itemsize:
        raise ValueError("an inline array does not hold the bytes its shape needs")
    return np.frombuffer(data, dtype=dtype).reshape(tuple(shape)).copy()


def is_keras_model(value):
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


class _Writer:
    """Writes one call's result files, named ``<number>-r<k>.<ext>``, into the results folder."""

    def __init__(self, number, results):
        self.number, self.results, self.count = number, results, 0
        self.inlined = [0]

    def _name(self, extension):
        self.count += 1
        return f"{self.number}-r{self.count}.{extension}"

    def encode(self, value, depth=0):
        if value is None or type(value) in (bool, int, float, str):
            return {"kind": "json", "value": value}
        if type(value) in (tuple, list) and depth < 4 and len(value) <= 64:
            return {"kind": type(value).__name__, "items": [self.encode(item, depth + 1) for item in value]}
        if type(value) is np.ndarray and value.dtype.kind in "biuf":
            return self._array(np.asarray(value, order="C"))
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return dict(self._array(np.asarray(value)), scalar=True)
        if is_keras_model(value):
            return model_spec(value, self._array)
        kind = type(value)
        return {"kind": "opaque", "type": f"{kind.__module__}.{kind.__qualname__}"[:200],
                "ndarray_subclass": isinstance(value, np.ndarray)}


    def _array(self, array):
        spec = inline_spec(array, self.inlined)
        if spec is None:
            name = self._name("npy")
            np.save(os.path.join(self.results, name), array, allow_pickle=False)
            spec = {"kind": "array", "file": name}
        return spec


def _snapshot(value):
    """What a call could change of an argument: an array's values, or a Keras model's weights."""
    if type(value) is np.ndarray:
        return value.copy()
    if is_keras_model(value):
        return _Weights(weights.copy() for weights in value.get_weights())
    if type(value) is list:
        return copy.deepcopy(value)
    return None


class _Weights(list):
    """A model's weights before the call."""


def _changed(before, after):
    if type(before) is np.ndarray:
        return not (type(after) is np.ndarray and before.shape == after.shape
                    and bool(np.array_equal(before, after, equal_nan=True)))
    if type(before) is list:
        return before != after
    if isinstance(before, _Weights):
        now = after.get_weights()
        return len(now) != len(before) or not all(
            a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True)) for a, b in zip(before, now))
    return False


def _call(function, name, args, seed, guarded=True):
    if seed is not None:
        np.random.seed(seed)
        try:
            import keras
        except ImportError:  # a NumPy-only runtime: nothing more to seed
            pass
        else:
            keras.utils.set_random_seed(seed)
    guard = hand_written(name) if guarded else contextlib.nullcontext(None)
    # The grader discards whatever a call prints; dropping it here saves a print loop's megabytes the trip.
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(_DISCARD), \
            contextlib.redirect_stderr(_DISCARD), guard as watch:
        warnings.simplefilter("ignore")
        result = function(*args)
    if watch is not None and watch.violations:
        raise ForbiddenCallError(str(watch.violations[0]))
    return result


class _Discard:
    """A text stream that keeps nothing."""

    def write(self, text):
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


_DISCARD = _Discard()


class _StandIn:
    """The grader's correct version of an already graded function, for the duration of one call.

    When the grader tests ``conv2d``, a ``conv2d`` that calls ``same_padding`` gets the correct answer from the
    grader (asked for over the kernel's stdin channel: the arguments go out as files, the value comes back as
    one), so one mistake costs points in one function only. Nothing of the reference's code enters the kernel.
    """

    def __init__(self, name, writer, requests):
        self.__name__ = self.__qualname__ = name
        self._writer, self._requests = writer, requests

    def __call__(self, *args):
        reply = json.loads(input(self.request(args)))
        if reply.get("status") == "raised":
            kind = getattr(builtins, reply.get("builtin", ""), None)
            kind = kind if isinstance(kind, type) and issubclass(kind, Exception) else RuntimeError
            raise kind(reply.get("message", ""))
        return _load_argument(reply["value"], self._requests)

    def request(self, args):
        """The request's JSON, which travels as an input prompt: only so many bytes of arrays go inline (base64
        adds a third), the rest as files."""
        inlined, self._writer.inlined = self._writer.inlined, [INLINE_TOTAL_BYTES - STAND_IN_INLINE_BYTES]
        try:
            return json.dumps({"stand_in": self.__name__, "args": [self._writer.encode(value) for value in args]})
        finally:
            self._writer.inlined = inlined


_MISSING = object()


def _serve_one(call, requests, writer):
    name = call["function"]
    namespace = sys.modules["__main__"].__dict__
    function = namespace.get(name)
    stand_ins = [other for other in call.get("stand_ins", []) if other != name]
    saved = {other: namespace.get(other, _MISSING) for other in stand_ins}
    namespace.update({other: _StandIn(other, writer, requests) for other in stand_ins})
    try:
        return _run_one(name, function, call, requests, writer)
    finally:
        for other, value in saved.items():
            if value is _MISSING:
                namespace.pop(other, None)
            else:
                namespace[other] = value


def _run_one(name, function, call, requests, writer):
    try:
        if function is None:
            raise NameError(f"name {name!r} is not defined: run the cell that defines it")
        if not callable(function):
            raise TypeError(f"{name} is a {type(function).__name__}, not a function")
        args = [_load_argument(spec, requests) for spec in call["args"]]
        originals = [_snapshot(value) for value in args]
        value = _call(function, name, args, call.get("seed"), call.get("guarded", True) is not False)
        return {"status": "returned", "value": writer.encode(value),
                "mutated": {str(i): writer.encode(after) for i, (before, after) in enumerate(zip(originals, args))
                            if before is not None and _changed(before, after)}}
    except BaseException as error:  # noqa: BLE001 (every failure of the student's code is reported, never raised)
        builtin = next((kind.__name__ for kind in type(error).__mro__
                        if kind.__name__ in BUILTIN_EXCEPTIONS and getattr(builtins, kind.__name__, None) is kind),
                       "Exception")
        if isinstance(error, ForbiddenCallError):
            builtin = "ForbiddenCallError"
        return {"status": "raised", "builtin": builtin, "type": type(error).__qualname__[:200],
                "message": str(error)[:4000]}


def serve(number, requests, results):
    """Run the calls of request ``number`` (``requests/<number>.json``), in order; write ``<number>-result.json``."""
    with open(os.path.join(requests, f"{number}.json")) as handle:
        calls = json.load(handle)["calls"]
    writer = _Writer(number, results)
    replies = [_serve_one(call, requests, writer) for call in calls]
    with open(os.path.join(results, f"{number}-result.json"), "w") as handle:
        handle.write(json.dumps({"replies": replies}))  # dumps: the C encoder
