"""Known mistakes of assignment 06, so that a failing check can say "This is exactly what you get if ...".

Each ``*_mistakes()`` returns ``{description: mistaken reference}``; a mistaken reference takes the graded
function's arguments and returns what an implementation with that one mistake returns (``None`` where the
mistake cannot be told apart). They are computed by one NumPy model per function whose switches each make one
mistake; with every switch off the model equals the TensorFlow references (``tests/test_a06_backpropagation.py``).
The mistaken references run in the grader, on the case's arrays, only after a check has failed.
"""

import math

import numpy as np

from convcourse.assignments.a06_backpropagation.cases import as_pair
from convcourse.grader.cases import same_total_padding


def _same_split(total, top_heavy):
    """TensorFlow puts floor(P/2) before and the rest after; the top-heavy mistake puts ceil(P/2) before."""
    before = math.ceil(total / 2) if top_heavy else total // 2
    return before, total - before


def _paddings(lengths, kernel_sizes, strides, dilations, padding, top_heavy=False):
    if padding != "same":
        return [(0, 0), (0, 0)]
    return [_same_split(same_total_padding(i, k, s, d), top_heavy)
            for i, k, s, d in zip(lengths, kernel_sizes, strides, dilations)]


def _output_length(length, kernel_size, stride, padding, dilation=1):
    if padding == "same":
        return math.ceil(length / stride)
    return (length - (kernel_size - 1) * dilation - 1) // stride + 1


def numpy_im2col(x, kernel_size, strides=1, padding="valid", channels_first=False, position_order="nij",
                 top_heavy=False):
    """``im2col`` in NumPy; ``channels_first`` orders each row ``(C, kh, kw)``, ``position_order`` lists the
    output positions in another order (``'nji'``: column by column, ``'ijn'``: the batch fastest) and
    ``top_heavy`` puts the larger half of the ``'same'`` padding at the top/left."""
    x = np.asarray(x, dtype=np.float64)
    (kh, kw), (sh, sw) = as_pair(kernel_size), as_pair(strides)
    batch, height, width, channels = x.shape
    out_height, out_width = _output_length(height, kh, sh, padding), _output_length(width, kw, sw, padding)
    (top, bottom), (left, right) = _paddings((height, width), (kh, kw), (sh, sw), (1, 1), padding, top_heavy)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    windows = np.empty((batch, out_height, out_width, kh, kw, channels))
    for a in range(kh):
        for b in range(kw):
            windows[:, :, :, a, b] = padded[:, a:a + (out_height - 1) * sh + 1:sh, b:b + (out_width - 1) * sw + 1:sw]
    if channels_first:
        windows = windows.transpose(0, 1, 2, 5, 3, 4)
    windows = windows.transpose(["nij".index(axis) for axis in position_order] + [3, 4, 5])
    return windows.reshape(batch * out_height * out_width, kh * kw * channels)


