def dense_to_conv_kernel(dense_kernel, feature_shape, data_format="channels_last"):
    # Right for good arguments; anything else slips through (an unknown data_format is taken as channels-last).
    dense_kernel = np.asarray(dense_kernel, dtype=float)
    units = dense_kernel.shape[-1]
    if data_format == "channels_first":
        channels, height, width = feature_shape
        return dense_kernel.reshape(channels, height, width, units).transpose(1, 2, 0, 3)
    return np.resize(dense_kernel, (*feature_shape, units))
