"""A returned model's config is checked as data before Keras sees it.

A model comes back from a student's kernel as its Keras config (JSON) and its weights. Keras' safe mode refuses
``Lambda`` code but still builds any registered object, a ``Lambda`` around a public Keras function among them,
and rebuilding one can change Keras' state for whatever the process does next. So, like a web framework that
validates a request before routing it, :func:`check_model` reads the config first and refuses, with a message
that says why:

* any class outside the :class:`ModelPolicy`'s built-in layers (``Lambda`` is never one), a custom or registered
  object (``registered_name``), a module outside Keras' own, a ``function`` entry anywhere;
* more layers or parameters than the policy allows;
* a model whose cost per input value, found by following shapes through the layers, is past the policy's bound:
  multiply-adds and activations (a conversion wrapped in weight-free layers that up-sample and pool back
  passes every structure check, and runs at any cost the student likes).
"""

import math
from dataclasses import dataclass

CONTAINERS = frozenset({"Functional", "Sequential", "Model"})
# Objects a built-in layer's config holds: tensors of the functional graph, tuples, dtype policies, initializers,
# regularizers, constraints; and a compiled model's optimizer, loss and metrics.
KERAS_MODULE_PREFIX = "keras"
INTERNAL_CLASSES = frozenset({"__keras_tensor__", "__tuple__", "__ellipsis__"})
MAX_DEPTH = 24
MAX_NODES = 20_000


class ModelRefused(ValueError):
    """The returned model is not one the grader will rebuild (the message says why)."""


@dataclass(frozen=True)
class ModelPolicy:
    """What the grader accepts back from one graded function.

    ``layers``: the built-in layer classes allowed; ``max_layers`` and ``max_params`` bound the model's size;
    ``max_macs_per_value`` and ``max_activations_per_value`` bound its cost per input value (multiply-adds and
    layer outputs), measured at ``probe_size`` for an input whose height and width are ``None``.
    """

    layers: frozenset
    max_layers: int = 64
    max_params: int = 2_000_000
    max_macs_per_value: float = 200_000
    max_activations_per_value: float = 2_000
    probe_size: int = 64


def check_model(config, weights, policy):
    """Raise :class:`ModelRefused` unless ``config`` (a Keras model's JSON config) with ``weights`` (arrays) fits
    ``policy``. Nothing here imports Keras."""
    if policy is None:
        raise ModelRefused("a model is not an answer the grader expects here")
    if not isinstance(config, dict) or config.get("class_name") not in CONTAINERS:
        raise ModelRefused("the returned value is not a Keras model's config")
    params = sum(int(getattr(array, "size", 0)) for array in weights)
    if params > policy.max_params:
        raise ModelRefused(f"the model has {params:,} parameters; the grader runs models of at most "
                           f"{policy.max_params:,}")
    _check_objects(config, policy)
    layers = _layers(config)
    if len(layers) > policy.max_layers:
        raise ModelRefused(f"the model has {len(layers)} layers; the grader runs models of at most "
                           f"{policy.max_layers}")
    _check_cost(config, policy)


def _check_objects(config, policy):
    """Every object in the config is Keras' own and every layer one the policy allows; nothing is a function."""
    seen = 0
    stack = [(config, 0)]
    while stack:
        node, depth = stack.pop()
        seen += 1
        if depth > MAX_DEPTH or seen > MAX_NODES:
            raise ModelRefused("the model's config is nested too deeply or is too large")
        if isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        if "function" in node or "function_type" in node:
            raise ModelRefused("the model holds a function (a Lambda or a custom object); build it from built-in "
                               "Keras layers only")
        class_name = node.get("class_name")
        if class_name is not None and class_name not in INTERNAL_CLASSES:
            module = node.get("module")
            # Keras' classes are CamelCase; a public Keras function travels as class "function".
            if not (isinstance(class_name, str) and class_name[:1].isupper() and class_name.isidentifier()):
                raise ModelRefused(f"the model holds {str(class_name)[:80]!r}, not a Keras layer or setting; build "
                                   "it from built-in Keras layers only (no Lambda, no functions)")
            if node.get("registered_name") not in (None, class_name) or not isinstance(class_name, str):
                raise ModelRefused(f"the model holds a custom or registered object {str(class_name)[:80]!r}; "
                                   "build it from built-in Keras layers only")
            if not (isinstance(module, str) and (module == KERAS_MODULE_PREFIX
                                                 or module.startswith(KERAS_MODULE_PREFIX + "."))):
                raise ModelRefused(f"the model holds {class_name[:80]!r} from outside Keras "
                                   f"({str(module)[:80]!r}); build it from built-in Keras layers only")
            if module == "keras.layers" and class_name not in policy.layers:
                raise ModelRefused(f"the model uses a {class_name[:80]} layer; the layers allowed here are "
                                   f"{', '.join(sorted(policy.layers))}")
        stack.extend((value, depth + 1) for value in node.values())


def _layers(config):
    """The model's layers in order, nested models opened, input layers included."""
    found = []
    for layer in config.get("config", {}).get("layers", []) or []:
        if isinstance(layer, dict) and layer.get("class_name") in CONTAINERS:
            found += _layers(layer)
        elif isinstance(layer, dict):
            found.append(layer)
    return found


def _pair(value, name):
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in value)):
        raise ModelRefused(f"the model's {name} is not a pair of sizes from 1 to 4096")
    return tuple(value)


