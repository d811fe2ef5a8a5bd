"""Known mistakes, each computed with the Keras oracle, so that a failing check can name its likely cause.

Each function takes a Keras-backed reference whose arguments start ``(x, kernel, bias, ...)``
(or ``(image, kernel)``) and returns ``{description: mistaken reference}`` for
:func:`convcourse.checks.check_against_reference`.
"""


def flipped_kernel(reference):
    """The kernel turned by 180 degrees: a true convolution, where Keras cross-correlates."""
    return {
        "the kernel is flipped (that is a convolution; Keras layers compute a cross-correlation)":
            lambda x, kernel, *rest: reference(x, kernel[::-1, ::-1], *rest),
    }


def conv_mistakes(reference):
    """Mistakes of a ``(x, kernel, bias, ...)`` convolution: flipped kernel, bias dropped, kernel channel axes swapped."""
    mistakes = dict(flipped_kernel(reference))
    mistakes["the bias is left out"] = lambda x, kernel, bias=None, *rest: reference(x, kernel, None, *rest)

    def swapped_channels(x, kernel, *rest):
        if kernel.shape[-1] != kernel.shape[-2]:
            return None
        return reference(x, kernel.swapaxes(-1, -2), *rest)

    mistakes["the kernel's input and output channel axes are swapped"] = swapped_channels
    return mistakes


def conv_params_mistakes():
    """Mistakes of ``conv_params(kernel_size, in_channels, filters, use_bias)``, each counted by Keras."""
    from convcourse.assignments.a01_cross_correlation.references import keras_conv_params

    def in_channels_forgotten(kernel_size, in_channels, filters, use_bias=True):
        return None if in_channels == 1 else keras_conv_params(kernel_size, 1, filters, use_bias)

    def bias_per_input_channel(kernel_size, in_channels, filters, use_bias=True):
        if not use_bias or in_channels == filters:
            return None
        return keras_conv_params(kernel_size, in_channels, filters, False) + in_channels

    return {
        "the input channels are left out (each filter holds kh * kw * in_channels weights)": in_channels_forgotten,
        "there is one bias per input channel; Conv2D has one per filter": bias_per_input_channel,
    }
