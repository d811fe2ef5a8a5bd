"""Unit tests of convcourse.checks: what passes, what fails, and what the messages say."""

import builtins

import numpy as np
import numpy.testing
import pytest

from convcourse.assignments.a01_cross_correlation.cases import conv2d_cases
from convcourse.assignments.a01_cross_correlation.mistakes import (
    conv_mistakes,
    flipped_kernel,
)
from convcourse.assignments.a01_cross_correlation.references import keras_corr2d
from convcourse.grader.cases import Case
from convcourse.grader.checks import check_against_reference, check_integer_results, check_rejects
from convcourse.student.checks import array_difference, check_example
from convcourse.grader.oracle import keras_conv2d


def einsum_conv2d(x, kernel, bias=None):
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel.shape[:2], axis=(1, 2))
    out = np.einsum("nhwcab,abcf->nhwf", windows, kernel)
    return out if bias is None else out + bias


def loop_corr2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum()
    return out


CASES = conv2d_cases(12, seed=5)


def test_a_correct_function_passes():
    check_against_reference(einsum_conv2d, CASES, keras_conv2d, conv_mistakes(keras_conv2d))


def test_float32_results_pass():
    check_against_reference(lambda *a: einsum_conv2d(*a).astype(np.float32), CASES, keras_conv2d)


def test_flipped_kernel_is_named():
    def convolution(image, kernel):
        return loop_corr2d(image, kernel[::-1, ::-1])

    cases = [Case(("image", "kernel"), (np.arange(12.0).reshape(3, 4), np.array([[1.0, 2.0], [3.0, 5.0]])))]
    with pytest.raises(AssertionError, match="the kernel is flipped"):
        check_against_reference(convolution, cases, keras_corr2d, flipped_kernel(keras_corr2d))


def test_missing_bias_is_named():
    cases = conv2d_cases(4, seed=1, use_bias=True)
    with pytest.raises(AssertionError, match="the bias is left out"):
        check_against_reference(lambda x, k, b: einsum_conv2d(x, k), cases, keras_conv2d, conv_mistakes(keras_conv2d))


def test_message_names_configuration_index_and_values():
    with pytest.raises(AssertionError) as failure:
        check_against_reference(lambda x, k, b: einsum_conv2d(x, k, b) + 1.0, CASES, keras_conv2d)
    message = str(failure.value)
    assert "configuration 1 of 12" in message
    assert "x of shape" in message and "at index" in message and "Keras gives" in message


def test_off_by_one_shape_is_explained():
    def short(x, kernel, bias):
        return einsum_conv2d(x, kernel, bias)[:, :-1]

    cases = conv2d_cases(3, seed=2)
    cases = [c for c in cases if c["x"].shape[1] > c["kernel"].shape[0]]
    with pytest.raises(AssertionError, match="off-by-one"):
        check_against_reference(short, cases, keras_conv2d)


def test_swapped_axes_are_explained():
    assert "wrong order" in array_difference(np.zeros((1, 3, 2, 4), dtype=float), np.zeros((1, 2, 3, 4)))


@pytest.mark.parametrize("returned, expected_words", [
    (np.ma.masked_all((2, 2)), "subclass of numpy.ndarray"),
    ([[0.0, 0.0], [0.0, 0.0]], "not a numpy.ndarray"),
    (np.zeros((2, 2), dtype=int), "dtype int64"),
    (np.full((2, 2), np.nan), "nan"),
])
def test_wrong_kinds_of_result_fail(returned, expected_words):
    assert expected_words in array_difference(returned, np.zeros((2, 2)))


def test_mutated_input_fails():
    def mutating(x, kernel, bias):
        x[...] = 0.0
        return einsum_conv2d(x, kernel, bias)

    with pytest.raises(AssertionError, match="changed its input 'x'"):
        check_against_reference(mutating, CASES[:1], keras_conv2d)


def test_patched_numpy_and_builtins_do_not_fool_the_checks(monkeypatch):
    always = lambda *a, **k: True  # noqa: E731
    monkeypatch.setattr(numpy.testing, "assert_allclose", always)
    monkeypatch.setattr(np, "allclose", always)
    monkeypatch.setattr(np, "abs", lambda a: np.zeros(np.shape(a)))
    monkeypatch.setattr(np, "absolute", lambda a: np.zeros(np.shape(a)))
    monkeypatch.setattr(builtins, "abs", lambda a: 0)
    with pytest.raises(AssertionError, match="at index"):
        check_against_reference(lambda x, k, b: np.zeros_like(einsum_conv2d(x, k, b)), CASES[:2], keras_conv2d)


