"""How values travel between the grader and a student's kernel (convcourse.grader.proxy, convcourse.student.callee):
small arrays inside the JSON, larger ones as ``.npy`` files, and whatever the kernel sends back read as data only."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from convcourse.grader.modelcheck import ModelPolicy
from convcourse.grader.proxy import CallFolders, KernelCallFailed
from convcourse.student import callee


# What the model tests below may send back: every built-in layer they use.
POLICY = ModelPolicy(layers=frozenset({"InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout",
                                       "BatchNormalization", "Activation"}))


@pytest.fixture
def folders(tmp_path):
    requests, results = tmp_path / "requests", tmp_path / "results"
    requests.mkdir()
    results.mkdir()
    return CallFolders(requests, results, model_policy=POLICY)


def _reply(folders, number, value_spec):
    (Path(folders.results) / f"{number}-result.json").write_text(
        json.dumps({"replies": [{"status": "returned", "value": value_spec}]}))


@pytest.mark.parametrize("array", [np.arange(12.0).reshape(3, 4), np.zeros((0, 3)), np.array(7, dtype=np.int32),
                                   np.ones((2, 2), dtype=np.float32)[:, ::-1]])
def test_a_small_array_travels_inline_and_comes_back_equal(folders, array):
    written = folders.write_request(1, [("corr2d", (array,), None)])
    assert written == ["1.json"], "a small array needs no file of its own"
    request = json.loads((Path(folders.requests) / "1.json").read_text())
    spec = request["calls"][0]["args"][0]
    assert "inline" in spec
    loaded = callee._load_argument(spec, folders.requests)
    assert loaded.dtype == array.dtype and loaded.shape == array.shape and np.array_equal(loaded, array)


def test_a_large_array_goes_as_a_file(folders):
    big = np.zeros(callee.INLINE_MAX_BYTES // 8 + 1)
    written = folders.write_request(2, [("corr2d", (big,), None)])
    assert len(written) == 2 and written[0].endswith(".npy")
    spec = json.loads((Path(folders.requests) / "2.json").read_text())["calls"][0]["args"][0]
    assert np.array_equal(callee._load_argument(spec, folders.requests), big)


def test_the_kernel_writes_results_inline_up_to_a_total(tmp_path):
    writer = callee._Writer(3, str(tmp_path))
    chunk = np.zeros(callee.INLINE_MAX_BYTES // 8)
    specs = [writer.encode(chunk) for _ in range(callee.INLINE_TOTAL_BYTES // chunk.nbytes + 2)]
    assert all("inline" in spec for spec in specs[:-2])
    assert all("file" in spec for spec in specs[-2:]), "past the total, arrays go to files"


def _inline(data, dtype="<f8", shape=None):
    return {"kind": "array", "dtype": dtype, "shape": shape if shape is not None else [len(data) // 8],
            "inline": base64.b64encode(data).decode()}


@pytest.mark.parametrize("spec, why", [
    (_inline(b"\0" * 8, dtype="|O"), "object arrays would unpickle"),
    (_inline(b"\0" * 8, dtype="|V8"), "no structured or void dtypes"),
    (_inline(b"\0" * 16, dtype="<U4"), "no strings"),
    (_inline(b"\0" * 8, shape=[2]), "fewer bytes than the shape needs"),
    (_inline(b"\0" * 24, shape=[2]), "more bytes than the shape needs"),
    (_inline(b"\0" * 8, shape=[-1]), "negative size"),
    (_inline(b"\0" * 8, shape="8"), "not a list"),
    (_inline(b"", shape=[1 << 22, 1 << 22, 1 << 20]), "a product that wraps around in 64 bits"),
    (dict(_inline(b"\0" * 8), inline="not base64!"), "not base64"),
])
def test_the_grader_refuses_a_malformed_inline_array(folders, spec, why):
    _reply(folders, 4, spec)
    with pytest.raises(KernelCallFailed):
        folders.read_replies(4, 1)


def test_the_grader_reads_a_well_formed_inline_reply(folders):
    _reply(folders, 5, callee.inline_spec(np.arange(6, dtype=np.int64).reshape(2, 3), [0]))
    ((status, value, mutated),) = folders.read_replies(5, 1)
    assert status == "returned" and not mutated
    assert value.dtype == np.int64 and np.array_equal(value, np.arange(6).reshape(2, 3))


def _classifier(compiled=False):
    import keras

    keras.utils.set_random_seed(3)
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    model = keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(x)))
    model.layers[2].set_weights([np.full(3, 0.5), np.full(3, -0.1), np.full(3, 0.2), np.full(3, 2.0)])
    if compiled:
        model.compile(optimizer=keras.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    return model


def _same_model(rebuilt, model):
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype(np.float32)
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert all(np.array_equal(a, b) for a, b in zip(rebuilt.get_weights(), model.get_weights(), strict=True))
    assert np.array_equal(np.asarray(rebuilt(x, training=False)), np.asarray(model(x, training=False)))


def test_a_model_reaches_the_kernel_as_its_config_and_weights_uncompiled(folders):
    model = _classifier(compiled=True)
    written = folders.write_request(6, [("to_fully_convolutional", (model,), None)])
    spec = json.loads((Path(folders.requests) / "6.json").read_text())["calls"][0]["args"][0]
    assert spec["kind"] == "model" and not any(name.endswith(".keras") for name in written)
    rebuilt = callee._load_argument(spec, folders.requests)
    _same_model(rebuilt, model)
    assert not rebuilt.compiled, "the kernel gets the architecture and weights, as load_model(compile=False)"


def test_a_returned_model_is_rebuilt_by_the_grader_with_its_compile_settings(folders, tmp_path):
    model = _classifier(compiled=True)
    _reply(folders, 7, callee._Writer(7, folders.results).encode(model))
    ((status, rebuilt, _),) = folders.read_replies(7, 1)
    assert status == "returned"
    _same_model(rebuilt, model)
    assert rebuilt.get_compile_config() == model.get_compile_config()


def test_the_grader_refuses_a_lambda_model_without_running_its_code(folders, tmp_path):
    import keras

    marker = tmp_path / "lambda-ran"
    inputs = keras.Input((3,))
    touch = keras.layers.Lambda(lambda x, path: (open(path, "w").close(), x)[1], arguments={"path": str(marker)})
    model = keras.Model(inputs, touch(inputs))
    marker.unlink()  # building the model ran the function once, here; the grader must not run it again
    _reply(folders, 8, callee._Writer(8, folders.results).encode(model))
    with pytest.raises(ValueError, match="refused before Keras saw it: the model (holds a function|uses a Lambda layer)"):
        folders.read_replies(8, 1)
    assert not marker.exists(), "the grader ran code that came in a returned model"


@pytest.mark.parametrize("change, why", [
    (lambda spec: spec["weights"].pop(), "a weight array missing"),
    (lambda spec: spec["weights"].__setitem__(0, callee.inline_spec(np.zeros((2, 2)), [0])), "a weight of the wrong shape"),
    (lambda spec: spec.__setitem__("config", "Dense"), "a config that is no JSON object"),
    (lambda spec: spec["config"].__setitem__("class_name", "Dense"), "a layer, not a model"),
    (lambda spec: spec["config"].__setitem__("module", "os"), "a class from outside Keras"),
])
def test_the_grader_refuses_a_malformed_model_with_a_clear_error(folders, change, why):
    spec = callee._Writer(9, folders.results).encode(_classifier())
    change(spec)
    _reply(folders, 9, spec)
    with pytest.raises(ValueError, match="refused before Keras saw it|safe mode"):
        folders.read_replies(9, 1)


@pytest.mark.parametrize("weights", [[{"kind": "json", "value": 1}], "weights", [None]])
def test_the_grader_refuses_model_weights_that_are_not_arrays(folders, weights):
    spec = dict(callee._Writer(10, folders.results).encode(_classifier()), weights=weights)
    _reply(folders, 10, spec)
    with pytest.raises(KernelCallFailed):
        folders.read_replies(10, 1)


@pytest.mark.parametrize("kilobytes", [8, 48, 56, 64])
def test_a_stand_in_request_fits_the_prompt_the_grader_reads(tmp_path, kilobytes):
    # A stand-in's arguments travel in an input prompt, which the grader reads up to STAND_IN_PROMPT_BYTES: an
    # array of 48-64 KB inlined as base64 used to run past it, and the call broke.
    writer = callee._Writer(4, str(tmp_path))
    stand_in = callee._StandIn("same_padding", writer, str(tmp_path))
    arrays = [np.ones(kilobytes * 1024 // 8), np.ones((3, 3))]
    request = stand_in.request(arrays)
    assert len(request) <= callee.STAND_IN_PROMPT_BYTES
    specs = json.loads(request)["args"]
    assert all(np.array_equal(callee._load_argument(spec, str(tmp_path)), array)
               for spec, array in zip(specs, arrays, strict=True))
    assert writer.inlined == [0], "the call's own inline budget is untouched"


@pytest.mark.parametrize("builtin", ["Exception", "ValueError", "OSError-not-replayed", "ForbiddenCallError"])
def test_any_exception_a_student_raised_is_replayed(builtin):
    # An OSError (not one of the replayed builtins) arrives as "Exception": replaying it as a class with bases
    # (Exception, StudentRaised) failed with "Cannot create a consistent method resolution order".
    from convcourse.grader.proxy import StudentRaised, _replayed_exception

    error = _replayed_exception({"builtin": builtin, "message": "no space left", "type": "OSError"})
    assert isinstance(error, Exception) and isinstance(error, StudentRaised)
    assert str(error) == "no space left" and error.student_type == "OSError"
