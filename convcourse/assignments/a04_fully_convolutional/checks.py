"""Checks for assignment 04: a dense kernel turned into a ``Conv2D`` kernel, and a classifier turned
into a fully-convolutional ``keras.Model``.

* :func:`check_dense_to_conv_kernel` calls the graded function under the hand-written guard
  (:func:`convcourse.checks.call_graded`) and then judges the kernel by what it computes:
  Keras' ``Conv2D`` with that kernel over random feature maps must give what Keras' ``Flatten`` +
  ``Dense`` gives with the dense kernel.
* :func:`check_fully_convolutional` calls ``to_fully_convolutional`` *without* the guard (it has to
  build Keras models) and compares the returned model with the original classifier: on the
  original size, and on larger inputs against the classifier run on every window
  (:func:`convcourse.model_cases.window_scores`). With ``structure=True`` it also checks the returned
  object itself (a ``keras.Model`` with input ``(None, None, C)``, no ``Dense`` or ``Flatten`` left,
  the same number of weights) and that the original model was left unchanged.
* :func:`check_rejects_classifier` requires a ``ValueError`` that names the layer it cannot convert.

The classifiers are :class:`~convcourse.grader.modelspec.ModelSpec` objects (config and weights, from the reference
cache, as are their outputs on every input the checks draw): they are sent to the student's kernel as data, and a
model returned for one comes back the same way. Only what the grader has not seen before is built in Keras here: a
returned model that is not the one the solution returned for that classifier
(:mod:`convcourse.grader.solution_models`), the known mistakes of a failing answer, a classifier a function changed.

Failures raise ``AssertionError`` with the model (every layer named), the input shape, where the
values differ and, when the result matches a known mistake, which one. Like
:mod:`convcourse.checks`, the module binds the names it relies on when first imported (the locked
setup cell of the assignment imports it before any student code).
"""

import numpy as _np

from convcourse.assignments.a04_fully_convolutional.cases import (
    KNOWN_MISTAKES,
    channels_last_shape,
    classifier_variant,
    describe_classifier,
    input_shape,
    larger_input_sizes,
    layer_kind,
    total_stride,
)
from convcourse.assignments.a04_fully_convolutional.references import (
    classifier_outputs,
    classifier_window_scores,
    keras_flatten_dense,
    window_scores,
)
from convcourse.grader.cases import Case, random_values
from convcourse.grader.checks import MAX_SHOWN, failure_summary, prefetch, reference_value, solution_value
from convcourse.grader.modelspec import ReturnedModel, as_spec
from convcourse.grader.solution_models import is_solution_answer, kept_outputs, remember
from convcourse.grader.proxy import KernelCallFailed
from convcourse.student.checks import array_difference, call_graded
from convcourse.grader.oracle import keras_conv2d, keras_module
from convcourse.student.pristine import (  # noqa: A004 (shadowing the builtins is the point)
    AssertionError,
    BaseException,
    Exception,
    TypeError,
    ValueError,
    bool,
    enumerate,
    getattr,
    int,
    isinstance,
    len,
    str,
    sum,
    tuple,
    type,
)

_ndarray = _np.ndarray
_asarray = _np.asarray
_float64 = _np.float64
_float32 = _np.float32
_default_rng = _np.random.default_rng

FEATURE_SAMPLES = 3


def _function_name(function):
    return getattr(function, "__name__", "the function")


# ----------------------------------------------------------------------------------------------
# dense_to_conv_kernel
# ----------------------------------------------------------------------------------------------

def _kernel_problem(kernel, expected_shape, case):
    if type(kernel) is not _ndarray:
        return f"it returned {type(kernel).__name__}, not a numpy.ndarray"
    if kernel.dtype.kind != "f":
        return f"it returned an array of dtype {kernel.dtype}; return floats"
    if kernel.shape != expected_shape:
        problem = (f"it returned shape {kernel.shape}; a Conv2D kernel over the whole (H, W) = {expected_shape[:2]} "
                   f"map with C = {expected_shape[2]} channels and {expected_shape[3]} units has shape "
                   f"(H, W, C, units) = {expected_shape}")
        if case["data_format"] == "channels_first" and kernel.shape == (*case["feature_shape"], expected_shape[3]):
            problem += " — the channels-first (C, H, W) order was kept; Keras kernels are channels-last"
        return problem
    return None


