def conv2d_backward(x, kernel, grad_output, strides=1, padding="valid", dilation_rate=1):
    # Loops over the output positions in float32: each window gets grad * kernel back, the kernel gets window * grad.
    x = np.array(x, dtype=np.float32)
    kernel = np.array(kernel, dtype=np.float32)
    grad_output = np.array(grad_output, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError("x must have 4 axes (N, H, W, C_in)")
    if kernel.ndim != 4 or kernel.shape[2] != x.shape[3]:
        raise ValueError("kernel must be (kh, kw, C_in, C_out) with the C_in of x")
    if padding not in ("valid", "same"):
        raise ValueError("padding: only 'valid' and 'same' are supported")
    sh, sw = np.broadcast_to(strides, 2)
    dh, dw = np.broadcast_to(dilation_rate, 2)
    if (sh > 1 or sw > 1) and (dh > 1 or dw > 1):
        raise ValueError("strides > 1 cannot be combined with dilation_rate > 1")
    n, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        ph, pw = max((oh - 1) * sh + eh - h, 0), max((ow - 1) * sw + ew - w, 0)
    else:
        oh, ow, ph, pw = (h - eh) // sh + 1, (w - ew) // sw + 1, 0, 0
    if grad_output.shape != (n, oh, ow, f):
        raise ValueError(f"grad_output has shape {grad_output.shape}; the layer's output is {(n, oh, ow, f)}")
    top, left = ph // 2, pw // 2
    xp = np.zeros((n, h + ph, w + pw, c), dtype=np.float32)
    xp[:, top:top + h, left:left + w] = x
    gxp = np.zeros_like(xp)
    gk = np.zeros_like(kernel)
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * sh, i * sh + eh, dh)
            cols = slice(j * sw, j * sw + ew, dw)
            g = grad_output[:, i, j, :]  # (N, F)
            gxp[:, rows, cols, :] += np.tensordot(g, kernel, axes=([1], [3]))
            gk += np.tensordot(xp[:, rows, cols, :], g, axes=([0], [0]))
    return gxp[:, top:top + h, left:left + w], gk, grad_output.sum(axis=(0, 1, 2))
