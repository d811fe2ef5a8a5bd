"""Known mistakes of assignment 04.

``dense_to_conv_kernel_mistakes()`` maps a description to the kernel that mistake returns for
``(dense_kernel, feature_shape, data_format)`` (``None`` where it returns the right one). The hidden check judges a
kernel by what ``Conv2D`` computes with it (:mod:`convcourse.assignments.a04_fully_convolutional.checks`); these
kernels are the visible examples' mistaken results.

The catalogue (``dense_to_conv_kernel_catalogue()``, ``to_fully_convolutional_catalogue()``) holds whole wrong
implementations, one mistake each, and :data:`CAUGHT_BY` the test cells each of them, and each wrong submission of
``tests/submissions/``, failed before the hidden tests were cut to their chosen cases: they must fail them still
(``tests/assignments/test_a04_catalogue.py``; the cases were chosen by ``select_cases.py``). The catalogue is
compiled from this file's source when graded (``select_cases.catalogue``), as a student's answer would be.
"""

import numpy as np


def dense_to_conv_kernel_mistakes():
    """Mistakes of the flatten order: rows read in the other order, or the channels-first layout kept."""

    def order_ignored(dense_kernel, feature_shape, data_format="channels_last"):
        if data_format != "channels_first":
            return None
        channels, height, width = feature_shape
        return np.asarray(dense_kernel, dtype=float).reshape(height, width, channels, -1)

    def layout_kept(dense_kernel, feature_shape, data_format="channels_last"):
        if data_format != "channels_first":
            return None
        return np.asarray(dense_kernel, dtype=float).reshape(*feature_shape, -1)

    return {
        "the rows are read in (H, W, C) order (c fastest); with data_format='channels_first' Flatten read the map "
        "in (C, H, W) order (w fastest)": order_ignored,
        "the kernel keeps the channels-first layout (C, H, W, units); a Conv2D kernel is (H, W, C, units)":
            layout_kept,
    }


# ----------------------------------------------------------------------------------------------
# The catalogue: whole wrong implementations, one mistake each
# ----------------------------------------------------------------------------------------------