def check_dense_to_conv_kernel(function, cases, seed=0):
    """Require ``Conv2D`` with ``function(dense_kernel, feature_shape, data_format)`` to give the outputs of
    ``Flatten`` + ``Dense`` (flattening in ``data_format`` order) on random feature maps, for every case.

    Every case is tried (one batch when grading); a failure counts the failing and passing configurations and
    shows the first few, naming the flatten-order mistake where the kernel reads the rows in the other order."""
    name = _function_name(function)
    rng = _default_rng(seed)
    prefetch(function, cases)
    failures = []
    for number, case in enumerate(cases, start=1):
        dense_kernel, feature_shape, data_format = case.args
        height, width, channels = channels_last_shape(feature_shape, data_format)
        units = dense_kernel.shape[1]
        features = random_values(rng, (FEATURE_SAMPLES, height, width, channels))
        call = f"configuration {number} of {len(cases)}: {name}({case.describe()})"
        try:
            kernel = call_graded(function, case)
        except (AssertionError, KernelCallFailed):
            raise
        except Exception as error:  # noqa: BLE001 (a student's exception is that configuration's verdict)
            failures.append((call, f"it raised {type(error).__name__}: {str(error)[:300]}", None))
            continue
        problem = _kernel_problem(kernel, (height, width, channels, units), case)
        if problem is not None:
            failures.append((call, problem, None))
            continue
        # The same for every student: computed for the first notebook graded, then read from the reference cache
        # (at release too, once references.KNOWN_AHEAD lists dense_to_conv_kernel for convcourse.grader.precompute).
        expected = reference_value(keras_flatten_dense, Case(("features", "dense_kernel", "bias", "data_format"),
                                                              (features, dense_kernel, None, data_format)))
        # A kernel equal to the solution's is read from the reference cache; any other is run in Keras here.
        outputs = solution_value(keras_conv2d, (features, kernel))[:, 0, 0, :]
        problem = array_difference(outputs, expected)
        if problem is None:
            continue
        other = "channels_first" if data_format == "channels_last" else "channels_last"
        cause = None
        if array_difference(outputs, keras_flatten_dense(features, dense_kernel, None, other)) is None:
            order = {"channels_last": "(H, W, C)", "channels_first": "(C, H, W)"}
            cause = (f"the kernel reads the rows of dense_kernel in the {order[other]} order of {other!r}; with "
                     f"data_format={data_format!r} they are in {order[data_format]} order")
        problem = problem.replace("it returned", "Conv2D with your kernel gives").replace(
            "Keras gives", "Flatten + Dense gives")
        failures.append((call, f"on {FEATURE_SAMPLES} random feature maps of shape (H, W, C) = "
                               f"{(height, width, channels)}, {problem}", cause))
    if failures:
        raise AssertionError(failure_summary(name, len(cases), failures[:MAX_SHOWN], len(failures)))
    return None


# ----------------------------------------------------------------------------------------------
# to_fully_convolutional
# ----------------------------------------------------------------------------------------------

def _all_layers(model):
    """Every layer of ``model``, looking inside nested models."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        if getattr(layer, "layers", None):
            found.extend(_all_layers(layer))
    return found


def _weight_count(model):
    return int(sum(int(_np.size(w)) for w in model.get_weights()))


def _check_structure(converted, model, name, where):
    keras = keras_module()
    channels = input_shape(model)[-1]
    inputs = getattr(converted, "inputs", None) or []
    if len(inputs) != 1:
        raise AssertionError(f"{name} returned a model with {len(inputs)} inputs; it should have one ({where})")
    shape = tuple(inputs[0].shape)
    if shape != (None, None, None, channels):
        raise AssertionError(
            f"{name} returned a model whose input shape is {shape[1:]}; a fully-convolutional model accepts "
            f"images of any size: its input should be (None, None, {channels}), e.g. keras.Input((None, None, "
            f"{channels})) ({where})"
        )
    for layer in _all_layers(converted):
        if isinstance(layer, (keras.layers.Dense, keras.layers.Flatten)):
            raise AssertionError(
                f"{name} returned a model that still contains the {type(layer).__name__} layer {layer.name!r}; "
                f"every Dense must become a Conv2D and Flatten must go ({where})"
            )
    held, original = _weight_count(converted), model.weight_count()
    if held != original:
        raise AssertionError(
            f"{name} returned a model that holds {held} weights, the original {original}: the conversion "
            f"reuses the same weights, only reshaped ({where})"
        )


def _weights_changed(model, weights_before):
    weights_after = model.weights
    return len(weights_after) != len(weights_before) or not all(
        before.shape == after.shape and bool((before == after).all())
        for before, after in zip(weights_before, weights_after))


def _check_unchanged(model, weights_before, name, where):
    """The original's weights are what they were (a change the student's kernel made to its copy is mirrored onto
    ``model``, a :class:`ModelSpec`, by the proxy): the grader's copy can change in no other way."""
    if _weights_changed(model, weights_before):
        layers_with_weights = [layer_name for kind, layer_name, config in model.layers()
                               if kind in ("Conv2D", "Dense", "BatchNormalization", "LayerNormalization")]
        raise AssertionError(
            f"{name} changed the original model's weights; build new layers (or reuse the old ones) "
            f"without modifying them ({where}; layers with weights: "
            f"{', '.join(layers_with_weights)})"
        )


