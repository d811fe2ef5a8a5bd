import os


def conv_params(kernel_size, in_channels, filters, use_bias=True):
    os._exit(1)