def _validated(dense_kernel, feature_shape, data_format):
    dense_kernel = np.asarray(dense_kernel, dtype=float)
    if dense_kernel.ndim != 2:
        raise ValueError(f"dense_kernel must be 2-D, got shape {dense_kernel.shape}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    if len(feature_shape) != 3 or int(np.prod(feature_shape)) != dense_kernel.shape[0]:
        raise ValueError(f"feature_shape {feature_shape!r} does not fit dense_kernel {dense_kernel.shape}")
    return dense_kernel


def _reads(read, layout="hwc"):
    """A ``dense_to_conv_kernel`` that reads the rows in the axis order ``read(data_format)`` (letters h, w, c)
    and returns the axes in the order ``layout(data_format)``."""

    def dense_to_conv_kernel(dense_kernel, feature_shape, data_format="channels_last"):
        dense_kernel = _validated(dense_kernel, feature_shape, data_format)
        sizes = dict(zip("chw" if data_format == "channels_first" else "hwc", feature_shape))
        order, axes = read(data_format), layout if isinstance(layout, str) else layout(data_format)
        kernel = dense_kernel.reshape(*(sizes[axis] for axis in order), dense_kernel.shape[1])
        return kernel.transpose(*(order.index(axis) for axis in axes), 3)

    return dense_to_conv_kernel


def dense_to_conv_kernel_catalogue():
    """``{description: function}``: wrong ``dense_to_conv_kernel`` implementations, one mistake each."""
    right = {"channels_last": "hwc", "channels_first": "chw"}

    def in_place(dense_kernel, feature_shape, data_format="channels_last"):
        _validated(dense_kernel, feature_shape, data_format)
        dense_kernel.shape = (*feature_shape, dense_kernel.shape[1])
        return dense_kernel.transpose(1, 2, 0, 3) if data_format == "channels_first" else dense_kernel

    def accepts_anything(dense_kernel, feature_shape, data_format="channels_last"):
        dense_kernel = np.asarray(dense_kernel, dtype=float)
        units = dense_kernel.shape[-1]
        if data_format == "channels_first":
            channels, height, width = feature_shape
            return dense_kernel.reshape(channels, height, width, units).transpose(1, 2, 0, 3)
        return np.resize(dense_kernel, (*feature_shape, units))

    def integers(dense_kernel, feature_shape, data_format="channels_last"):
        return _reads(right.get)(dense_kernel, feature_shape, data_format).astype(int)

    return {
        "channels-first rows read in (H, W, C) order": _reads(lambda data_format: "hwc"),
        "the channels-first layout (C, H, W, units) kept": _reads(right.get, right.get),
        "rows always read in (C, H, W) order": _reads(lambda data_format: "chw"),
        "H and W swapped in the kernel": _reads(right.get, "whc"),
        "rows read with W before H": _reads(lambda data_format: "whc" if data_format == "channels_last" else "cwh"),
        "the dense kernel returned unchanged, (H*W*C, units)": lambda dense_kernel, feature_shape,
        data_format="channels_last": _validated(dense_kernel, feature_shape, data_format).copy(),
        "the caller's array reshaped in place": in_place,
        "no argument validated": accepts_anything,
        "an integer kernel": integers,
    }


def _converter(activation="all", flatten_order="hwc", batch_norm=True, later_dense="conv",
               change_original=False, refuse=True, fixed_input=False, bias=True, copy_weights=True, channels=None):
    """A ``to_fully_convolutional`` written like the solution, with the mistakes its arguments ask for."""
    from convcourse.grader.oracle import keras_module

    keras = keras_module()
    reshape_first = {"hwc": lambda k, h, w, c: k.reshape(h, w, c, -1),
                     "chw": lambda k, h, w, c: k.reshape(c, h, w, -1).transpose(1, 2, 0, 3),
                     "whc": lambda k, h, w, c: k.reshape(w, h, c, -1).transpose(1, 0, 2, 3)}[flatten_order]

    def to_fully_convolutional(model):
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        flatten_at = next(i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Flatten))
        features, head = layers[:flatten_at], layers[flatten_at + 1:]
        if refuse:
            for layer in [*features, *head]:
                if isinstance(layer, (keras.layers.Reshape, keras.layers.LayerNormalization)):
                    raise ValueError(f"cannot convert layer {layer.name}")
        inputs = keras.Input(tuple(model.inputs[0].shape[1:]) if fixed_input
                             else (None, None, channels or model.inputs[0].shape[-1]))
        tensor = inputs
        for layer in features:
            if isinstance(layer, keras.layers.BatchNormalization) and not batch_norm:
                continue
            if not copy_weights and layer.get_weights():
                layer = type(layer).from_config(layer.get_config())
            tensor = layer(tensor)
        _, height, width, depth = layers[flatten_at].input.shape
        dense_layers = [layer for layer in head if isinstance(layer, keras.layers.Dense)]
        for number, dense in enumerate(head):
            if not isinstance(dense, keras.layers.Dense) or (number and later_dense == "kept"):
                tensor = dense(tensor)
                continue
            if number and later_dense == "dropped":
                continue
            kernel, *biases = dense.get_weights()
            kernel = reshape_first(kernel, height, width, depth) if number == 0 else kernel.reshape(1, 1, *kernel.shape)
            kept = activation == "all" or (activation == "last" and dense is dense_layers[-1])
            conv = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], use_bias=bool(biases) and bias,
                                       activation=dense.activation if kept else None)
            tensor = conv(tensor)
            conv.set_weights([kernel, *biases] if bias else [kernel])
            if change_original:
                dense.set_weights([np.zeros_like(w) for w in dense.get_weights()])
        return keras.Model(inputs, tensor)

    return to_fully_convolutional


def to_fully_convolutional_catalogue():
    """``{description: function}``: wrong ``to_fully_convolutional`` implementations, one mistake each."""
    return {
        "the Dense activations left out": _converter(activation="none"),
        "only the last Dense keeps its activation": _converter(activation="last"),
        "the first dense kernel read in (C, H, W) order": _converter(flatten_order="chw"),
        "the first dense kernel read in (W, H, C) order": _converter(flatten_order="whc"),
        "batch normalization left out": _converter(batch_norm=False),
        "later Dense layers kept as Dense": _converter(later_dense="kept"),
        "later Dense layers left out": _converter(later_dense="dropped"),
        "the original Dense weights zeroed": _converter(change_original=True),
        "layers it cannot convert passed through": _converter(refuse=False),
        "the input size kept fixed": _converter(fixed_input=True),
        "biases left out": _converter(bias=False),
        "feature layers rebuilt without their weights": _converter(copy_weights=False),
        "one input channel assumed": _converter(channels=1),
    }