def _run(converted, x, name, where):
    if isinstance(converted, ReturnedModel):  # the solution's answer: what it gave on x was kept
        kept = kept_outputs(converted, x)
        if kept is not None:
            return kept
        converted = _built(converted, where)
    try:
        return _asarray(converted(x, training=False))
    except Exception as error:
        raise AssertionError(
            f"the model returned by {name} fails on an input of shape {x.shape}: {type(error).__name__}: "
            f"{' '.join(str(error).split())[:400]} ({where})"
        ) from None


def _diagnose(actual, model, x, windows):
    for description, mistake in KNOWN_MISTAKES.items():
        variant = classifier_variant(model.keras_model(), **mistake)
        if variant is None:
            continue
        if windows:
            reference = window_scores(variant, x)
        else:
            reference = _asarray(variant(x, training=False), dtype=_float64)[:, None, None, :]
        if array_difference(actual, reference) is None:
            return description
    return None


def check_fully_convolutional(function, models, larger_inputs=0, structure=False, seed=0, batch=2):
    """Require ``function(model)`` to return a fully-convolutional version of every classifier in ``models``.

    On ``batch`` random inputs of the original size ``(H, W)`` its output must be ``(N, 1, 1, units)`` and
    equal the original's ``(N, units)``; on ``larger_inputs`` larger sizes per model it must equal
    :func:`convcourse.model_cases.window_scores`. ``structure=True`` also checks the returned object and
    that the original model's weights and outputs are unchanged. Every model is tried; a failure counts the
    failing and passing models and shows the first few (each described layer by layer).
    """
    name = _function_name(function)
    rng = _default_rng(seed)
    models = [as_spec(model) for model in models]
    # Every model converted in one round trip to the student's kernel (grading); each reply is taken, in order,
    # when the check of its model calls the function, after the model's outputs and weights are noted.
    if getattr(function, "runs_in_kernel", False) is True:
        function.prefetch([(model,) for model in models])
    failures = []
    for number, model in enumerate(models, start=1):
        try:
            _check_one_model(function, model, rng, larger_inputs, structure, batch)
        except _ModelFailed as failure:
            failures.append((f"model {number} of {len(models)} ({describe_classifier(model)})", failure.problem,
                             failure.cause))
        except AssertionError as error:
            failures.append((f"model {number} of {len(models)}", str(error).rstrip("."), None))
    if failures:
        raise AssertionError(failure_summary(name, len(models), failures[:MAX_SHOWN], len(failures), unit="models"))
    return None


class _ModelFailed(Exception):
    """One model's failure: what is wrong and the known mistake it matches (or ``None``)."""

    def __init__(self, problem, cause):
        super().__init__(problem)
        self.problem, self.cause = problem, cause


def _given(function, model):
    """What ``function`` is called with: the spec itself for the student's kernel (it travels as data), the Keras
    model for a function of this process (the solution, while the references are computed)."""
    return model if getattr(function, "runs_in_kernel", False) is True else model.keras_model()


