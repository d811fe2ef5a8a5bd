"""The Keras references of the hidden tests, computed once at release (convcourse.grader.precompute) and kept on
disk (convcourse.grader.checks.reference_value) for every grading process of the class."""

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from corpus import REPO

from convcourse.grader import checks, grading, precompute
from convcourse.grader.cases import Case


def receptive_pair(layers):
    """A module-level reference that returns a tuple of ints, as the receptive-field oracle does."""
    return (sum(layers), len(layers))


def test_a_tuple_reference_is_kept_on_disk_and_comes_back_a_tuple(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    monkeypatch.setattr(checks, "_REFERENCE_CACHE", {})
    case = Case(("layers",), ([3, 5],))
    assert checks.reference_value(receptive_pair, case) == (8, 2)
    assert len(list(tmp_path.glob("*-tuple.npy"))) == 1
    monkeypatch.setattr(checks, "_REFERENCE_CACHE", {})  # another grading process: only the disk is shared
    again = checks.reference_value(receptive_pair, case)
    assert again == (8, 2) and type(again) is tuple and all(type(v) is int for v in again)


GRADIENT_RUNS = []


def gradients(x):
    """A module-level reference that returns a tuple of arrays, as the backward-pass oracles do."""
    GRADIENT_RUNS.append(1)
    return x * 2.0, x.sum(axis=0), np.arange(3)


def test_a_tuple_of_arrays_is_kept_on_disk_and_comes_back_equal(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    monkeypatch.setattr(checks, "_REFERENCE_CACHE", {})
    case = Case(("x",), (np.arange(6.0).reshape(2, 3),))
    first = checks.reference_value(gradients, case)
    assert len(list(tmp_path.glob("*-arrays.npz"))) == 1
    monkeypatch.setattr(checks, "_REFERENCE_CACHE", {})  # another grading process: only the disk is shared
    again = checks.reference_value(gradients, case)
    assert len(GRADIENT_RUNS) == 1, "the second process computed it again"
    assert type(again) is tuple and len(again) == 3
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(again, first, strict=True))


@pytest.mark.slow
def test_04s_classifiers_their_outputs_and_the_solutions_kernels_are_kept_at_release(tmp_path, monkeypatch):
    from convcourse.assignments.a04_fully_convolutional import cases
    from convcourse.assignments.a04_fully_convolutional import checks as a04_checks
    from convcourse.assignments.a04_fully_convolutional import references as a04_references

    assignment = "04_fully_convolutional"
    cache = tmp_path / "cache"
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(cache))
    monkeypatch.setattr(checks, "_MISTAKES_AHEAD", [False])
    monkeypatch.setattr(checks, "_REFERENCE_CACHE", {})
    course = grading.prepare_course(tmp_path / "course", [assignment])
    assert precompute.known_ahead(assignment, ["dense_to_conv_kernel", "to_fully_convolutional"]) \
        == frozenset({"dense_to_conv_kernel", "to_fully_convolutional"})
    assert precompute.compute(course, assignment) == []
    kept = sorted(cache.iterdir())
    assert len(kept) >= 13 + 10 + 4 + 24 + 24  # classifiers, outputs, score maps, Flatten + Dense, Conv2D

    # The hidden tests again, as a grading process runs them: everything is read from disk. Building a classifier,
    # or computing anything the cache should hold, fails the cell.
    def refused(*args, **keywords):
        raise AssertionError("computed again")

    monkeypatch.setattr(checks, "_REFERENCE_CACHE", {})
    monkeypatch.setattr(checks, "keep_on_disk", refused)
    monkeypatch.setattr(cases, "numbered_classifier", refused)
    monkeypatch.setattr(cases, "_build_unconvertible_classifiers", refused)
    monkeypatch.setattr(a04_checks, "window_scores", refused)
    monkeypatch.setattr(a04_references, "window_scores", refused)
    assert precompute.compute(course, assignment) == []
    # A kernel the solution never returned is run in Keras and not kept.
    monkeypatch.setattr(checks, "_MISTAKES_AHEAD", [False])
    features = np.ones((1, 2, 2, 1))
    assert checks.solution_value(a04_checks.keras_conv2d, (features, np.ones((2, 2, 1, 1)))).shape == (1, 1, 1, 1)
    assert sorted(cache.iterdir()) == kept