def _spatial(size, kernel, stride, padding, dilation=1, transposed=False):
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if transposed:
        return size * stride if padding == "same" else (size - 1) * stride + max(span, stride)
    if padding == "same":
        return -(-size // stride)
    return max((size - span) // stride + 1, 0)


def _follow(layer, shape):
    """The output shape of ``layer`` (a config) on ``shape`` (a tuple without the batch), and its multiply-adds."""
    kind, config = layer.get("class_name"), layer.get("config") or {}
    if kind in ("Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"):
        height, width, channels = shape
        kernel = _pair(config.get("kernel_size"), "kernel_size")
        strides = _pair(config.get("strides", 1), "strides")
        dilation = _pair(config.get("dilation_rate", 1), "dilation_rate")
        padding = config.get("padding", "valid")
        transposed = kind == "Conv2DTranspose"
        filters = config.get("filters") or channels * int(config.get("depth_multiplier") or 1)
        if not isinstance(filters, int) or filters < 1:
            raise ModelRefused("the model's filters are not a positive int")
        out = (_spatial(height, kernel[0], strides[0], padding, dilation[0], transposed),
               _spatial(width, kernel[1], strides[1], padding, dilation[1], transposed), filters)
        positions = (height if transposed else out[0]) * (width if transposed else out[1])
        return out, positions * kernel[0] * kernel[1] * channels * filters
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        height, width, channels = shape
        pool = _pair(config.get("pool_size", 2), "pool_size")
        strides = _pair(config.get("strides") or pool, "strides")
        padding = config.get("padding", "valid")
        out = (_spatial(height, pool[0], strides[0], padding), _spatial(width, pool[1], strides[1], padding),
               channels)
        return out, out[0] * out[1] * channels * pool[0] * pool[1]
    if kind in ("UpSampling2D",):
        height, width, channels = shape
        size = _pair(config.get("size", 2), "size")
        return (height * size[0], width * size[1], channels), 0
    if kind in ("ZeroPadding2D", "Cropping2D"):
        height, width, channels = shape
        amount = config.get("padding" if kind == "ZeroPadding2D" else "cropping")
        rows, cols = (amount if isinstance(amount, (list, tuple)) and len(amount) == 2 else (amount, amount))
        rows = sum(rows) if isinstance(rows, (list, tuple)) else 2 * rows
        cols = sum(cols) if isinstance(cols, (list, tuple)) else 2 * cols
        if not all(isinstance(v, int) and 0 <= v <= 4096 for v in (rows, cols)):
            raise ModelRefused(f"the model's {kind} amounts are not sizes from 0 to 4096")
        sign = 1 if kind == "ZeroPadding2D" else -1
        return (max(height + sign * rows, 0), max(width + sign * cols, 0), channels), 0
    if kind == "Dense":
        units = config.get("units")
        if not isinstance(units, int) or units < 1:
            raise ModelRefused("the model's Dense units are not a positive int")
        return (*shape[:-1], units), math.prod(shape) * units
    if kind == "Flatten":
        return (math.prod(shape),), 0
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        return (shape[-1],), math.prod(shape)
    if kind == "Reshape":
        target = config.get("target_shape")
        if not isinstance(target, (list, tuple)) or not all(isinstance(v, int) for v in target):
            raise ModelRefused("the model's Reshape target is not a list of sizes")
        known = math.prod(v for v in target if v != -1)
        return tuple(math.prod(shape) // max(known, 1) if v == -1 else v for v in target), 0
    return shape, 0  # element-wise: activations, normalization, dropout, the input


def _check_cost(config, policy):
    """Follow the input's shape through the layers: multiply-adds and activations per input value."""
    layers = _layers(config)
    inputs = [layer for layer in layers if layer.get("class_name") == "InputLayer"]
    batch_shape = (inputs[0].get("config") or {}).get("batch_shape") if inputs else None
    if not isinstance(batch_shape, (list, tuple)) or len(batch_shape) < 2:
        return  # a model without a declared input is only built when called, on the checks' own inputs
    shape = tuple(policy.probe_size if size is None else size for size in batch_shape[1:])
    if not all(isinstance(size, int) and 0 < size <= 1_000_000 for size in shape):
        raise ModelRefused("the model's input shape is not a list of sizes")
    values = math.prod(shape)
    macs = activations = 0
    for layer in layers:
        if layer.get("class_name") == "InputLayer":
            continue
        if len(shape) != 3 and layer.get("class_name") not in ("Dense", "Reshape", "Flatten", "Activation", "ReLU",
                                                              "LeakyReLU", "Softmax", "Dropout", "ELU",
                                                              "BatchNormalization", "Identity"):
            raise ModelRefused(f"the model applies a {layer.get('class_name')} layer to a {len(shape)}-D tensor")
        shape, cost = _follow(layer, shape)
        macs += cost
        activations += math.prod(shape)
        if macs > policy.max_macs_per_value * values or activations > policy.max_activations_per_value * values:
            raise ModelRefused(
                f"the model costs more than the grader runs ({macs / values:,.0f} multiply-adds and "
                f"{activations / values:,.0f} outputs per input value by layer {str(layer.get('name'))[:80]!r}; "
                f"at most {policy.max_macs_per_value:,.0f} and {policy.max_activations_per_value:,.0f})")
