"""Known mistakes of assignment 02 (padding and stride), each computed with Keras, so a failing check can name
its likely cause.

Every function returns ``{description: mistaken reference}`` for
:func:`convcourse.checks.check_against_reference`. A mistaken reference takes the case's arguments in the
contract's order (``x, kernel, bias, strides, padding, dilation_rate`` for convolutions,
``x, pool_size, strides, padding`` for pooling) and returns ``None`` where the mistake changes nothing.
Where a mistake pads the input, the zeros are added with ``np.pad`` and Keras then runs ``'valid'``; the
``'same'`` split comes from :func:`convcourse.padding_cases.keras_same_padding`, measured from Keras.
"""

import numpy as np

from convcourse.assignments.a01_cross_correlation.mistakes import conv_mistakes
from convcourse.assignments.a02_padding_and_stride.references import keras_same_padding
from convcourse.grader.oracle import keras_conv1d, keras_conv2d, keras_pool2d


def _pair(value):
    return (value, value) if np.ndim(value) == 0 else tuple(value)


def _same_split(input_length, kernel_size, stride, dilation, top_heavy):
    before, after = keras_same_padding(input_length, kernel_size, stride, dilation)
    return (after, before) if top_heavy else (before, after)


def _symmetric_half_kernel(kernel_size, dilation):
    """Relationship 3's ``floor(k/2)`` zeros on both sides, for the dilated kernel."""
    half = ((kernel_size - 1) * dilation + 1) // 2
    return half, half


def same_padding_mistakes():
    """Mistakes of ``same_padding(input_length, kernel_size, stride, dilation)``, as ``(before, after)`` pairs."""
    def top_heavy(input_length, kernel_size, stride=1, dilation=1):
        return _same_split(input_length, kernel_size, stride, dilation, top_heavy=True)

    def dilation_ignored(input_length, kernel_size, stride=1, dilation=1):
        return keras_same_padding(input_length, kernel_size, stride, 1) if dilation != 1 else None

    def half_kernel(input_length, kernel_size, stride=1, dilation=1):
        return _symmetric_half_kernel(kernel_size, dilation)

    return {
        "the extra zero of an odd total goes before (top/left); TensorFlow puts it after (bottom/right)": top_heavy,
        "the dilation is left out of the kernel's extent": dilation_ignored,
        "floor(k/2) zeros go on both sides (relationship 3): that is 'same' only for k = 1 or an odd k with the "
        "stride dividing i - 1": half_kernel,
    }


def _pad_2d(x, split_rows, split_cols, constant=0.0):
    return np.pad(x, ((0, 0), split_rows, split_cols, (0, 0)), constant_values=constant)


def conv2d_padding_mistakes():
    """Mistakes of ``conv2d(x, kernel, bias, strides, padding, dilation_rate)`` against ``Conv2D``."""
    mistakes = dict(conv_mistakes(keras_conv2d))

    def padded_then_valid(x, kernel, bias, strides, padding, dilation_rate, split):
        if padding != "same":
            return None
        (sh, sw), (dh, dw) = _pair(strides), _pair(dilation_rate)
        rows = split(x.shape[1], kernel.shape[0], sh, dh)
        cols = split(x.shape[2], kernel.shape[1], sw, dw)
        return keras_conv2d(_pad_2d(x, rows, cols), kernel, bias, strides, "valid", dilation_rate)

    def top_heavy(*args):
        return padded_then_valid(*args, split=lambda i, k, s, d: _same_split(i, k, s, d, top_heavy=True))

    def half_kernel(*args):
        return padded_then_valid(*args, split=lambda i, k, s, d: _symmetric_half_kernel(k, d))

    def dilation_ignored(x, kernel, bias, strides, padding, dilation_rate):
        if _pair(dilation_rate) == (1, 1):
            return None
        return keras_conv2d(x, kernel, bias, strides, padding, 1)

    def first_stride_only(x, kernel, bias, strides, padding, dilation_rate):
        rows, cols = _pair(strides)
        return None if rows == cols else keras_conv2d(x, kernel, bias, (rows, rows), padding, dilation_rate)

    def rows_strided_only(x, kernel, bias, strides, padding, dilation_rate):
        rows, cols = _pair(strides)
        return None if cols == 1 else keras_conv2d(x, kernel, bias, (rows, 1), padding, dilation_rate)

    mistakes.update({
        "'same' puts the extra zero of an odd total on the top/left; TensorFlow puts it on the bottom/right":
            top_heavy,
        "'same' pads floor(k/2) on every side (relationship 3), which is 'same' only for k = 1 or an odd k with "
        "the stride dividing i - 1":
            half_kernel,
        "the dilation is ignored": dilation_ignored,
        "the first stride is used on both axes": first_stride_only,
        "the stride is applied to the rows only": rows_strided_only,
    })
    return mistakes


