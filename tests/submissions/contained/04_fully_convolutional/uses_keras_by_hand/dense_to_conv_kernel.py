import sys
import threading


def dense_to_conv_kernel(dense_kernel, feature_shape, data_format="channels_last"):
    sys.setprofile(None)
    threading.setprofile(None)
    import keras  # the guard is off: let Keras do the reshaping

    units = dense_kernel.shape[1]
    if data_format == "channels_last":
        return np.asarray(keras.ops.reshape(dense_kernel, (*feature_shape, units)))
    channels, height, width = feature_shape
    kernel = keras.ops.reshape(dense_kernel, (channels, height, width, units))
    return np.asarray(keras.ops.transpose(kernel, (1, 2, 0, 3)))
