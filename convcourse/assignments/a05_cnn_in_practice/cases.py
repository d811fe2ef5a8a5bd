"""Test configurations of assignment 05: random 1-D conv stacks for ``receptive_field``."""

import numpy as np


def random_stacks(count, seed, max_layers=4, strided=True, dilated=True):
    """``count`` random stacks of 1–``max_layers`` layers Keras accepts (kernel 1–5, stride 1–3, dilation 1–3,
    never stride and dilation both above 1 in one layer); ``strided``/``dilated=False`` keep them at 1."""
    rng = np.random.default_rng(seed)
    stacks = []
    for _ in range(count):
        stack = []
        for _ in range(int(rng.integers(1, max_layers + 1))):
            kernel_size = int(rng.integers(1, 6))
            stride = int(rng.integers(1, 4)) if strided else 1
            dilation = int(rng.integers(1, 4)) if dilated and stride == 1 else 1
            stack.append((kernel_size, stride, dilation))
        stacks.append(stack)
    return stacks
