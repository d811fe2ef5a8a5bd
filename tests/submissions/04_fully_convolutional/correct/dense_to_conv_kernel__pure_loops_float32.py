def dense_to_conv_kernel(dense_kernel, feature_shape, data_format="channels_last"):
    # Row by row with an explicit flat index, in float32, with other error wording.
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("data_format: expected channels_last or channels_first")
    rows = np.asarray(dense_kernel, dtype=np.float32)
    if len(rows.shape) != 2:
        raise TypeError("dense_kernel should be a matrix")
    if len(tuple(feature_shape)) != 3:
        raise ValueError("feature_shape needs exactly 3 entries")
    if data_format == "channels_last":
        height, width, channels = feature_shape
    else:
        channels, height, width = feature_shape
    if height * width * channels != rows.shape[0]:
        raise ValueError("dense_kernel rows != product of feature_shape")
    kernel = np.zeros((height, width, channels, rows.shape[1]), dtype=np.float32)
    for h in range(height):
        for w in range(width):
            for c in range(channels):
                if data_format == "channels_last":
                    row = (h * width + w) * channels + c
                else:
                    row = (c * height + h) * width + w
                kernel[h, w, c, :] = rows[row]
    return kernel
