from scipy.signal import correlate2d


def corr2d(image, kernel):
    # Not hand-written: scipy.signal, imported before the call.
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"image and kernel must be 2-D and the kernel must fit: {image.shape}, {kernel.shape}")
    return correlate2d(image, kernel, mode="valid")