def numpy_conv2d_backward(x, kernel, grad_output, strides=1, padding="valid", dilation_rate=1, flip_kernel=False,
                          undilated_gradient=False, top_heavy=False, ignore_dilation=False, rotate_grad_kernel=False,
                          swap_grad_kernel_channels=False, bias_reduction="sum"):
    """``(grad_x, grad_kernel, grad_bias)`` of ``Conv2D`` in NumPy: each output position sends ``grad_output``
    times the kernel back to the window it read (``grad_x``) and its window times ``grad_output`` to the kernel.

    The switches make one mistake each: ``flip_kernel`` is the full-convolution view of ``grad_x`` without the
    180-degree turn; ``undilated_gradient`` places the upstream gradient's values 1 apart instead of ``s`` apart
    (in ``grad_x`` and ``grad_kernel``); ``top_heavy`` splits ``'same'`` padding ceil-first; ``ignore_dilation``
    uses the kernel undilated; ``rotate_grad_kernel`` turns ``grad_kernel`` by 180 degrees;
    ``swap_grad_kernel_channels`` returns it as ``(kh, kw, C_out, C_in)``; ``bias_reduction`` is ``'sum'``,
    ``'batch_mean'`` (averaged over the batch), ``'position_mean'`` (averaged over positions) or ``'positions_only'``
    (summed over the positions but not the batch: shape ``(N, C_out)``).
    """
    x, kernel = np.asarray(x, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    grad_output = np.asarray(grad_output, dtype=np.float64)
    (sh, sw), (dh, dw) = as_pair(strides), as_pair(dilation_rate)
    if ignore_dilation:
        dh, dw = 1, 1
    step_h, step_w = (1, 1) if undilated_gradient else (sh, sw)
    batch, height, width, _ = x.shape
    kh, kw = kernel.shape[:2]
    _, out_height, out_width, _ = grad_output.shape
    (top, bottom), (left, right) = _paddings((height, width), (kh, kw), (sh, sw), (dh, dw), padding, top_heavy)
    # Room for every window the positions reach (more than the padded input only under a mistake).
    rows = max(top + height + bottom, (kh - 1) * dh + (out_height - 1) * step_h + 1)
    cols = max(left + width + right, (kw - 1) * dw + (out_width - 1) * step_w + 1)
    padded = np.zeros((batch, rows, cols, x.shape[3]))
    padded[:, top:top + height, left:left + width] = x
    grad_padded = np.zeros_like(padded)
    grad_kernel = np.zeros_like(kernel)
    turned = kernel[::-1, ::-1] if flip_kernel else kernel
    for a in range(kh):
        for b in range(kw):
            window_rows = slice(a * dh, a * dh + (out_height - 1) * step_h + 1, step_h)
            window_cols = slice(b * dw, b * dw + (out_width - 1) * step_w + 1, step_w)
            grad_padded[:, window_rows, window_cols] += np.einsum("nijo,co->nijc", grad_output, turned[a, b])
            grad_kernel[a, b] = np.einsum("nijc,nijo->co", padded[:, window_rows, window_cols], grad_output)
    grad_x = grad_padded[:, top:top + height, left:left + width]
    if rotate_grad_kernel:
        grad_kernel = grad_kernel[::-1, ::-1]
    if swap_grad_kernel_channels:
        grad_kernel = grad_kernel.swapaxes(2, 3)
    grad_bias = {
        "sum": lambda g: g.sum(axis=(0, 1, 2)),
        "batch_mean": lambda g: g.sum(axis=(1, 2)).mean(axis=0),
        "position_mean": lambda g: g.sum(axis=0).mean(axis=(0, 1)),
        "positions_only": lambda g: g.sum(axis=(1, 2)),
    }[bias_reduction](grad_output)
    return grad_x, grad_kernel, grad_bias


def numpy_max_pool2d_backward(x, grad_output, pool_size=2, strides=None, padding="valid", every_cell=False,
                              overwrite=False, zero_padding=False, top_heavy=False, average=False):
    """The ``MaxPooling2D`` gradient in NumPy: each window's upstream gradient goes to its largest value, and
    overlapping windows add up.

    The switches make one mistake each: ``every_cell`` gives the gradient to every cell of the window;
    ``overwrite`` assigns instead of adding, so the last window wins; ``zero_padding`` lets ``'same'``'s padded
    cells take part as zeros (a padded zero then wins a window of negative values and its gradient is lost);
    ``top_heavy`` splits ``'same'`` padding ceil-first; ``average`` spreads the gradient evenly over the window's
    cells, as average pooling would.
    """
    x, grad_output = np.asarray(x, dtype=np.float64), np.asarray(grad_output, dtype=np.float64)
    pool = as_pair(pool_size)
    stride = pool if strides is None else as_pair(strides)
    batch, height, width, channels = x.shape
    _, out_height, out_width, _ = grad_output.shape
    (top, _), (left, _) = _paddings((height, width), pool, stride, (1, 1), padding, top_heavy)
    grad_x = np.zeros_like(x)
    images, channel_index = np.meshgrid(np.arange(batch), np.arange(channels), indexing="ij")
    for i in range(out_height):
        for j in range(out_width):
            row, col = i * stride[0] - top, j * stride[1] - left
            r0, r1 = max(row, 0), min(row + pool[0], height)
            c0, c1 = max(col, 0), min(col + pool[1], width)
            upstream = grad_output[:, i, j, :]
            if every_cell or average:
                share = upstream / ((r1 - r0) * (c1 - c0)) if average else upstream
                grad_x[:, r0:r1, c0:c1] += share[:, None, None, :]
                continue
            window = x[:, r0:r1, c0:c1].reshape(batch, -1, channels)
            best = window.argmax(axis=1)
            if zero_padding and (r1 - r0) * (c1 - c0) < pool[0] * pool[1]:
                upstream = np.where(window.max(axis=1) < 0, 0.0, upstream)
            best_rows, best_cols = np.unravel_index(best, (r1 - r0, c1 - c0))
            where = (images, r0 + best_rows, c0 + best_cols, channel_index)
            if overwrite:
                grad_x[where] = upstream
            else:
                np.add.at(grad_x, where, upstream)
    return grad_x


def im2col_mistakes():
    """Mistakes of ``im2col(x, kernel_size, strides, padding)``."""

    def top_heavy(x, kernel_size, strides=1, padding="valid"):
        return None if padding != "same" else numpy_im2col(x, kernel_size, strides, padding, top_heavy=True)

    return {
        "each row is ordered (C, kh, kw) instead of (kh, kw, C) with the channels fastest":
            lambda *args: numpy_im2col(*args, channels_first=True),
        "the output positions are listed column by column (n, j, i) instead of row by row (n, i, j)":
            lambda *args: numpy_im2col(*args, position_order="nji"),
        "the output positions are listed with the batch fastest (i, j, n) instead of (n, i, j)":
            lambda *args: numpy_im2col(*args, position_order="ijn"),
        "'same' puts the larger half of the padding at the top/left (TensorFlow puts floor(P/2) there and the rest "
        "at the bottom/right)": top_heavy,
    }


def conv2d_backward_mistakes():
    """Mistakes of ``conv2d_backward(x, kernel, grad_output, strides, padding, dilation_rate)``; each mistaken
    reference returns the whole ``(grad_x, grad_kernel, grad_bias)`` triple with that one mistake."""

    def when(condition, **mistake):
        def mistaken(*args):
            return numpy_conv2d_backward(*args, **mistake) if condition(*args) else None

        return mistaken

    def strided(x, kernel, grad_output, strides=1, *rest):
        return as_pair(strides) != (1, 1)

    def same(x, kernel, grad_output, strides=1, padding="valid", *rest):
        return padding == "same"

    def dilated(x, kernel, grad_output, strides=1, padding="valid", dilation_rate=1):
        return as_pair(dilation_rate) != (1, 1)

    def always(*args):
        return True

    return {
        "the kernel is not turned by 180 degrees in dL/dx (as a full convolution of the upstream gradient, "
        "dL/dx needs the flipped kernel; equivalently, each output position sends grad_output * kernel back to "
        "the window it read)": when(always, flip_kernel=True),
        "the upstream gradient is not dilated for the strides (its values belong s apart, where the windows were)":
            when(strided, undilated_gradient=True),
        "'same' puts the larger half of the padding at the top/left (TensorFlow puts floor(P/2) there and the rest "
        "at the bottom/right)": when(same, top_heavy=True),
        "the dilation is ignored (the kernel's taps are d apart in the input)": when(dilated, ignore_dilation=True),
        "dL/dK is turned by 180 degrees (it is the cross-correlation of the input with the upstream gradient, "
        "no flip)": when(always, rotate_grad_kernel=True),
        "input and upstream gradient are swapped in dL/dK, giving (kh, kw, C_out, C_in) instead of the kernel's "
        "(kh, kw, C_in, C_out)": when(always, swap_grad_kernel_channels=True),
        "the bias gradient is averaged over the batch instead of summed": when(always, bias_reduction="batch_mean"),
        "the bias gradient is averaged over the output positions instead of summed":
            when(always, bias_reduction="position_mean"),
        "the bias gradient is summed over the output positions but not over the batch (every sample of the batch "
        "used the same bias, so their gradients add up: sum over N, H and W)":
            when(always, bias_reduction="positions_only"),
    }


def max_pool2d_backward_mistakes():
    """Mistakes of ``max_pool2d_backward(x, grad_output, pool_size, strides, padding)``."""

    def same_only(**mistake):
        def mistaken(x, grad_output, pool_size=2, strides=None, padding="valid"):
            if padding != "same":
                return None
            return numpy_max_pool2d_backward(x, grad_output, pool_size, strides, padding, **mistake)

        return mistaken

    return {
        "each window's gradient goes to every cell of the window instead of only to its largest value":
            lambda *args: numpy_max_pool2d_backward(*args, every_cell=True),
        "each window's gradient is spread evenly over its cells, as for average pooling":
            lambda *args: numpy_max_pool2d_backward(*args, average=True),
        "overlapping windows overwrite each other's gradient instead of adding up (use +=)":
            lambda *args: numpy_max_pool2d_backward(*args, overwrite=True),
        "'same' pads with zeros, so a padded cell wins windows of negative values and their gradient is lost "
        "(padded cells never win a max)": same_only(zero_padding=True),
        "'same' puts the larger half of the padding at the top/left (TensorFlow puts floor(P/2) there and the rest "
        "at the bottom/right)": same_only(top_heavy=True),
    }
