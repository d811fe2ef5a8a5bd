def corr2d(image, kernel):
    # Plain Python loops over every product, returning float32.
    image = np.array(image, dtype=np.float64)
    kernel = np.array(kernel, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError("image must be a 2-D array")
    if kernel.ndim != 2 or kernel.size == 0:
        raise ValueError("kernel must be a non-empty 2-D array")
    rows = image.shape[0] - kernel.shape[0] + 1
    cols = image.shape[1] - kernel.shape[1] + 1
    if rows < 1 or cols < 1:
        raise ValueError("kernel is larger than image")
    result = np.empty((rows, cols), dtype=np.float32)
    for r in range(rows):
        for c in range(cols):
            total = 0.0
            for a in range(kernel.shape[0]):
                for b in range(kernel.shape[1]):
                    total += image[r + a, c + b] * kernel[a, b]
            result[r, c] = total
    return result