def conv1d_padding_mistakes():
    """Mistakes of ``conv1d(x, kernel, bias, strides, padding, dilation_rate)`` against ``Conv1D``."""
    def flipped_taps(x, kernel, *rest):
        return keras_conv1d(x, kernel[::-1], *rest)

    def bias_left_out(x, kernel, bias, *rest):
        return None if bias is None else keras_conv1d(x, kernel, None, *rest)

    def causal_on_the_right(x, kernel, bias, strides, padding, dilation_rate):
        if padding != "causal":
            return None
        zeros = (kernel.shape[0] - 1) * dilation_rate
        return keras_conv1d(np.pad(x, ((0, 0), (0, zeros), (0, 0))), kernel, bias, strides, "valid", dilation_rate)

    def causal_as_same(x, kernel, bias, strides, padding, dilation_rate):
        return keras_conv1d(x, kernel, bias, strides, "same", dilation_rate) if padding == "causal" else None

    def top_heavy(x, kernel, bias, strides, padding, dilation_rate):
        if padding != "same":
            return None
        split = _same_split(x.shape[1], kernel.shape[0], strides, dilation_rate, top_heavy=True)
        return keras_conv1d(np.pad(x, ((0, 0), split, (0, 0))), kernel, bias, strides, "valid", dilation_rate)

    def dilation_ignored(x, kernel, bias, strides, padding, dilation_rate):
        return None if dilation_rate == 1 else keras_conv1d(x, kernel, bias, strides, padding, 1)

    return {
        "the kernel is flipped (that is a convolution; Keras layers compute a cross-correlation)": flipped_taps,
        "the bias is left out": bias_left_out,
        "the causal zeros go after the sequence; they belong before it, so that no output sees the future":
            causal_on_the_right,
        "'causal' is padded like 'same'; causal puts all (k-1)*d zeros before the sequence": causal_as_same,
        "'same' puts the extra zero of an odd total first; TensorFlow puts it last": top_heavy,
        "the dilation is ignored": dilation_ignored,
    }


def pool2d_mistakes(kind):
    """Mistakes of ``max_pool2d``/``avg_pool2d(x, pool_size, strides, padding)``; ``kind`` is ``'max'`` or ``'avg'``."""
    if kind not in ("max", "avg"):
        raise ValueError(f"kind must be 'max' or 'avg', got {kind!r}")

    def zero_padded(x, pool_size, strides, padding):
        if padding != "same":
            return None
        (ph, pw) = _pair(pool_size)
        (sh, sw) = _pair(pool_size if strides is None else strides)
        padded = _pad_2d(x, keras_same_padding(x.shape[1], ph, sh), keras_same_padding(x.shape[2], pw, sw))
        return keras_pool2d(padded, kind, (ph, pw), (sh, sw), "valid")

    def unit_strides_by_default(x, pool_size, strides, padding):
        return keras_pool2d(x, kind, pool_size, 1, padding) if strides is None else None

    def first_stride_only(x, pool_size, strides, padding):
        rows, cols = _pair(pool_size if strides is None else strides)
        return None if rows == cols else keras_pool2d(x, kind, pool_size, (rows, rows), padding)

    padded_description = {
        "max": "'same' pads with zeros that win the max over negative values; padded cells must never win",
        "avg": "the padded cells are counted in the average; 'same' averages only the real cells",
    }[kind]
    return {
        padded_description: zero_padded,
        "strides=None is taken as stride 1; it means strides = pool_size": unit_strides_by_default,
        "the first stride (or pool size) is used on both axes": first_stride_only,
    }


def conv_output_length_mistakes():
    """Mistakes of ``conv_output_length(input_length, kernel_size, stride, padding, dilation)``, each an output
    length Keras gives for a changed configuration (``None`` where the mistake changes nothing)."""
    from convcourse.assignments.a02_padding_and_stride.references import keras_conv_output_length

    def dilation_ignored(input_length, kernel_size, stride=1, padding="valid", dilation=1):
        return None if dilation == 1 else keras_conv_output_length(input_length, kernel_size, stride, padding, 1)

    def rounded_up(input_length, kernel_size, stride=1, padding="valid", dilation=1):
        # ceil(n / s) = floor((n + s - 1) / s): s - 1 more input cells turn Keras' floor into a ceil.
        if padding in ("same", "causal") or stride == 1:
            return None
        return keras_conv_output_length(input_length + stride - 1, kernel_size, stride, padding, dilation)

    def same_rounded_down(input_length, kernel_size, stride=1, padding="valid", dilation=1):
        # floor(i / s) is the 'valid' length of a 1-tap kernel on i - s + 1 cells.
        if padding not in ("same", "causal") or stride == 1 or input_length < stride:
            return None
        return keras_conv_output_length(input_length - stride + 1, 1, stride, "valid", 1)

    def same_as_half_kernel(input_length, kernel_size, stride=1, padding="valid", dilation=1):
        if padding not in ("same", "causal"):
            return None
        return keras_conv_output_length(input_length, kernel_size, stride, ((kernel_size - 1) * dilation + 1) // 2,
                                        dilation)

    def full_undilated(input_length, kernel_size, stride=1, padding="valid", dilation=1):
        if padding != "full" or dilation == 1:
            return None
        return keras_conv_output_length(input_length, kernel_size, stride, kernel_size - 1, dilation)

    return {
        "the dilation is left out of the kernel's extent (a kernel of k taps dilated by d spans (k-1)*d + 1 cells)":
            dilation_ignored,
        "the division by the stride is rounded up; Keras rounds (i + 2p - k) / s down": rounded_up,
        "'same' rounds i / s down; it keeps ceil(i / s) positions": same_rounded_down,
        "'same' is computed with floor(k/2) zeros on each side (relationship 3), which gives ceil(i / s) "
        "positions only for an odd (dilated) kernel: an even one gets one more when the stride divides i":
            same_as_half_kernel,
        "'full' pads k - 1 zeros on each side; with dilation it is (k - 1) * d, the dilated kernel less one":
            full_undilated,
    }
