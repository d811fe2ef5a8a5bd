def corr2d(image, kernel):
    # Correct values, but unusable arguments give an empty or broadcast array instead of a ValueError.
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    kh, kw = kernel.shape[0], kernel.shape[-1]
    out = np.zeros((max(image.shape[0] - kh + 1, 0), max(image.shape[1] - kw + 1, 0)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
