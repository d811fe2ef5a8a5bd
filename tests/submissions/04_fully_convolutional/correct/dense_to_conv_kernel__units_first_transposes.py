def dense_to_conv_kernel(dense_kernel, feature_shape, data_format="channels_last"):
    # The seed notebook's way: put units first, reshape to the flatten order, then move the axes.
    dense_kernel = np.array(dense_kernel, dtype=np.float64)
    if dense_kernel.ndim != 2:
        raise ValueError(f"bad dense_kernel shape {dense_kernel.shape}")
    shape = tuple(feature_shape)
    if len(shape) != 3 or np.prod(shape) != dense_kernel.shape[0]:
        raise ValueError(f"feature_shape {shape} does not fit dense_kernel {dense_kernel.shape}")
    units = dense_kernel.shape[1]
    by_unit = dense_kernel.T.reshape(units, *shape)
    if data_format == "channels_first":
        return np.ascontiguousarray(by_unit.transpose(2, 3, 1, 0))
    if data_format == "channels_last":
        return np.ascontiguousarray(by_unit.transpose(1, 2, 3, 0))
    raise ValueError(f"data_format {data_format!r} is not supported")