def test_integer_results():
    cases = [Case(("a",), (3,)), Case(("a",), (4,))]
    check_integer_results(lambda a: np.int64(a * 2), cases, lambda a: a * 2)
    with pytest.raises(AssertionError, match="return an int"):
        check_integer_results(lambda a: float(a * 2), cases, lambda a: a * 2)
    with pytest.raises(AssertionError, match="returned 7, Keras gives 6"):
        check_integer_results(lambda a: a * 2 + 1, cases, lambda a: a * 2)


def test_rejects_requires_a_named_value_error():
    case = Case(("image", "kernel"), (np.ones((2, 2)), np.ones((3, 3))))

    def names_it(image, kernel):
        raise ValueError("kernel larger than image")

    def vague(image, kernel):
        raise ValueError("bad")

    def index_error(image, kernel):
        return image[5]

    check_rejects(names_it, case, ["image", "kernel"], "a kernel larger than the image")
    with pytest.raises(AssertionError, match="should name the argument"):
        check_rejects(vague, case, ["image", "kernel"], "a kernel larger than the image")
    with pytest.raises(AssertionError, match="raised IndexError"):
        check_rejects(index_error, case, ["image", "kernel"], "a kernel larger than the image")
    with pytest.raises(AssertionError, match="returned ndarray of shape"):
        check_rejects(lambda image, kernel: np.zeros((0, 0)), case, ["kernel"], "a kernel larger than the image")


def test_check_example_shows_expected_and_actual():
    with pytest.raises(AssertionError, match="expected:"):
        check_example(loop_corr2d, ["image", "kernel"], [np.ones((2, 2)), np.ones((1, 1))], [[1.0, 1.0], [1.0, 2.0]])
    check_example(loop_corr2d, ["image", "kernel"], [np.ones((2, 2)), np.ones((1, 1))], np.ones((2, 2)))


def test_a_correct_answer_that_warns_still_passes(recwarn):
    def noisy(x, kernel, bias):
        np.mean(np.array([]))  # RuntimeWarning: mean of empty slice
        return einsum_conv2d(x, kernel, bias)

    check_against_reference(noisy, CASES[:2], keras_conv2d)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_failing_check_tries_every_configuration_and_counts_them():
    def flipped_on_odd_batches(x, kernel, bias):
        return einsum_conv2d(x, kernel[::-1, ::-1] if x.shape[0] % 2 else kernel, bias)

    with pytest.raises(AssertionError) as failure:
        check_against_reference(flipped_on_odd_batches, CASES, keras_conv2d, conv_mistakes(keras_conv2d))
    message = str(failure.value)
    failing = [c for c in CASES if c["x"].shape[0] % 2 and array_difference(
        flipped_on_odd_batches(*c.args), keras_conv2d(*c.args)) is not None]
    assert message.startswith(f"flipped_on_odd_batches is wrong: {len(failing)} of 12 configurations failed; "
                              f"{12 - len(failing)} passed.")
    assert message.count("\n- configuration ") == min(len(failing), 3)
    assert "Likely mistake" in message and "the kernel is flipped" in message
    assert "x of shape" in message  # each failing configuration described, so it can be reproduced
    if len(failing) > 3:
        assert f"(and {len(failing) - 3} more)" in message


def test_an_exception_fails_its_configuration_only():
    def fails_on_one_pixel(x, kernel, bias):
        if x.shape[1] == 1:
            raise IndexError("index 1 is out of bounds")
        return einsum_conv2d(x, kernel, bias)

    with pytest.raises(AssertionError, match=r"1 of 12 configurations failed; 11 passed(.|\n)*raised IndexError"):
        check_against_reference(fails_on_one_pixel, CASES, keras_conv2d)


def test_a_kernel_that_cannot_answer_passes_through():
    from convcourse.grader.proxy import KernelDied

    def dies(*args):
        raise KernelDied("the kernel died")

    with pytest.raises(KernelDied):
        check_against_reference(dies, CASES[:2], keras_conv2d)
    with pytest.raises(KernelDied):
        check_integer_results(dies, [Case(("a",), (3,))], lambda a: a)


