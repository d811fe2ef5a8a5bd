"""The checks of assignment 05: integer pairs from a hand-written function, and Keras models a student builds.

* :func:`check_pair_example` and :func:`check_pair_results` call a hand-written function (``receptive_field``)
  under the guard, as :mod:`convcourse.checks` does, and require a pair of ints equal to the reference's.
* The model checks call a ``build_*`` function *outside* the guard (building a Keras model is the point) and
  check what the contract asks of the model it returns, one aspect per function, cheap structural checks first:
  :func:`check_digits_cnn_structure` never trains; :func:`check_digits_cnn_accuracy` trains only a model whose
  structure is right, exactly as the contract says (:mod:`convcourse.digits`).

Every check returns ``None`` or raises ``AssertionError`` with a message that says what to change. Like
:mod:`convcourse.checks`, the names the checks rely on are bound when this module is first imported (the
locked setup cell of the assignment), so later patches by student cells do not reach them.
"""

import keras as _keras
import numpy as _np

from convcourse.assignments.a05_cnn_in_practice import digits as _digits
from convcourse.grader.cases import Case
from convcourse.grader.checks import MAX_SHOWN, failure_summary, prefetch
from convcourse.grader.proxy import KernelCallFailed, seeded_call
from convcourse.student.checks import call_graded
from convcourse.student.pristine import (  # noqa: A004 (shadowing the builtins is the point)
    AssertionError,
    Exception,
    all,
    any,
    bool,
    enumerate,
    float,
    getattr,
    int,
    isinstance,
    len,
    list,
    next,
    tuple,
    type,
    zip,
)

_integer = _np.integer
_asarray = _np.asarray
_isfinite = _np.isfinite
_abs = _np.abs
_argmax = _np.argmax
_nanmin = _np.nanmin
_nanmax = _np.nanmax
_default_rng = _np.random.default_rng
_ndarray = _np.ndarray
_Model = _keras.Model
_Conv2D = _keras.layers.Conv2D
_Conv2DTranspose = _keras.layers.Conv2DTranspose
_Dense = _keras.layers.Dense
_Reshape = _keras.layers.Reshape
_InputLayer = _keras.layers.InputLayer
_UP_SAMPLING = (_keras.layers.UpSampling2D, _keras.layers.Resizing)

DIGITS_MAX_PARAMS = 10_000
DIGITS_MIN_ACCURACY = 0.95
GENERATOR_MAX_PARAMS = 500_000
GENERATOR_LATENT_DIM = 64
IMAGE_SHAPE = (28, 28, 1)
NOISE_SCALES = (1.0, 100.0, 10_000.0)


# --- pairs of ints from a hand-written function -------------------------------------------------------------

def _as_int_pair(value):
    """``value`` as a tuple of two Python ints, or ``None`` if it is not a pair of integers."""
    if isinstance(value, _ndarray):
        if value.shape != (2,) or value.dtype.kind not in "iu":
            return None
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None
    if not all(isinstance(v, (int, _integer)) and not isinstance(v, bool) for v in value):
        return None
    return (int(value[0]), int(value[1]))


def _call_on_copy(function, names, args):
    """Call ``function`` under the guard on a deep copy of list arguments; fail if it changed them."""
    copies = tuple(_deep_copy(arg) for arg in args)
    result = call_graded(function, Case(tuple(names), copies))
    for name, before, after in zip(names, args, copies):
        if _deep_copy(after) != before:
            raise AssertionError(
                f"{getattr(function, '__name__', 'the function')} changed its input {name!r} from {before!r} to "
                f"{after!r}. A graded function must not modify its arguments: read the list, do not pop, sort, "
                "reverse or assign into it."
            )
    return result


def _deep_copy(value):
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_deep_copy(v) for v in value)
    return value


def check_pair_example(function, names, args, expected):
    """The visible tests' check: ``function(*args)`` must return the pair of ints ``expected``."""
    name = getattr(function, "__name__", "the function")
    actual = _call_on_copy(function, names, args)
    pair = _as_int_pair(actual)
    call = f"{name}({', '.join(f'{n}={a!r}' for n, a in zip(names, args))})"
    if pair is None:
        raise AssertionError(f"{call} returned {actual!r}; return a pair of ints, for example (5, 1)")
    if pair != tuple(expected):
        raise AssertionError(f"{call} returned {pair}, expected {tuple(expected)}")


