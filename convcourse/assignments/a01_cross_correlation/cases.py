"""Test configurations of assignment 01 (cross-correlation), hard corners first, seeded."""

import dataclasses

import numpy as np

from convcourse.grader.cases import (
    Case,
    conv2d_arrays,
    conv2d_geometries,
    random_values,
)


def conv2d_cases(count, seed, names=("x", "kernel", "bias"), paddings=("valid",), strided=False, dilated=False,
                 single_channel=False, use_bias=None):
    """Cases for a ``conv2d``-like function whose leading arguments are ``names``, drawn from
    ``x, kernel, bias, strides, padding, dilation_rate``.

    ``single_channel=True`` makes every input and output one channel; ``use_bias`` forces a bias
    (``True``) or none (``False``); ``None`` mixes both.
    """
    rng = np.random.default_rng(seed + 1)
    cases = []
    for g in conv2d_geometries(count, seed, paddings, strided, dilated):
        if single_channel:
            g = dataclasses.replace(g, in_channels=1, filters=1)
        if use_bias is not None:
            g = dataclasses.replace(g, use_bias=use_bias)
        x, kernel, bias = conv2d_arrays(g, rng)
        values = {"x": x, "kernel": kernel, "bias": bias, "strides": g.strides, "padding": g.padding,
                  "dilation_rate": g.dilation_rate}
        cases.append(Case(tuple(names), tuple(values[name] for name in names)))
    return cases


def corr2d_cases(count, seed):
    """Cases ``(image (H, W), kernel (kh, kw))`` for the single-channel, valid cross-correlation."""
    rng = np.random.default_rng(seed + 1)
    cases = []
    for g in conv2d_geometries(count, seed):
        cases.append(Case(("image", "kernel"), (random_values(rng, (g.height, g.width)),
                                                random_values(rng, (g.kernel_height, g.kernel_width)))))
    return cases


def conv_params_cases(count, seed):
    """Cases ``(kernel_size, in_channels, filters, use_bias)``: kernel sizes as ints and as pairs."""
    rng = np.random.default_rng(seed)
    cases = [Case(("kernel_size", "in_channels", "filters", "use_bias"), args) for args in (
        (1, 1, 1, True), (1, 1, 1, False), ((1, 7), 3, 2, True), ((4, 2), 512, 1, False), (3, 1, 1024, True),
    )]
    while len(cases) < count:
        if rng.integers(2):
            kernel_size = int(rng.integers(1, 8))
        else:
            kernel_size = (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        cases.append(Case(("kernel_size", "in_channels", "filters", "use_bias"), (
            kernel_size, int(rng.integers(1, 257)), int(rng.integers(1, 257)), bool(rng.integers(2)))))
    return cases