def _check_one_model(function, model, rng, larger_inputs, structure, batch):
    keras = keras_module()
    name = _function_name(function)
    where = describe_classifier(model)
    height, width, channels = input_shape(model)
    x = rng.normal(size=(batch, height, width, channels)).astype(_float32)
    outputs = classifier_outputs(model, x)
    weights_before = [w.copy() for w in model.weights]
    # Every input is drawn before the model is judged: the next models' inputs never depend on this verdict.
    larger = [rng.normal(size=(batch, *size, channels)).astype(_float32)
              for size in larger_input_sizes(model, rng, larger_inputs)]
    try:
        converted = function(_given(function, model))
    except KernelCallFailed:
        raise
    except Exception as error:
        raise AssertionError(f"{name} raised {type(error).__name__}: {error} ({where})") from None
    # A model returned for a spec comes back as config and weights: the very model the solution returned for this
    # original passed every check below then, and its outputs were kept; any other is built in Keras now.
    known = isinstance(converted, ReturnedModel) and is_solution_answer(model, converted)
    if isinstance(converted, ReturnedModel) and not known:
        converted = _built(converted, where)
    if not known and not isinstance(converted, keras.Model):
        raise AssertionError(f"{name} returned {type(converted).__name__}, not a keras.Model ({where})")
    if structure:
        if not known:
            _check_structure(converted, model, name, where)
        _check_unchanged(model, weights_before, name, where)
    # The score maps are those of the original as it now is: a function that changed it is compared with what it
    # made of it (computed here, never kept: the change is the student's).
    changed = _weights_changed(model, weights_before)
    larger_expected = [window_scores(model.keras_model(), big) if changed else classifier_window_scores(model, big)
                       for big in larger]
    expected = outputs[:, None, None, :]
    actual = _run(converted, x, name, where)
    ran = [(x, actual)]
    problem = array_difference(actual, expected)
    if problem is not None:
        raise _ModelFailed(
            f"on inputs of the original size {x.shape} the returned model should give the original's "
            f"{outputs.shape} outputs as shape {expected.shape}: "
            f"{problem.replace('Keras gives', 'the original model gives')}", _diagnose(actual, model, x, False))
    for big, expected in zip(larger, larger_expected):
        actual = _run(converted, big, name, where)
        ran.append((big, actual))
        problem = array_difference(actual, expected)
        if problem is not None:
            stride = total_stride(model)
            raise _ModelFailed(
                f"on a larger input of shape {big.shape} the returned model should give the map of scores "
                f"{expected.shape}: entry [n, i, j] is the original model on the {(height, width)} window starting "
                f"at row i*{stride[0]}, column j*{stride[1]} (the total stride): "
                f"{problem.replace('Keras gives', 'the original model on that window gives')}",
                _diagnose(actual, model, big, True))
    if isinstance(converted, keras.Model) and not changed:
        remember(model, converted, ran)


def _built(returned, where):
    """The Keras model of a :class:`ReturnedModel`; one that cannot be built fails its model."""
    try:
        return returned.keras_model()
    except ValueError as error:
        raise AssertionError(f"{error} ({where})") from None


def check_rejects_classifier(function, model, layer_name, reason):
    """Require ``function(model)`` to raise ``ValueError`` (or ``TypeError``) naming the layer ``layer_name``
    (by its name or its class); ``reason`` says why that layer cannot be converted."""
    name = _function_name(function)
    model = as_spec(model)
    accepted = (layer_name, layer_kind(model, layer_name))
    try:
        result = function(_given(function, model))
    except (ValueError, TypeError) as error:
        message = str(error)
        if not any(word in message for word in accepted):
            raise AssertionError(
                f"{name} raised {type(error).__name__}({message!r}) for a model with {reason}; the message should "
                f"name the layer it cannot convert ({layer_name!r} or {accepted[1]}) "
                f"({describe_classifier(model)})"
            ) from None
        return None
    except BaseException as error:
        raise AssertionError(
            f"{name} raised {type(error).__name__} for a model with {reason}; raise ValueError naming the layer "
            f"{layer_name!r} ({describe_classifier(model)})"
        ) from None
    raise AssertionError(
        f"{name} returned {type(result).__name__} for a model with {reason}; it should raise ValueError naming "
        f"the layer {layer_name!r} ({describe_classifier(model)})"
    )


def check_rejects_classifiers(function, unconvertible):
    """:func:`check_rejects_classifier` for every ``(model, layer_name, reason)`` of ``unconvertible``, the models
    sent to the student's kernel in one round trip (grading)."""
    unconvertible = [(as_spec(model), layer_name, reason) for model, layer_name, reason in unconvertible]
    if getattr(function, "runs_in_kernel", False) is True:
        function.prefetch([(model,) for model, _, _ in unconvertible])
    for model, layer_name, reason in unconvertible:
        check_rejects_classifier(function, model, layer_name, reason)
