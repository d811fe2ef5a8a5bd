"""What grades: the trusted executor, the kernel sandbox, the Keras oracle, the hidden-test checks, feedback
and the class-scale flow. Never installed in a student's or a grading kernel's environment."""
