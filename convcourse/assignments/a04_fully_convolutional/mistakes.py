"""Known mistakes of assignment 04's ``dense_to_conv_kernel``, so that a failing visible check can name them.

``dense_to_conv_kernel_mistakes()`` maps a description to the kernel that mistake returns for
``(dense_kernel, feature_shape, data_format)`` (``None`` where it returns the right one). The hidden check judges a
kernel by what ``Conv2D`` computes with it (:mod:`convcourse.assignments.a04_fully_convolutional.checks`); these
kernels are the visible examples' mistaken results.
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