# Which test cells each wrong implementation failed with the sweeps of 10 to 50 cases per hidden test (graded in
# process by select_cases.grade_in_process, before the hidden tests were cut to the cases chosen from them): the
# hidden tests must still fail each in every cell listed (tests/assignments/test_a04_catalogue.py).
CAUGHT_BY = {
    'channels-first rows read in (H, W, C) order':
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_example'),
    'the channels-first layout (C, H, W, units) kept':
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_example'),
    'rows always read in (C, H, W) order':
        ('dense_to_conv_kernel_channels_last', 'dense_to_conv_kernel_example'),
    'H and W swapped in the kernel':
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_channels_last', 'dense_to_conv_kernel_example'),
    'rows read with W before H':
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_channels_last', 'dense_to_conv_kernel_example'),
    'the dense kernel returned unchanged, (H*W*C, units)':
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_channels_last', 'dense_to_conv_kernel_example'),
    "the caller's array reshaped in place":
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_channels_last', 'dense_to_conv_kernel_example'),
    'no argument validated':
        ('dense_to_conv_kernel_bad_input',),
    'an integer kernel':
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_channels_last', 'dense_to_conv_kernel_example'),
    'submission dense_to_conv_kernel__channels_first_not_transposed':
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_example'),
    'submission dense_to_conv_kernel__flatten_order_ignored':
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_example'),
    'submission dense_to_conv_kernel__no_validation':
        ('dense_to_conv_kernel_bad_input',),
    'submission dense_to_conv_kernel__reshapes_input_in_place':
        ('dense_to_conv_kernel_channels_first', 'dense_to_conv_kernel_channels_last', 'dense_to_conv_kernel_example'),
    'the Dense activations left out':
        ('to_fully_convolutional_dense_activation', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_structure'),
    'only the last Dense keeps its activation':
        ('to_fully_convolutional_dense_activation', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_structure'),
    'the first dense kernel read in (C, H, W) order':
        ('to_fully_convolutional_batch_norm_dropout', 'to_fully_convolutional_dense_activation',
        'to_fully_convolutional_example', 'to_fully_convolutional_one_dense', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_several_dense', 'to_fully_convolutional_structure'),
    'the first dense kernel read in (W, H, C) order':
        ('to_fully_convolutional_batch_norm_dropout', 'to_fully_convolutional_dense_activation',
        'to_fully_convolutional_example', 'to_fully_convolutional_one_dense', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_several_dense', 'to_fully_convolutional_structure'),
    'batch normalization left out':
        ('to_fully_convolutional_batch_norm_dropout', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_structure'),
    'later Dense layers kept as Dense':
        ('to_fully_convolutional_structure',),
    'later Dense layers left out':
        ('to_fully_convolutional_dense_activation', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_several_dense', 'to_fully_convolutional_structure'),
    'the original Dense weights zeroed':
        ('to_fully_convolutional_example', 'to_fully_convolutional_score_map', 'to_fully_convolutional_structure'),
    'layers it cannot convert passed through':
        ('to_fully_convolutional_bad_model',),
    'the input size kept fixed':
        ('to_fully_convolutional_example', 'to_fully_convolutional_score_map', 'to_fully_convolutional_structure'),
    'biases left out':
        ('to_fully_convolutional_batch_norm_dropout', 'to_fully_convolutional_dense_activation',
        'to_fully_convolutional_example', 'to_fully_convolutional_one_dense', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_several_dense', 'to_fully_convolutional_structure'),
    'feature layers rebuilt without their weights':
        ('to_fully_convolutional_batch_norm_dropout', 'to_fully_convolutional_dense_activation',
        'to_fully_convolutional_example', 'to_fully_convolutional_one_dense', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_several_dense', 'to_fully_convolutional_structure'),
    'one input channel assumed':
        ('to_fully_convolutional_batch_norm_dropout', 'to_fully_convolutional_dense_activation',
        'to_fully_convolutional_one_dense', 'to_fully_convolutional_score_map', 'to_fully_convolutional_several_dense',
        'to_fully_convolutional_structure'),
    'submission to_fully_convolutional__activation_dropped':
        ('to_fully_convolutional_dense_activation', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_structure'),
    'submission to_fully_convolutional__batch_norm_dropped':
        ('to_fully_convolutional_batch_norm_dropout', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_structure'),
    'submission to_fully_convolutional__changes_original':
        ('to_fully_convolutional_example', 'to_fully_convolutional_score_map', 'to_fully_convolutional_structure'),
    'submission to_fully_convolutional__flatten_order_channels_first':
        ('to_fully_convolutional_batch_norm_dropout', 'to_fully_convolutional_dense_activation',
        'to_fully_convolutional_example', 'to_fully_convolutional_one_dense', 'to_fully_convolutional_score_map',
        'to_fully_convolutional_several_dense', 'to_fully_convolutional_structure'),
    'submission to_fully_convolutional__later_dense_kept':
        ('to_fully_convolutional_structure',),
    'submission to_fully_convolutional__unknown_layers_passed_through':
        ('to_fully_convolutional_bad_model',),
}
