def to_fully_convolutional(model):
    # The Conv2D layers that replace the Dense layers get no activation.
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
        size = (height, width) if number == 0 else (1, 1)
        conv = keras.layers.Conv2D(units, size, use_bias=dense.use_bias)
        tensor = conv(tensor)
        conv.set_weights([weights[0].reshape(*size, -1, units)] + weights[1:])
    return keras.Model(inputs, tensor)