def check_pair_results(function, cases, reference, mistakes=None, what=("size", "jump")):
    """Require ``function(*case.args)`` to return the pair of ints ``reference(*case.args)`` for every case.

    ``cases`` are :class:`convcourse.cases.Case` objects; ``mistakes`` maps a description to the reference
    computed with that mistake. Every case is tried (in one batch when grading); a failure counts the failing
    and passing configurations and shows the first few, naming a known mistake where the result matches it.
    """
    name = getattr(function, "__name__", "the function")
    expected_pairs = [tuple(reference(*_deep_copy(case.args))) for case in cases]
    prefetch(function, cases)
    failures = []
    for number, (case, expected) in enumerate(zip(cases, expected_pairs), start=1):
        call = f"configuration {number} of {len(cases)}: {name}({case.describe()})"
        try:
            actual = _call_on_copy(function, case.names, case.args)
        except (AssertionError, KernelCallFailed):
            raise
        except Exception as error:  # noqa: BLE001 (a student's exception is that configuration's verdict)
            failures.append((call, f"it raised {type(error).__name__}: {str(error)[:300]}", None))
            continue
        pair = _as_int_pair(actual)
        if pair is None:
            failures.append((call, f"it returned {actual!r}; return a pair of ints ({', '.join(what)})", None))
        elif pair != expected:
            wrong = [f"{label} {got} (Keras' gradient gives {want})"
                     for label, got, want in zip(what, pair, expected) if got != want]
            cause = None
            if len(failures) < MAX_SHOWN:
                cause = next((description for description, mistaken in (mistakes or {}).items()
                              if tuple(mistaken(*_deep_copy(case.args))) == pair), None)
            failures.append((call, f"it returned {pair}: {' and '.join(wrong)}", cause))
    if failures:
        raise AssertionError(failure_summary(name, len(cases), failures[:MAX_SHOWN], len(failures)))


# --- Keras models a student builds ------------------------------------------------------------------------------

def _build(build, args, seed=_digits.MODEL_SEED):
    name = getattr(build, "__name__", "the function")
    model = seeded_call(build, seed, *args)
    if not isinstance(model, _Model):
        raise AssertionError(f"{name}() returned {type(model).__name__}, not a keras.Model")
    return model


