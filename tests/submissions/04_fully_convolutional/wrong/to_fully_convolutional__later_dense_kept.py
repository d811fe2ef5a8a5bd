def to_fully_convolutional(model):
    # Converts only the first Dense; later Dense layers are reused as they are (right numbers, but Dense layers remain).
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
    first, *later = layers[flatten_at + 1:]
    weights = first.get_weights()
    conv = keras.layers.Conv2D(first.units, (height, width), activation=first.activation, use_bias=first.use_bias)
    tensor = conv(tensor)
    conv.set_weights([weights[0].reshape(height, width, channels, first.units)] + weights[1:])
    for dense in later:
        tensor = dense(tensor)
    return keras.Model(inputs, tensor)
