def conv_transpose_output_length(input_length, kernel_size, stride=1, padding="valid", output_padding=None,
                                 dilation=1):
    """Output length of ``Conv2DTranspose`` along one axis, as Keras computes it.

    ``padding`` is ``'valid'`` or ``'same'``; ``output_padding`` is ``None`` or an int with
    ``0 <= output_padding < stride``. Returns an int. Raises ValueError for unusable arguments.
    """
    for name, value in (("input_length", input_length), ("kernel_size", kernel_size), ("stride", stride),
                        ("dilation", dilation)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    if output_padding is not None and not (isinstance(output_padding, (int, np.integer))
                                           and 0 <= output_padding < stride):
        raise ValueError(f"output_padding must be None or an int in [0, stride={stride}), got {output_padding!r}")
    effective_kernel = (kernel_size - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            # Forgets that a kernel shorter than the stride still spaces outputs a stride apart.
            return int((input_length - 1) * stride + effective_kernel)
        return int(input_length * stride)
    if padding == "valid":
        return int((input_length - 1) * stride + effective_kernel + output_padding)
    return int((input_length - 1) * stride + effective_kernel % 2 + output_padding)