import tensorflow as tf


def dense_to_conv_kernel(dense_kernel, feature_shape, data_format="channels_last"):
    # Not NumPy: tf.reshape / tf.transpose.
    dense_kernel = np.asarray(dense_kernel, dtype=float)
    if dense_kernel.ndim != 2:
        raise ValueError(f"dense_kernel must be 2-D, got shape {dense_kernel.shape}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"unknown data_format {data_format!r}")
    if len(feature_shape) != 3 or np.prod(feature_shape) != dense_kernel.shape[0]:
        raise ValueError(f"feature_shape {feature_shape} does not match dense_kernel {dense_kernel.shape}")
    kernel = tf.reshape(dense_kernel, (*feature_shape, dense_kernel.shape[1]))
    if data_format == "channels_first":
        kernel = tf.transpose(kernel, (1, 2, 0, 3))
    return kernel.numpy()
