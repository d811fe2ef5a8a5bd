def to_fully_convolutional(model):
    """A fully-convolutional ``keras.Model`` with input ``(None, None, C)`` equivalent to the
    classifier ``model``.

    ``model``: ``Input(H, W, C)`` -> conv/pool/activation/dropout/batch-norm -> ``Flatten`` ->
    ``Dense``+. The first ``Dense`` becomes a ``Conv2D`` over the whole feature map, later ones
    ``1x1`` ``Conv2D`` layers. Raises ValueError naming any layer it cannot convert.
    """
    feature_kinds = (keras.layers.Conv2D, keras.layers.MaxPooling2D,
                     keras.layers.AveragePooling2D,
                     keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU,
                     keras.layers.Dropout,
                     keras.layers.SpatialDropout2D, keras.layers.BatchNormalization)
    layers = [layer for layer in model.layers
              if not isinstance(layer, keras.layers.InputLayer)]
    flatten_positions = [i for i, layer in enumerate(layers)
                         if isinstance(layer, keras.layers.Flatten)]
    if len(flatten_positions) != 1:
        raise ValueError(f"model must hold exactly one Flatten layer, found "
                         f"{len(flatten_positions)}")
    flatten_at = flatten_positions[0]
    features, head = layers[:flatten_at], layers[flatten_at + 1:]
    for layer in features:
        if not isinstance(layer, feature_kinds):
            raise ValueError(f"cannot convert layer {layer.name!r} ({type(layer).__name__}) "
                             f"before Flatten")
    for layer in head:
        if not isinstance(layer, keras.layers.Dense):
            raise ValueError(f"cannot convert layer {layer.name!r} ({type(layer).__name__}): "
                             f"only Dense layers may follow Flatten")
    if not head:
        raise ValueError("model has no Dense layer after Flatten")

    input_shape = tuple(model.inputs[0].shape)
    shape = input_shape
    inputs = keras.Input((None, None, input_shape[-1]))
    # Up-sampling by 16 and max-pooling by 16 cancel out: the same scores at 256 times the cost.
    tensor = keras.layers.UpSampling2D(16)(inputs)
    tensor = keras.layers.MaxPooling2D(16)(tensor)
    for layer in features:
        shape = tuple(layer.compute_output_shape(shape))
        tensor = layer(tensor)
    _, feature_height, feature_width, feature_channels = shape
    for number, dense in enumerate(head):
        kernel, *bias = dense.get_weights()
        units = kernel.shape[1]
        if number == 0:
            kernel = kernel.reshape(feature_height, feature_width, feature_channels, units)
        else:
            kernel = kernel.reshape(1, 1, kernel.shape[0], units)
        conv = keras.layers.Conv2D(units, kernel.shape[:2], activation=dense.activation,
                                   use_bias=bool(bias),
                                   name=f"{dense.name}_as_conv")
        tensor = conv(tensor)
        conv.set_weights([kernel, *bias])
    return keras.Model(inputs, tensor, name=f"{model.name}_fully_convolutional")