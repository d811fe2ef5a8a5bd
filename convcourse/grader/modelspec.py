"""A Keras model as data: its config (JSON) and its weights, built in Keras only when something needs the model.

The hidden tests of assignment 04 send the same seeded classifiers to every student's kernel, and a model travels
there as its config and weights anyway (:func:`convcourse.student.callee.model_spec`). Kept as a
:class:`ModelSpec`, a classifier is read from the reference cache, sent, described and compared without Keras
building it in the grading process: that happens only where a check needs the model itself (the reference of an
input nobody computed before, the known mistakes of a failing answer).
"""

import copy
import hashlib
import json

import numpy as np

from convcourse.student.callee import model_config, model_from_config


class ModelSpec:
    """``config`` (a Keras model's serialized config, as JSON data) and ``weights`` (arrays, as ``get_weights``).

    :meth:`keras_model` builds the model once (or returns the model it was made from); :attr:`weights` may be
    replaced (the proxy does, mirroring a student's change to a model it was given), which drops that build.
    """

    def __init__(self, config, weights, model=None):
        self.config = config
        self._weights = [np.asarray(array) for array in weights]
        self._model = model
        # The digests of an unbuilt spec, made once: a check asks for them for every input it runs.
        self._digests = {}

    @classmethod
    def from_keras(cls, model):
        """The spec of a built ``model``, which :meth:`keras_model` then returns as it is."""
        return cls(json.loads(json.dumps(model_config(model))), model.get_weights(), model)

    @property
    def weights(self):
        return self._model.get_weights() if self._model is not None else self._weights

    @weights.setter
    def weights(self, arrays):
        self._weights = [np.array(array) for array in arrays]
        self._model = None
        self._digests = {}

    def _kept_digest(self, kind, make):
        """``make()``, kept while nothing built can change the weights (a built model's are read from it live)."""
        if self._model is not None:
            return make()
        if kind not in self._digests:
            self._digests[kind] = make()
        return self._digests[kind]

    def keras_model(self):
        if self._model is None:
            # Keras' deserialization takes the config apart as it goes: it gets a copy.
            self._model = model_from_config(copy.deepcopy(self.config), self._weights)
        return self._model

    def copy(self):
        """A spec of the same model that shares no arrays with this one (and no built model)."""
        return ModelSpec(self.config, [array.copy() for array in self.weights])

    def layers(self):
        """The model's layers as ``(class name, name, config)``, input layer first, in the model's order."""
        return [(layer.get("class_name"), (layer.get("config") or {}).get("name", layer.get("name")),
                 layer.get("config") or {}) for layer in self.config.get("config", {}).get("layers", [])]

    @property
    def input_shape(self):
        """The input's shape without the batch axis, as a tuple (``None`` for a free size)."""
        for kind, _, config in self.layers():
            if kind == "InputLayer":
                return tuple(config["batch_shape"][1:])
        raise ValueError("the model's config declares no input layer")

    def weight_count(self):
        return int(sum(np.size(array) for array in self.weights))

    def digest(self):
        """What identifies the model exactly: its config and every weight's dtype, shape and bytes."""
        return self._kept_digest("exact", lambda: _digest(self.config, self.weights))

    def canonical_digest(self):
        """:meth:`digest` of the model with its layers and itself renamed by position, its optimizer's name dropped
        and no object marked as shared: two models that differ only there (Keras numbers the layers and optimizers
        nobody named, and marks an object several layers hold, by its address) compute, and train, alike, and have
        the same canonical digest. Names are replaced where a model's config holds them, nowhere else."""
        return self._kept_digest("canonical", lambda: _canonical_digest(self.config, self.weights))

    def as_arrays(self):
        """The spec as a tuple of arrays (the config's JSON as bytes first), as the reference cache keeps it."""
        return (np.frombuffer(json.dumps(self.config).encode(), dtype=np.uint8).copy(),
                *(np.asarray(array) for array in self.weights))

    @classmethod
    def from_arrays(cls, arrays):
        config, *weights = arrays
        return cls(json.loads(bytes(config).decode()), weights)

    def __repr__(self):
        return f"<model {self.config.get('config', {}).get('name', '?')!s} as config and weights>"


