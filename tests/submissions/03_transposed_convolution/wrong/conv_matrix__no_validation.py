def conv_matrix(kernel, input_shape, strides=1):
    # Builds the right matrix for good arguments but never checks them (kernel too big, 3-D kernel, stride 0).
    kernel = np.asarray(kernel, dtype=float)
    sh, sw = (strides, strides) if np.isscalar(strides) else strides
    height, width = input_shape
    kh, kw = kernel.shape
    oh, ow = (height - kh) // sh + 1, (width - kw) // sw + 1
    matrix = np.zeros((oh * ow, height * width))
    for i in range(oh):
        for j in range(ow):
            window = np.zeros((height, width))
            window[i * sh:i * sh + kh, j * sw:j * sw + kw] = kernel
            matrix[i * ow + j] = window.ravel()
    return matrix
