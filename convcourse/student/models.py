"""The visible checks of the exercises whose functions build Keras models (05's CNN and generator).

Run in a student's notebook (the kit's Keras requirements) and, when graded, in the grader, where the function is
a stand-in whose model comes back from the student's kernel. :func:`seeded_call` builds a model after
``keras.utils.set_random_seed`` in whichever process builds it, as the contract's training protocol asks.
"""

import keras as _keras
import numpy as _np

from convcourse.student.pristine import (  # noqa: A004 (shadowing the builtins is the point)
    AssertionError, Exception, any, bool, float, getattr, int, isinstance, type,
)

_Model = _keras.Model
_Conv2D = _keras.layers.Conv2D
_InputLayer = _keras.layers.InputLayer
_asarray = _np.asarray
_isfinite = _np.isfinite
_abs = _np.abs
_argmax = _np.argmax
_default_rng = _np.random.default_rng

MODEL_SEED = 0  # the contract: keras.utils.set_random_seed(0) right before build_digits_cnn()
DIGITS_MAX_PARAMS = 10_000
GENERATOR_LATENT_DIM = 64
IMAGE_SHAPE = (28, 28, 1)


def seeded_call(function, seed, *args):
    """``function(*args)`` right after ``keras.utils.set_random_seed(seed)`` in the process that builds the model
    (the student's kernel when graded: the grader's stand-in passes the seed along)."""
    if getattr(function, "runs_in_kernel", False) is True:
        return function.call(*args, seed=seed)
    _keras.utils.set_random_seed(seed)
    return function(*args)


def _build(build, args, seed=MODEL_SEED):
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


def _total_stride(model):
    rows = cols = 1
    for layer in flat_layers(model):
        strides = getattr(layer, "strides", None)
        if strides is not None and not isinstance(layer, _keras.layers.Dense):
            rows, cols = rows * int(strides[0]), cols * int(strides[1])
    return rows, cols


def check_fully_convolutional_example(function, model, larger):
    """The visible check of 04: ``function(model)`` returns a ``keras.Model`` with input ``(None, None, C)`` and no
    ``Dense`` layer, leaves ``model`` unchanged, gives ``model``'s scores (as ``(N, 1, 1, units)``) on its own
    ``(H, W)`` input, and on the ``larger`` batch the score of every ``(H, W)`` window at the network's total
    stride — each computed here by running ``model`` itself."""
    name = getattr(function, "__name__", "the function")
    height, width, channels = (int(v) for v in model.inputs[0].shape[1:])
    x = _default_rng(0).normal(size=(2, height, width, channels)).astype("float32")
    before = _asarray(model(x, training=False))
    converted = function(model)
    if not isinstance(converted, _Model):
        raise AssertionError(f"{name} returned {type(converted).__name__}, not a keras.Model")
    if _asarray(model(x, training=False)).tolist() != before.tolist():
        raise AssertionError(f"{name} changed the model it was given: build a new one and copy the weights into it")
    declared = tuple(converted.inputs[0].shape)
    if declared[1:3] != (None, None) or declared[3] != channels:
        raise AssertionError(f"the returned model's input has shape {declared}; it should be (None, None, None, "
                             f"{channels}) so that it takes images of any size")
    dense = [layer.name for layer in flat_layers(converted) if isinstance(layer, _keras.layers.Dense)]
    if dense:
        raise AssertionError(f"the returned model still has Dense layers {dense}: replace each by a Conv2D")
    got = _run(converted, x, f"a batch of shape {x.shape}")
    # Relative to the scores' size: float32 convolutions and matrix products round differently (JAX more than
    # TensorFlow), and the chapter's scores are in the thousands.
    tolerance = 1e-4 * max(1.0, float(_abs(before).max()))
    if got.shape != (2, 1, 1, before.shape[-1]) or float(_abs(got.reshape(before.shape) - before).max()) > tolerance:
        raise AssertionError(f"on {height}x{width} images the returned model gives shape {got.shape}; the original's "
                             f"scores {before.shape} reshaped to (2, 1, 1, {before.shape[-1]}) were expected")
    stride_rows, stride_cols = _total_stride(model)
    rows = (larger.shape[1] - height) // stride_rows + 1
    cols = (larger.shape[2] - width) // stride_cols + 1
    windows = [[_asarray(model(larger[:, i * stride_rows:i * stride_rows + height,
                                      j * stride_cols:j * stride_cols + width], training=False))
                for j in range(cols)] for i in range(rows)]
    expected = _np.stack([_np.stack(row, axis=1) for row in windows], axis=1)
    got = _run(converted, larger, f"a batch of shape {larger.shape}")
    if got.shape != expected.shape:
        raise AssertionError(f"on a batch of shape {larger.shape} the returned model gives shape {got.shape}; the "
                             f"map of scores of every window at total stride {(stride_rows, stride_cols)} has "
                             f"shape {expected.shape}")
    worst = float(_abs(got - expected).max())
    if worst > 1e-3 * max(1.0, float(_abs(expected).max())):
        raise AssertionError(f"on a batch of shape {larger.shape} the score map differs from the original model run "
                             f"on each window by up to {worst:.4g}")


def warn_if_below_required_accuracy(build_digits_cnn):
    """05's self-check: train ``build_digits_cnn()`` exactly as the hidden test does
    (:func:`convcourse.student.digits.train_as_contract`) and print a warning when its test accuracy is below what
    the hidden test asks. Prints nothing otherwise. When graded, the hidden test itself measures the accuracy, so
    nothing is trained here."""
    from convcourse.student import digits

    if getattr(build_digits_cnn, "runs_in_kernel", False) is True:
        return None
    accuracy = digits.train_as_contract(build_digits_cnn)[2]
    if accuracy < digits.REQUIRED_ACCURACY:
        backend = _keras.backend.backend()
        note = ("" if backend == "tensorflow" else
                f" (measured here on Keras' {backend} backend; the grader trains on TensorFlow, which may differ a "
                "little)")
        print(f"Warning: trained as the hidden test trains it, this model reaches {accuracy:.4f} test accuracy{note}; "
              f"the hidden test asks for at least {digits.REQUIRED_ACCURACY}, so as it is it would lose that test's "
              "points. Try more filters, another optimizer or learning rate.")