@pytest.mark.slow
def test_references_are_computed_once_and_again_only_when_the_tests_change(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(cache))
    assignment = "01_cross_correlation"
    course = grading.prepare_course(tmp_path / "course", [assignment])
    assert grading.precompute_references(course, assignment) == ""
    kept = sorted(cache.glob("*.npy"))
    assert len(kept) >= 13 + 10 + 4 + 24 + 24  # classifiers, outputs, score maps, Flatten + Dense, Conv2D, "the hidden tests of 01 check hundreds of seeded configurations against Keras"
    assert precompute.is_complete(course, assignment)

    def no_process(*args, **keywords):
        raise AssertionError("nothing changed: no process, no TensorFlow, no references")

    monkeypatch.setattr(grading.subprocess, "run", no_process)
    assert grading.precompute_references(course, assignment) == ""
    assert sorted(cache.glob("*.npy")) == kept

    notebook = course / "solutions" / assignment / f"{assignment}.ipynb"
    notebook.write_text(notebook.read_text().replace("60 configurations", "sixty configurations"))
    assert not precompute.is_complete(course, assignment), "changed tests need their references checked again"


def test_the_marker_follows_the_grading_code(tmp_path, monkeypatch):
    """The marker is named after the instructor's notebook and the grading code: editing a check recomputes."""
    course = grading.prepare_course(tmp_path / "course", ["01_cross_correlation"])
    package = tmp_path / "convcourse"
    shutil.copytree(REPO / "convcourse", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(precompute, "PACKAGE", package)
    before = precompute._marker(course, "01_cross_correlation")
    assert before.name.startswith("complete-01_cross_correlation-") and before.parent == Path(
        precompute.cache_folder(course))
    checks_source = package / "grader" / "checks.py"
    checks_source.write_text(checks_source.read_text() + "\n# a changed tolerance, say\n")
    assert precompute._marker(course, "01_cross_correlation") != before


def test_two_runs_at_once_compute_the_references_once(tmp_path, monkeypatch):
    """Two commands (or two classes graded at the same time) that precompute one assignment into one cache: the
    second waits for the first and finds the references complete."""
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path / "cache"))
    course = grading.prepare_course(tmp_path / "course", ["01_cross_correlation"])
    runs = []

    def slow_compute(course_root, assignment):
        runs.append(assignment)
        time.sleep(1)  # long enough for the other run to get past its first look at the marker
        return []

    monkeypatch.setattr(precompute, "compute", slow_compute)
    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(lambda _: precompute.main([str(course), "01_cross_correlation"]), range(2)))
    assert codes == [0, 0] and runs == ["01_cross_correlation"], runs
    assert precompute.is_complete(course, "01_cross_correlation")


HELPER_RUNS = []


def helper_reference(x, scale):
    """A module-level stand-in reference (as a graded helper's Keras reference is)."""
    HELPER_RUNS.append(1)
    return x * scale


def test_a_stand_in_call_the_solution_made_is_answered_from_the_cache_and_no_other_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    monkeypatch.setattr(checks, "_REFERENCE_CACHE", {})
    HELPER_RUNS.clear()
    x = np.arange(4.0)
    namespace = {"helper": lambda values, scale: values * scale}
    with precompute._stand_ins_recorded(namespace, {"helper": helper_reference}):
        assert np.array_equal(namespace["helper"](x, 3), x * 3)  # the solution's own helper still answers
    assert len(HELPER_RUNS) == 1 and len(list(tmp_path.iterdir())) == 1
    # A grading process: the same call is read from disk, another one is computed and not kept.
    assert np.array_equal(checks.stand_in_value(helper_reference, [x.copy(), 3]), x * 3)
    assert len(HELPER_RUNS) == 1, "the cached stand-in was computed again"
    assert np.array_equal(checks.stand_in_value(helper_reference, [x, 5]), x * 5)
    assert len(HELPER_RUNS) == 2 and len(list(tmp_path.iterdir())) == 1, "a kernel's own call was kept on disk"


