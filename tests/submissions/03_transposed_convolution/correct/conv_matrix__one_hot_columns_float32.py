def conv_matrix(kernel, input_shape, strides=1):
    # Column j is the strided cross-correlation of the j-th one-hot image, computed with plain loops, in float32.
    kernel = np.array(kernel, dtype=np.float32)
    if kernel.ndim != 2:
        raise TypeError("kernel must be a 2-D array")
    if np.ndim(strides) == 0:
        strides = (strides, strides)
    step_y, step_x = (int(s) for s in strides)
    if step_y <= 0 or step_x <= 0:
        raise ValueError("strides must be >= 1")
    rows, cols = (int(n) for n in input_shape)
    kh, kw = kernel.shape
    if not (1 <= kh <= rows and 1 <= kw <= cols):
        raise ValueError("the kernel does not fit inside input_shape")
    out_rows = len(range(0, rows - kh + 1, step_y))
    out_cols = len(range(0, cols - kw + 1, step_x))
    matrix = np.zeros((out_rows * out_cols, rows * cols), dtype=np.float32)
    for column in range(rows * cols):
        image = np.zeros(rows * cols, dtype=np.float32)
        image[column] = 1.0
        image = image.reshape(rows, cols)
        response = []
        for top in range(0, rows - kh + 1, step_y):
            for left in range(0, cols - kw + 1, step_x):
                response.append(float((image[top:top + kh, left:left + kw] * kernel).sum()))
        matrix[:, column] = response
    return matrix
