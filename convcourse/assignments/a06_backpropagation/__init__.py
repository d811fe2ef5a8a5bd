"""Assignment 06 (backpropagation by hand): test cases, TensorFlow references, known mistakes and checks."""
