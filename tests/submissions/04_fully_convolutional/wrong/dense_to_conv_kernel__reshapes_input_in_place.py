def dense_to_conv_kernel(dense_kernel, feature_shape, data_format="channels_last"):
    # Right values, but assigns .shape on the caller's array (and returns it): the input is changed.
    if np.ndim(dense_kernel) != 2:
        raise ValueError(f"dense_kernel must be 2-D, got shape {np.shape(dense_kernel)}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"unknown data_format {data_format!r}")
    if len(feature_shape) != 3 or np.prod(feature_shape) != dense_kernel.shape[0]:
        raise ValueError(f"feature_shape {feature_shape} does not match dense_kernel {dense_kernel.shape}")
    units = dense_kernel.shape[1]
    dense_kernel.shape = (*feature_shape, units)
    if data_format == "channels_first":
        return dense_kernel.transpose(1, 2, 0, 3)
    return dense_kernel
