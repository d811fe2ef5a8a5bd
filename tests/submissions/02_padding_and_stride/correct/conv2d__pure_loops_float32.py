def conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1):
    # One output position at a time, in float32, on a zero-filled canvas.
    if padding not in ['valid', 'same']:
        raise ValueError('padding: expected valid or same, not ' + str(padding))
    if isinstance(strides, int):
        strides = (strides, strides)
    if isinstance(dilation_rate, int):
        dilation_rate = (dilation_rate, dilation_rate)
    x = np.array(x, dtype=np.float32)
    w = np.array(kernel, dtype=np.float32)
    n, h, wd, c = x.shape
    kh, kw, c2, f = w.shape
    if c != c2:
        raise ValueError('kernel channels do not match x')
    span_h = (kh - 1) * dilation_rate[0] + 1
    span_w = (kw - 1) * dilation_rate[1] + 1
    if padding == 'same':
        oh, ow = -(-h // strides[0]), -(-wd // strides[1])
        ph = max((oh - 1) * strides[0] + span_h - h, 0)
        pw = max((ow - 1) * strides[1] + span_w - wd, 0)
        top, left = ph // 2, pw // 2
    else:
        oh, ow = (h - span_h) // strides[0] + 1, (wd - span_w) // strides[1] + 1
        if oh <= 0 or ow <= 0:
            raise ValueError('kernel larger than x')
        ph = pw = top = left = 0
    canvas = np.zeros((n, h + ph, wd + pw, c), dtype=np.float32)
    canvas[:, top:top + h, left:left + wd, :] = x
    out = np.zeros((n, oh, ow, f), dtype=np.float32)
    for i in range(oh):
        for j in range(ow):
            r, s = i * strides[0], j * strides[1]
            patch = canvas[:, r:r + span_h:dilation_rate[0], s:s + span_w:dilation_rate[1], :]
            out[:, i, j, :] = np.einsum('nabc,abcf->nf', patch, w)
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float32)
    return out