MISTAKE_RUNS = []


def doubled_mistakes(reference):
    """A catalogue like the assignments' own: closures over a module-level reference."""

    def doubled(x):
        MISTAKE_RUNS.append(1)
        return 2 * reference(x)

    return {"the result is doubled": doubled}


def identity_reference(x):
    return x.copy()


def test_the_known_mistakes_are_computed_ahead_and_name_a_mistake_without_running_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    monkeypatch.setattr(checks, "_REFERENCE_CACHE", {})
    MISTAKE_RUNS.clear()
    cases = [Case(("x",), (np.arange(3.0) + k,)) for k in range(4)]
    mistakes = doubled_mistakes(identity_reference)
    monkeypatch.setattr(checks, "_MISTAKES_AHEAD", [False])
    checks.compute_mistakes_ahead()  # as the precompute process does
    checks.check_against_reference(identity_reference, cases, identity_reference, mistakes)
    assert len(MISTAKE_RUNS) == len(cases)
    # A grading process: a student's doubled result is named from the cache, the mistake never run again.
    monkeypatch.setattr(checks, "_MISTAKES_AHEAD", [False])
    with pytest.raises(AssertionError, match="the result is doubled"):
        checks.check_against_reference(lambda x: 2 * x, cases, identity_reference, doubled_mistakes(identity_reference))
    assert len(MISTAKE_RUNS) == len(cases), "a known mistake ran again in the grading process"


def test_two_lambdas_of_one_catalogue_are_kept_apart(tmp_path, monkeypatch):
    """Two mistakes of one catalogue share a qualified name (``…<locals>.<lambda>``): each keeps its own value."""
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    catalogue = {"doubled": lambda x: x * 2, "tripled": lambda x: x * 3}
    case = Case(("x",), (np.arange(3.0),))
    assert [checks.mistake_value(m, case).tolist() for m in catalogue.values()] == [[0, 2, 4], [0, 3, 6]]
    assert [checks.mistake_value(m, case).tolist() for m in catalogue.values()] == [[0, 2, 4], [0, 3, 6]]


def test_a_batch_reads_the_cache_once_and_hands_out_copies(tmp_path, monkeypatch):
    """The fork server of a batch reads the whole cache (convcourse.grader.contained): its workers need no file."""
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    monkeypatch.setattr(checks, "_PRELOADED", {})
    checks.keep_on_disk(str(tmp_path), "array", np.arange(3.0))
    checks.keep_on_disk(str(tmp_path), "pair", (np.ones(2), np.zeros(1)))
    checks.keep_on_disk(str(tmp_path), "shape", (4, 5))
    checks.preload_reference_cache()
    for path in tmp_path.iterdir():
        path.unlink()
    first = checks.cached_on_disk(str(tmp_path), "array")
    first[0] = 99.0  # a check that changes what it was given changes its own copy only
    assert np.array_equal(checks.cached_on_disk(str(tmp_path), "array"), np.arange(3.0))
    pair = checks.cached_on_disk(str(tmp_path), "pair")
    assert np.array_equal(pair[0], np.ones(2)) and np.array_equal(pair[1], np.zeros(1))
    assert checks.cached_on_disk(str(tmp_path), "shape") == (4, 5)
    assert checks.cached_on_disk(str(tmp_path), "missing") is None


def test_a_cache_too_large_to_hold_is_left_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVCOURSE_REFERENCE_CACHE", str(tmp_path))
    monkeypatch.setattr(checks, "_PRELOADED", {})
    monkeypatch.setattr(checks, "PRELOAD_LIMIT_BYTES", 100)
    checks.keep_on_disk(str(tmp_path), "large", np.zeros(1000))
    checks.preload_reference_cache()
    assert checks._PRELOADED == {}
    assert checks.cached_on_disk(str(tmp_path), "large").shape == (1000,)
