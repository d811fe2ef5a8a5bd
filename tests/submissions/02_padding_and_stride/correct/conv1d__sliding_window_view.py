def conv1d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1):
    # Windows from sliding_window_view, then strided and dilated by slicing.
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    k = kernel.shape[0]
    span = dilation_rate * (k - 1) + 1
    L = x.shape[1]
    if padding == 'causal':
        pad = (span - 1, 0)
    elif padding == 'same':
        total = max(((L - 1) // strides) * strides + span - L, 0)
        pad = (total // 2, total - total // 2)
    elif padding == 'valid':
        if L < span:
            raise ValueError(f'kernel spans {span} steps but x has only {L}')
        pad = (0, 0)
    else:
        raise ValueError(f'unknown padding {padding}')
    xp = np.pad(x, [(0, 0), pad, (0, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(xp, span, axis=1)[:, ::strides, :, ::dilation_rate]
    y = np.einsum('nlck,kcf->nlf', windows, kernel)
    return y if bias is None else y + np.asarray(bias)
