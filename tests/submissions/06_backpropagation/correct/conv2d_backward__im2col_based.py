def conv2d_backward(x, kernel, grad_output, strides=1, padding="valid", dilation_rate=1):
    # Built on im2col: a dilated kernel is an ordinary kernel with zeros between its taps, so
    # dL/dK = cols.T @ G at the taps, and dL/dx is G @ K.T scattered back window by window (col2im).
    x, kernel, grad_output = (np.asarray(a, dtype=float) for a in (x, kernel, grad_output))
    if x.ndim != 4 or kernel.ndim != 4 or kernel.shape[2] != x.shape[3]:
        raise ValueError(f"x (N, H, W, C) and kernel (kh, kw, C, F) do not fit: {x.shape}, {kernel.shape}")
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    sh, sw = (strides, strides) if np.isscalar(strides) else strides
    dh, dw = (dilation_rate, dilation_rate) if np.isscalar(dilation_rate) else dilation_rate
    if min(sh, sw, dh, dw) < 1 or (max(sh, sw) > 1 and max(dh, dw) > 1):
        raise ValueError(f"strides {strides} and dilation_rate {dilation_rate}: positive, and not both above 1")
    kh, kw, channels, filters = kernel.shape
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    dilated = np.zeros((span_h, span_w, channels, filters))
    dilated[::dh, ::dw] = kernel
    n, h, w, _ = x.shape
    oh = -(-h // sh) if padding == "same" else (h - span_h) // sh + 1
    ow = -(-w // sw) if padding == "same" else (w - span_w) // sw + 1
    if oh < 1 or ow < 1 or grad_output.shape != (n, oh, ow, filters):
        raise ValueError(f"grad_output must have shape {(n, oh, ow, filters)}, got {grad_output.shape}")
    g = grad_output.reshape(-1, filters)
    grad_dilated = (im2col(x, (span_h, span_w), (sh, sw), padding).T @ g).reshape(dilated.shape)
    grad_cols = (g @ dilated.reshape(-1, filters).T).reshape(n, oh, ow, span_h, span_w, channels)
    ph = max((oh - 1) * sh + span_h - h, 0)
    pw = max((ow - 1) * sw + span_w - w, 0)
    grad_padded = np.zeros((n, h + ph, w + pw, channels))
    for i in range(oh):
        for j in range(ow):
            grad_padded[:, i * sh:i * sh + span_h, j * sw:j * sw + span_w] += grad_cols[:, i, j]
    grad_x = grad_padded[:, ph // 2:ph // 2 + h, pw // 2:pw // 2 + w]
    return grad_x, grad_dilated[::dh, ::dw], g.sum(axis=0)