def flat_layers(model):
    """The layers of ``model`` in order, nested models opened, input layers left out."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, _Model):
            layers += flat_layers(layer)
        elif not isinstance(layer, _InputLayer):
            layers.append(layer)
    return layers


def _run(model, batch, what):
    try:
        return _asarray(model(batch, training=False))
    except Exception as error:
        raise AssertionError(f"the model cannot take {what}: {type(error).__name__}: {error}") from None


def _declared_input_shape(model):
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None  # an unbuilt Sequential: its input shape is fixed by the first batch it sees
    if not inputs:
        return None
    return tuple(inputs[0].shape)


def check_digits_cnn_structure(build_digits_cnn):
    """A compiled ``keras.Model`` for ``(N, 8, 8, 1)`` images, 10 softmax outputs, at most 10,000 parameters and
    at least one ``Conv2D`` layer. Builds the model, never trains it."""
    model = _build(build_digits_cnn, ())
    declared = _declared_input_shape(model)
    if declared is not None and declared[1:] != (8, 8, 1):
        raise AssertionError(f"the model's input has shape {declared}; the digits are (None, 8, 8, 1)")
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise AssertionError(
            "the model is not compiled: call model.compile(optimizer=..., loss='sparse_categorical_crossentropy', "
            "metrics=['accuracy']) before returning it"
        )
    rng = _default_rng(5)
    for scale in (1.0, 10.0):
        batch = (rng.uniform(size=(4, 8, 8, 1)) * scale).astype("float32")
        output = _run(model, batch, "a batch of shape (4, 8, 8, 1)")
        if output.shape != (4, 10):
            raise AssertionError(f"on a batch of shape (4, 8, 8, 1) the model returns shape {output.shape}, "
                                 "not (4, 10): one probability per digit")
        sums = output.sum(axis=1)
        if not bool(_isfinite(output).all()) or float(output.min()) < 0.0 or float(_abs(sums - 1.0).max()) > 1e-3:
            raise AssertionError(
                f"the outputs are not softmax probabilities (smallest {float(output.min()):.3g}, a row sums to "
                f"{float(sums[_argmax(_abs(sums - 1.0))]):.4g}): end with Dense(10, activation='softmax')"
            )
    params = int(model.count_params())
    if params > DIGITS_MAX_PARAMS:
        raise AssertionError(f"the model has {params:,} parameters; the budget is {DIGITS_MAX_PARAMS:,}")
    if not any(isinstance(layer, _Conv2D) for layer in flat_layers(model)):
        kinds = ", ".join(type(layer).__name__ for layer in flat_layers(model))
        raise AssertionError(f"the model has no Conv2D layer (its layers: {kinds}); a CNN needs at least one")


def check_digits_cnn_accuracy(build_digits_cnn, minimum=DIGITS_MIN_ACCURACY):
    """Trained exactly as the contract says (:func:`convcourse.digits.train_as_contract`), the model reaches
    ``minimum`` test accuracy. The structure is checked first, so a model out of budget is never trained."""
    try:
        check_digits_cnn_structure(build_digits_cnn)
    except AssertionError as problem:
        raise AssertionError(f"the accuracy is measured only for a model that meets the contract, and {problem}") from None
    try:
        _, _, accuracy = _digits.train_as_contract(build_digits_cnn)
    except Exception as error:
        raise AssertionError(
            f"training as the contract says failed with {type(error).__name__}: {error}\n(the labels are integers "
            "0-9: use loss='sparse_categorical_crossentropy')"
        ) from None
    if accuracy < minimum:
        raise AssertionError(
            f"after model.fit(X_train, y_train, epochs={_digits.EPOCHS}, batch_size={_digits.BATCH_SIZE}) the test "
            f"accuracy is {accuracy:.4f}, below {minimum}; try more filters, another optimizer or learning rate"
        )


def _generated(model, latent_dim, scale=1.0, batch=3):
    noise = (_default_rng(7).normal(size=(batch, latent_dim)) * scale).astype("float32")
    return _run(model, noise, f"noise of shape {noise.shape}")


def check_generator_shape(build_generator, latent_dims=(GENERATOR_LATENT_DIM, 100)):
    """``build_generator()`` (default ``latent_dim``) and ``build_generator(latent_dim)`` map noise
    ``(N, latent_dim)`` to images ``(N, 28, 28, 1)``."""
    for latent_dim in latent_dims:
        args = () if latent_dim == GENERATOR_LATENT_DIM else (latent_dim,)
        model = _build(build_generator, args)
        call = f"build_generator({', '.join(str(a) for a in args)})"
        images = _generated(model, latent_dim)
        if images.shape != (3,) + IMAGE_SHAPE:
            raise AssertionError(f"{call} maps noise of shape (3, {latent_dim}) to shape {images.shape}; "
                                 f"the contract asks for {(3,) + IMAGE_SHAPE}")


def check_generator_range(build_generator):
    """Every generated value lies in ``[-1, 1]``, also for noise scaled by 100 and by 10,000."""
    model = _build(build_generator, ())
    for scale in NOISE_SCALES:
        images = _generated(model, GENERATOR_LATENT_DIM, scale)
        if not bool(_isfinite(images).all()) or float(_abs(images).max()) > 1.0 + 1e-6:
            raise AssertionError(
                f"with noise * {scale:g} the images reach values from {float(_nanmin(images)):.4g} to "
                f"{float(_nanmax(images)):.4g}; they must stay in [-1, 1] (end with activation='tanh')"
            )


def check_generator_layers(build_generator):
    """``Dense`` first, then ``Reshape``, then ``Conv2DTranspose`` layers, at least one with strides ``(2, 2)``,
    and no other up-sampling layer (``UpSampling2D``, ``Resizing``)."""
    model = _build(build_generator, ())
    _generated(model, GENERATOR_LATENT_DIM)
    layers = flat_layers(model)
    kinds = [type(layer).__name__ for layer in layers]
    listing = " -> ".join(kinds)
    up_sampling = [kind for layer, kind in zip(layers, kinds) if isinstance(layer, _UP_SAMPLING)]
    if up_sampling:
        raise AssertionError(f"the generator up-samples with {up_sampling[0]} ({listing}); up-sample with "
                             "Conv2DTranspose(..., strides=2) instead")

    def first(kind):
        return next((i for i, layer in enumerate(layers) if isinstance(layer, kind)), None)

    dense, reshape, transpose = first(_Dense), first(_Reshape), first(_Conv2DTranspose)
    if transpose is None:
        raise AssertionError(f"the generator has no Conv2DTranspose layer ({listing})")
    if dense is None or reshape is None or not dense < reshape < transpose:
        raise AssertionError(f"the layers must go Dense -> Reshape -> Conv2DTranspose; yours: {listing}")
    strides = [tuple(layer.strides) for layer in layers if isinstance(layer, _Conv2DTranspose)]
    if (2, 2) not in strides:
        raise AssertionError(f"no Conv2DTranspose layer has strides=(2, 2) (their strides: {strides}); "
                             "up-sampling by 2 is what stride 2 does")


def check_generator_budget(build_generator):
    """``build_generator()`` has at most 500,000 parameters."""
    model = _build(build_generator, ())
    _generated(model, GENERATOR_LATENT_DIM)
    params = int(model.count_params())
    if params > GENERATOR_MAX_PARAMS:
        raise AssertionError(f"build_generator() has {params:,} parameters; the budget is {GENERATOR_MAX_PARAMS:,}")
