def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None):
    """``Conv2DTranspose``: ``x (N, H, W, C_in)``, ``kernel (kh, kw, C_out, C_in)``, ``bias (C_out,)`` or None.

    ``strides`` and ``output_padding`` are ints or pairs (``output_padding`` below the stride, or None);
    ``padding`` is ``'valid'`` or ``'same'``. Returns a float array ``(N, OH, OW, C_out)`` with the output sizes
    of Keras. Raises ValueError when the arguments do not fit together.
    """
    x = np.asarray(x, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, H, W, C_in), got shape {x.shape}")
    if kernel.ndim != 4 or 0 in kernel.shape:
        raise ValueError(f"kernel must be 4-D (kh, kw, C_out, C_in) and not empty, got shape {kernel.shape}")
    kernel_height, kernel_width, filters, in_channels = kernel.shape
    if in_channels != x.shape[3]:
        raise ValueError(f"kernel has {in_channels} input channels (its last axis) but x has {x.shape[3]}")
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    strides = (strides, strides) if isinstance(strides, (int, np.integer)) else tuple(strides)
    if len(strides) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in strides):
        raise ValueError(f"strides must be a positive int or a pair of them, got {strides!r}")
    if output_padding is not None:
        if isinstance(output_padding, (int, np.integer)):
            output_padding = (output_padding, output_padding)
        output_padding = tuple(output_padding)
        if len(output_padding) != 2 or not all(isinstance(a, (int, np.integer)) and 0 <= a < s
                                               for a, s in zip(output_padding, strides)):
            raise ValueError(f"output_padding must be None or ints in [0, stride), got {output_padding!r}")
    batch, height, width, _ = x.shape
    # Every input pixel adds a copy of the kernel, weighted by its value, at stride spacing: the uncropped grid.
    full = np.zeros((batch, (height - 1) * strides[0] + kernel_height, (width - 1) * strides[1] + kernel_width,
                     filters))
    # The input spread out by the strides, then each kernel tap adds a shifted copy of it.
    stretched = dilate(x, strides)
    for a in range(kernel_height):
        for b in range(kernel_width):
            full[:, a:a + stretched.shape[1], b:b + stretched.shape[2], :] += np.einsum(
                "nhwc,oc->nhwo", stretched, kernel[a, b])
    sizes = []
    for axis, (length, k, s) in enumerate(zip((height, width), (kernel_height, kernel_width), strides)):
        extra = None if output_padding is None else output_padding[axis]
        if padding == "valid":
            size = (length - 1) * s + (max(k, s) if extra is None else k + extra)
        else:
            size = length * s if extra is None else (length - 1) * s + k % 2 + extra
        crop = max(full.shape[axis + 1] - size, 0) // 2 if padding == "same" else 0
        sizes.append((size, crop))
    output = np.zeros((batch, sizes[0][0], sizes[1][0], filters))
    (out_height, top), (out_width, left) = sizes
    kept = full[:, top:top + out_height, left:left + out_width, :]
    output[:, :kept.shape[1], :kept.shape[2], :] = kept
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        if bias.shape != (filters,):
            raise ValueError(f"bias must have shape ({filters},), got {bias.shape}")
        output = output + bias
    return output