"""Benchmarks of the course's commands: ``python -m benchmarks`` (or ``make benchmark``) prints a table."""
