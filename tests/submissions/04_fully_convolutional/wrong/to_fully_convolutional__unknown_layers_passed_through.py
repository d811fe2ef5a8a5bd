def to_fully_convolutional(model):
    # Never refuses: every layer that is not Flatten or Dense is reused as it is, whatever it does.
    layers = model.layers[1:]
    flatten_at = next(i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Flatten))
    inputs = keras.Input((None, None, model.inputs[0].shape[-1]))
    tensor = inputs
    for layer in layers[:flatten_at]:
        tensor = layer(tensor)
    _, height, width, channels = layers[flatten_at].input.shape
    converted = 0
    for layer in layers[flatten_at + 1:]:
        if not isinstance(layer, keras.layers.Dense):
            tensor = layer(tensor)
            continue
        weights = layer.get_weights()
        units = weights[0].shape[1]
        size = (height, width) if converted == 0 else (1, 1)
        conv = keras.layers.Conv2D(units, size, activation=layer.activation, use_bias=layer.use_bias)
        tensor = conv(tensor)
        conv.set_weights([weights[0].reshape(*size, -1, units)] + weights[1:])
        converted += 1
    return keras.Model(inputs, tensor)
