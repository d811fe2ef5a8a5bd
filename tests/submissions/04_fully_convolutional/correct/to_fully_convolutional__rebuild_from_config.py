def to_fully_convolutional(model):
    # New layers made from each layer's config (no layer shared), dropout left out, built as a Sequential.
    allowed = (keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, keras.layers.ReLU,
               keras.layers.Activation, keras.layers.BatchNormalization, keras.layers.Dropout)
    body = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    kinds = [type(layer).__name__ for layer in body]
    if "Flatten" not in kinds:
        raise ValueError("no Flatten layer in model")
    cut = kinds.index("Flatten")
    channels = model.inputs[0].shape[-1]
    new_model = keras.Sequential([keras.Input(shape=(None, None, channels))])
    feature_shape = model.inputs[0].shape
    for layer in body[:cut]:
        if not isinstance(layer, allowed):
            raise ValueError(f"layer {layer.name} of type {type(layer).__name__} is not supported")
        feature_shape = layer.compute_output_shape(feature_shape)
        if isinstance(layer, keras.layers.Dropout):
            continue  # identity at inference
        copy = type(layer).from_config(layer.get_config())
        new_model.add(copy)
        copy.set_weights(layer.get_weights())
    height, width, depth = feature_shape[1:]
    for position, layer in enumerate(body[cut + 1:]):
        if not isinstance(layer, keras.layers.Dense):
            raise ValueError(f"{layer.name} ({type(layer).__name__}) cannot follow Flatten")
        config = layer.get_config()
        size = (height, width) if position == 0 else (1, 1)
        conv = keras.layers.Conv2D(config["units"], size, activation=config["activation"],
                                   use_bias=config["use_bias"])
        new_model.add(conv)
        kernel = layer.kernel.numpy()
        conv.set_weights([kernel.reshape(size[0], size[1], -1, config["units"])]
                         + ([layer.bias.numpy()] if config["use_bias"] else []))
    return new_model