def test_integer_and_pair_checks_name_the_mistake():
    from convcourse.grader.checks import check_int_tuples

    cases = [Case(("i", "k"), (5, 4)), Case(("i", "k"), (5, 3)), Case(("i", "k"), (6, 2))]

    def split(i, k):
        return (k - 1) // 2, (k - 1) - (k - 1) // 2

    def top_heavy(i, k):
        return (k - 1) - (k - 1) // 2, (k - 1) // 2

    with pytest.raises(AssertionError) as failure:
        check_int_tuples(top_heavy, cases, split, {"the extra zero goes first": top_heavy})
    message = str(failure.value)
    assert "2 of 3 configurations failed; 1 passed" in message
    assert "returned (2, 1), Keras gives (1, 2)" in message and "exactly what you get if the extra zero goes first" in message
    with pytest.raises(AssertionError, match="return a tuple of 2 ints"):
        check_int_tuples(lambda i, k: [1.0, 2.0], cases[:1], split)
    check_int_tuples(lambda i, k: np.array(split(i, k)), cases, split)
    with pytest.raises(AssertionError, match="exactly what you get if it adds one"):
        check_integer_results(lambda a: a + 1, [Case(("a",), (3,))], lambda a: a, {"it adds one": lambda a: a + 1})


def test_check_example_names_a_mistake_given_as_data():
    image, kernel = np.arange(9.0).reshape(3, 3), np.array([[0.0, 1.0], [2.0, 3.0]])
    mistakes = {"the kernel is flipped": [[5.0, 11.0], [23.0, 29.0]], "it returns zeros": [[0.0, 0.0], [0.0, 0.0]]}
    with pytest.raises(AssertionError) as failure:
        check_example(lambda image, kernel: loop_corr2d(image, kernel[::-1, ::-1]), ["image", "kernel"],
                      [image, kernel], [[19.0, 25.0], [37.0, 43.0]], mistakes=mistakes)
    first, second = str(failure.value).splitlines()[:2]
    assert first.startswith("<lambda>(image of shape (3, 3), kernel of shape (2, 2)): at index")
    assert second == "This is exactly what you get if the kernel is flipped."
    with pytest.raises(AssertionError, match=r"returned \(2, 1\), expected \(1, 2\)\.\nThis is exactly what you get if"):
        check_example(lambda i, k: (2, 1), ["i", "k"], [5, 4], (1, 2), mistakes={"top-heavy": (2, 1)})
    check_example(lambda i, k: [1, 2], ["i", "k"], [5, 4], (1, 2))


def test_check_example_shows_the_differing_slice_of_a_4d_result():
    expected = np.arange(36.0).reshape(2, 3, 3, 2)
    wrong = expected.copy()
    wrong[1, 2, 0, 1] = -5.0
    with pytest.raises(AssertionError) as failure:
        check_example(lambda x: wrong.copy(), ["x"], [np.zeros(1)], expected)
    message = str(failure.value)
    assert "expected of sample 1, channel 1 ([1, :, :, 1]):" in message and "you returned:" in message
    block = message.split("\n\n", 1)[1].splitlines()
    assert len(block) == 4  # a title and the three rows of the 3x3 slice, side by side
    assert "-5." in block[3] and "31." in block[3]


def test_the_checks_frames_are_hidden_from_ipython():
    import inspect

    from convcourse.student import checks as student_checks

    for function in (student_checks.check_example, student_checks.call_graded, student_checks.array_difference):
        assert "__tracebackhide__" in inspect.getsource(function)


def test_a_students_own_assertion_fails_its_configuration_but_a_broken_rule_stops_the_check():
    from convcourse.grader.proxy import _replayed_exception

    class FromKernel:  # the grader's view of a function run in the student's kernel
        __name__ = "f"
        runs_in_kernel = True

        def prefetch(self, arg_lists):
            pass

        def __call__(self, a):
            if a == 1:
                raise _replayed_exception({"builtin": "AssertionError", "message": "x.ndim == 4", "type": "AssertionError"})
            return a

    cases = [Case(("a",), (1,)), Case(("a",), (2,))]
    with pytest.raises(AssertionError, match=r"1 of 2 configurations failed; 1 passed(.|\n)*raised AssertionError: x.ndim"):
        check_integer_results(FromKernel(), cases, lambda a: a)

    def mutating(x, kernel, bias):
        x[...] = 0.0
        return einsum_conv2d(x, kernel, bias)

    with pytest.raises(AssertionError, match="^mutating changed its input 'x'"):
        check_against_reference(mutating, CASES[:3], keras_conv2d)
