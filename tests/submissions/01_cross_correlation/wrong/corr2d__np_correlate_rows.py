def corr2d(image, kernel):
    # Not hand-written: np.correlate, one row at a time, caught even when the error is swallowed.
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"image and kernel must be 2-D and the kernel must fit: {image.shape}, {kernel.shape}")
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for a in range(kh):
            try:
                out[i] += np.correlate(image[i + a], kernel[a], mode="valid")
            except Exception:
                out[i] += [(image[i + a, j:j + kw] * kernel[a]).sum() for j in range(out.shape[1])]
    return out