def _digest(config, weights):
    digest = hashlib.sha1(json.dumps(config, sort_keys=True).encode())
    for array in weights:
        array = np.ascontiguousarray(array)
        digest.update(repr((array.dtype.str, array.shape)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _canonical_digest(config, weights):
    """The digest of ``config`` renamed by position (see :meth:`ModelSpec.canonical_digest`) with ``weights``."""
    config = copy.deepcopy(config)
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    layers = inner.get("layers") if isinstance(inner.get("layers"), list) else []
    layers = [layer for layer in layers if isinstance(layer, dict)]
    # A functional model's layer names its layer at the top; a Sequential's, in its config only.
    given = [layer.get("name", (layer.get("config") or {}).get("name")) for layer in layers]
    if not all(isinstance(name, str) for name in given) or len(set(given)) != len(given):
        return _digest(config, weights)  # not a model Keras made: nothing to rename
    names = {name: f"layer {number}" for number, name in enumerate(given)}

    def renamed(history):
        if isinstance(history, list) and history and isinstance(history[0], str):
            return [names.get(history[0], history[0]), *history[1:]]
        return history

    def rename_tensors(node):
        if isinstance(node, dict):
            for key, value in node.items():
                node[key] = renamed(value) if key == "keras_history" else rename_tensors(value)
        elif isinstance(node, list):
            node[:] = [rename_tensors(item) for item in node]
        return node

    inner["name"] = "model"
    # A compiled model's optimizer is numbered like a layer ("adam_1"): a name only.
    optimizer = (config.get("compile_config") or {}).get("optimizer") if isinstance(config.get("compile_config"),
                                                                                   dict) else None
    if isinstance(optimizer, dict) and isinstance(optimizer.get("config"), dict) \
            and isinstance(optimizer["config"].get("name"), str):
        optimizer["config"]["name"] = "optimizer"
    for layer in layers:
        if "name" in layer:
            layer["name"] = names.get(layer["name"], layer["name"])
        if isinstance(layer.get("config"), dict) and "name" in layer["config"]:
            layer["config"]["name"] = names.get(layer["config"]["name"], layer["config"]["name"])
        rename_tensors(layer.get("inbound_nodes"))
    for key in ("input_layers", "output_layers"):
        ends = inner.get(key)
        if isinstance(ends, list) and ends and isinstance(ends[0], str):
            inner[key] = renamed(ends)
        elif isinstance(ends, list):
            inner[key] = [renamed(end) for end in ends]

    # An object several layers share (a dtype policy, say) carries its Python id, and a model rebuilt from its
    # config shares none: whether equal objects are one changes nothing that the model computes. Keras builds every
    # later occurrence of an id as the first, whatever its config says: where two differ, the marks are kept.
    occurrences = {}

    def unshared(node):
        if isinstance(node, dict):
            if "shared_object_id" in node:
                shared = node.pop("shared_object_id")
                occurrences.setdefault(repr(shared), set()).add(json.dumps(node, sort_keys=True))
            for value in node.values():
                unshared(value)
        elif isinstance(node, list):
            for item in node:
                unshared(item)

    marked = copy.deepcopy(config)
    unshared(config)
    return _digest(config if all(len(seen) == 1 for seen in occurrences.values()) else marked, weights)


class ReturnedModel(ModelSpec):
    """A model a student's function returned for a :class:`ModelSpec` it was given, its config already checked
    (:mod:`convcourse.grader.modelcheck`): built in Keras' safe mode only when a check needs the model itself, so
    that a model the grader knows (the solution's answer, :mod:`convcourse.grader.solution_models`) never is."""

    def keras_model(self):
        try:
            return super().keras_model()
        except Exception as error:  # noqa: BLE001 (any refusal is the submission's problem, reported as such)
            raise ValueError(
                f"the returned model cannot be rebuilt in Keras' safe mode ({type(error).__name__}: "
                f"{' '.join(str(error).split())[:300]}); build it from built-in Keras layers only (no Lambda, no "
                f"custom classes)"
            ) from None


def as_spec(model):
    """``model`` as a :class:`ModelSpec` (a built Keras model is wrapped, not rebuilt)."""
    return model if isinstance(model, ModelSpec) else ModelSpec.from_keras(model)
