def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None):
    # The other view: dilate, pad by k - 1, cross-correlate with the kernel turned by 180 degrees; float32 loops.
    x = np.asarray(x, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError("x should be (N, H, W, C_in)")
    if kernel.ndim != 4 or kernel.shape[-1] != x.shape[-1]:
        raise ValueError("kernel should be (kh, kw, C_out, C_in) with C_in matching x")
    if padding not in {"valid", "same"}:
        raise ValueError("padding should be valid or same")
    strides = tuple(strides) if isinstance(strides, (tuple, list)) else (strides, strides)
    if output_padding is not None:
        output_padding = tuple(output_padding) if isinstance(output_padding, (tuple, list)) else (output_padding,) * 2
        if any(not 0 <= a < s for a, s in zip(output_padding, strides)):
            raise ValueError("output_padding should be smaller than the strides")
    n, h, w, c_in = x.shape
    kh, kw, c_out, _ = kernel.shape
    if bias is not None and len(bias) != c_out:
        raise ValueError("bias should have one value per filter")
    stretched = np.zeros((n, (h - 1) * strides[0] + 1, (w - 1) * strides[1] + 1, c_in), dtype=np.float32)
    stretched[:, ::strides[0], ::strides[1], :] = x
    padded = np.pad(stretched, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    turned = kernel[::-1, ::-1]
    full_h, full_w = padded.shape[1] - kh + 1, padded.shape[2] - kw + 1
    full = np.zeros((n, full_h, full_w, c_out), dtype=np.float32)
    for i in range(full_h):
        for j in range(full_w):
            patch = padded[:, i:i + kh, j:j + kw, :]
            full[:, i, j, :] = np.tensordot(patch, turned, axes=([1, 2, 3], [0, 1, 3]))
    lengths, starts = [], []
    for axis, (size, k, s) in enumerate(zip((h, w), (kh, kw), strides)):
        if output_padding is None:
            length = size * s if padding == "same" else (size - 1) * s + max(k, s)
        else:
            length = (size - 1) * s + (k % 2 if padding == "same" else k) + output_padding[axis]
        lengths.append(length)
        surplus = full.shape[axis + 1] - length
        starts.append(surplus // 2 if padding == "same" and surplus > 0 else 0)
    out = np.zeros((n, lengths[0], lengths[1], c_out), dtype=np.float32)
    kept = full[:, starts[0]:starts[0] + lengths[0], starts[1]:starts[1] + lengths[1], :]
    out[:, :kept.shape[1], :kept.shape[2], :] = kept
    if bias is not None:
        out += np.asarray(bias, dtype=np.float32)
    return out
