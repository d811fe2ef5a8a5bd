def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None):
    # Reads the kernel as Conv2D's (kh, kw, C_in, C_out).
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    if x.ndim != 4 or kernel.ndim != 4 or kernel.shape[2] != x.shape[3]:
        raise ValueError(f"x (N, H, W, C_in) and kernel (kh, kw, C_out, C_in) do not fit: {x.shape}, {kernel.shape}")
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    sh, sw = (strides, strides) if np.isscalar(strides) else strides
    if output_padding is not None:
        ah, aw = (output_padding, output_padding) if np.isscalar(output_padding) else output_padding
        if not (0 <= ah < sh and 0 <= aw < sw):
            raise ValueError(f"output_padding must be below the stride, got {output_padding}")
    n, h, w, _ = x.shape
    kh, kw, _, c_out = kernel.shape
    if bias is not None and np.shape(bias) != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},)")
    full = np.zeros((n, (h - 1) * sh + kh, (w - 1) * sw + kw, c_out))
    for i in range(h):
        for j in range(w):
            full[:, i * sh:i * sh + kh, j * sw:j * sw + kw] += np.einsum("nc,abco->nabo", x[:, i, j], kernel)
    sizes = []
    for axis, (length, k, s) in enumerate(((h, kh, sh), (w, kw, sw))):
        a = None if output_padding is None else (ah, aw)[axis]
        if padding == "valid":
            size = (length - 1) * s + (max(k, s) if a is None else k + a)
        else:
            size = length * s if a is None else (length - 1) * s + k % 2 + a
        start = max(full.shape[axis + 1] - size, 0) // 2 if padding == "same" else 0
        sizes.append((start, size))
    (top, oh), (left, ow) = sizes
    out = np.zeros((n, oh, ow, c_out))
    part = full[:, top:top + oh, left:left + ow]
    out[:, :part.shape[1], :part.shape[2]] = part
    return out if bias is None else out + bias
