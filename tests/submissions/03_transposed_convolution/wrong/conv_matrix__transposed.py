def conv_matrix(kernel, input_shape, strides=1):
    # Returns C transposed, (H*W, OH*OW): the matrix of the transposed convolution, not of the convolution.
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 2:
        raise ValueError(f"kernel must be 2-D, got {kernel.shape}")
    sh, sw = (strides, strides) if np.isscalar(strides) else strides
    if sh < 1 or sw < 1:
        raise ValueError(f"strides must be positive, got {strides}")
    height, width = input_shape
    kh, kw = kernel.shape
    if kh > height or kw > width:
        raise ValueError(f"kernel {kernel.shape} larger than input_shape {input_shape}")
    oh, ow = (height - kh) // sh + 1, (width - kw) // sw + 1
    columns = []
    for i in range(oh):
        for j in range(ow):
            window = np.zeros((height, width))
            window[i * sh:i * sh + kh, j * sw:j * sw + kw] = kernel
            columns.append(window.ravel())
    return np.stack(columns, axis=1)
