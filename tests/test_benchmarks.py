"""The benchmark prints a grading figure only for a class that was really graded."""

import pytest

from benchmarks import __main__ as benchmarks


def test_a_class_short_of_full_marks_is_refused_not_timed(monkeypatch):
    # What a class graded without bubblewrap looks like: every grade cell failed.
    monkeypatch.setattr(benchmarks.grading, "scores", lambda course, assignment, students: {
        "alice": {"conv2d_matches_keras": (2.0, 2.0)},
        "bob": {"conv2d_matches_keras": (0.0, 2.0)},
    })
    with pytest.raises(RuntimeError, match="1 of 2 .*first: bob"):
        benchmarks._require_full_marks("course", "01_cross_correlation", ["alice", "bob"])


def test_a_missing_student_is_refused(monkeypatch):
    monkeypatch.setattr(benchmarks.grading, "scores", lambda course, assignment, students: {
        "alice": {"conv2d_matches_keras": (2.0, 2.0)}})
    with pytest.raises(RuntimeError, match="1 of 2 .*first: bob"):
        benchmarks._require_full_marks("course", "01_cross_correlation", ["alice", "bob"])


def test_a_class_with_full_marks_passes(monkeypatch):
    monkeypatch.setattr(benchmarks.grading, "scores", lambda course, assignment, students: {
        student: {"conv2d_matches_keras": (2.0, 2.0)} for student in students})
    benchmarks._require_full_marks("course", "01_cross_correlation", ["alice", "bob"])
