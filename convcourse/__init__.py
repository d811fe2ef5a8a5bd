"""Helpers shared by the chapters, the assignments and the tests of the course
*Convolutions by hand, checked against Keras*.

The package holds no solution: the Keras layers are the reference, run through
:mod:`convcourse.oracle`. Import what you need explicitly, for example
``from convcourse.grader.oracle import keras_conv2d``.
"""

__version__ = "0.1.0"
