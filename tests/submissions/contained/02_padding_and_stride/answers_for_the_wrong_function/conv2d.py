def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    # YOUR CODE HERE
    raise NotImplementedError()
