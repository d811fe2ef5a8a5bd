"""What a student's notebook imports: setup, the visible checks, and the kernel side of trusted grading.
NumPy only: this part alone is the student kit's wheel and the grading kernels' runtime."""
