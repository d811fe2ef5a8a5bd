"""The digits protocol of assignment 05, for the grader and the chapter: the student package's own
(:mod:`convcourse.student.digits`), so that the self-check a student runs from the kit and the hidden test train
on the same data in the same way."""

from convcourse.student.digits import (  # noqa: F401 (re-exported)
    BATCH_SIZE,
    EPOCHS,
    MODEL_SEED,
    REQUIRED_ACCURACY,
    SPLIT_SEED,
    TEST_SIZE,
    fit_as_contract,
    held_out_accuracy,
    load_digits_split,
    train_as_contract,
)
