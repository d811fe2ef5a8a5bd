"""The checks of assignment 05: integer pairs from a hand-written function, and Keras models a student builds.

* :func:`check_pair_results` calls a hand-written function (``receptive_field``)
  under the guard, as :mod:`convcourse.checks` does, and require a pair of ints equal to the reference's.
* The model checks call a ``build_*`` function *outside* the guard (building a Keras model is the point) and
  check what the contract asks of the model it returns, one aspect per function, cheap structural checks first:
  :func:`check_digits_cnn_structure` never trains; :func:`check_digits_cnn_accuracy` trains only a model whose
  structure is right, exactly as the contract says (:mod:`convcourse.digits`).

Every check returns ``None`` or raises ``AssertionError`` with a message that says what to change. Like
:mod:`convcourse.checks`, the names the checks rely on are bound when this module is first imported (the
locked setup cell of the assignment), so later patches by student cells do not reach them.
"""

import hashlib as _hashlib
import inspect as _inspect
import os as _os

import keras as _keras
import numpy as _np

from convcourse.student import digits as _digits
from convcourse.grader.cases import Case
from convcourse.grader.checks import (
    MAX_SHOWN,
    cached_on_disk,
    computing_ahead,
    failure_summary,
    keep_on_disk,
    prefetch,
    reference_value,
)
from convcourse.grader.modelspec import ModelSpec
from convcourse.grader.proxy import KernelCallFailed
from convcourse.student.checks import call_graded
from convcourse.student.models import (
    GENERATOR_LATENT_DIM, _build, _generated, check_digits_cnn_structure, seeded_call,
    flat_layers,
)
from convcourse.student.pristine import (  # noqa: A004 (shadowing the builtins is the point)
    AssertionError,
    Exception,
    all,
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

DIGITS_MIN_ACCURACY = _digits.REQUIRED_ACCURACY
GENERATOR_MAX_PARAMS = 500_000
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


def check_pair_results(function, cases, reference, mistakes=None, what=("size", "jump")):
    """Require ``function(*case.args)`` to return the pair of ints ``reference(*case.args)`` for every case.

    ``cases`` are :class:`convcourse.cases.Case` objects; ``mistakes`` maps a description to the reference
    computed with that mistake. Every case is tried (in one batch when grading); a failure counts the failing
    and passing configurations and shows the first few, naming a known mistake where the result matches it.
    """
    name = getattr(function, "__name__", "the function")
    expected_pairs = [tuple(reference_value(reference, case)) for case in cases]
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











def trained_accuracy(build_digits_cnn):
    """The test accuracy of the model ``build_digits_cnn()`` returns, trained as the contract says.

    Built in a student's kernel, the model is trained here, from the contract's seed set again right before
    ``fit`` (so that its training never depends on what this grading process ran before). An identical model then
    trains identically: the accuracy is kept in the reference cache under the model's architecture and compile
    settings (names aside: :meth:`ModelSpec.canonical_digest`), its initial weights, the protocol's source and the
    Keras version, and a class of identical models is trained once. While the references are computed
    (:mod:`convcourse.grader.precompute`), the solution's model is trained that way too, as the grading process's
    copy of it, so that a class of the solution's models is trained at release, not by its first notebook."""
    kernel = getattr(build_digits_cnn, "runs_in_kernel", False) is True
    if not kernel and not computing_ahead():
        return _digits.train_as_contract(build_digits_cnn)[2]
    model = seeded_call(build_digits_cnn, _digits.MODEL_SEED)
    if not kernel:  # what a grading process holds: the model rebuilt from its config and weights
        sent = ModelSpec.from_keras(model)
        model = ModelSpec(sent.config, sent.weights).keras_model()
    folder = _os.environ.get("CONVCOURSE_REFERENCE_CACHE")
    key = f"trained-{_model_digest(model)}"
    kept = cached_on_disk(folder, key) if folder else None
    if kept is not None:
        return float(kept)
    _keras.utils.set_random_seed(_digits.MODEL_SEED)
    _, accuracy = _digits.fit_as_contract(model)
    if folder:
        keep_on_disk(folder, key, accuracy)
    return accuracy


def _model_digest(model):
    """The model's canonical digest (its config, compile settings included, and weights), the training protocol's
    source and the Keras version."""
    digest = _hashlib.sha256()
    for part in (ModelSpec.from_keras(model).canonical_digest(), _inspect.getsource(_digits), _keras.__version__):
        digest.update(str(part).encode() + b"\0")
    return digest.hexdigest()


def check_digits_cnn_accuracy(build_digits_cnn, minimum=DIGITS_MIN_ACCURACY):
    """Trained exactly as the contract says (:func:`convcourse.digits.train_as_contract`), the model reaches
    ``minimum`` test accuracy. The structure is checked first, so a model out of budget is never trained."""
    try:
        check_digits_cnn_structure(build_digits_cnn)
    except AssertionError as problem:
        raise AssertionError(f"the accuracy is measured only for a model that meets the contract, and {problem}") from None
    try:
        accuracy = trained_accuracy(build_digits_cnn)
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
