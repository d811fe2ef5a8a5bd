def conv_matrix(kernel, input_shape, strides=1):
    # Numbers pixels column by column (Fortran order), as MATLAB would: M works on x.ravel(order="F").
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
    matrix = np.zeros((oh * ow, height * width))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    matrix[i + j * oh, (i * sh + a) + (j * sw + b) * height] = kernel[a, b]
    return matrix
