"""Choose the fewest classifiers the hidden tests of 04 need, once, by running the catalogue of mistakes.

    python -m convcourse.assignments.a04_fully_convolutional.select_cases [--pool 16]

For each hidden test of ``to_fully_convolutional`` that draws random classifiers (:data:`.cases.HIDDEN_SWEEPS`),
every wrong implementation that the test failed with its old sweep of 10 to 20 classifiers
(:data:`.mistakes.CAUGHT_BY`: the catalogue of :mod:`.mistakes` and ``tests/submissions/04_*/wrong/``) is checked
against each of the first ``--pool`` classifiers of the sweep, one at a time; then the smallest set of them that
fails every such implementation and keeps what the test promises (:data:`PROMISES`) is printed, to be kept as the
sweep's ``numbers``.

:func:`grade_in_process` runs the solution notebook's test cells in this process with the graded functions bound
to given implementations: the grader's own checks, without the kernel round trip.
``tests/assignments/test_a04_catalogue.py`` grades the whole catalogue so.
"""

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ASSIGNMENT = "04_fully_convolutional"


def notebook_cells(assignment=ASSIGNMENT):
    """``(setup source, {function: answer source}, {grade_id: test source})`` of the solution notebook."""
    notebook = json.loads((REPO / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    setup, answers, tests = "", {}, {}
    for cell in notebook["cells"]:
        nbgrader = cell["metadata"].get("nbgrader", {})
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not nbgrader:
            continue
        if nbgrader.get("solution"):
            answers[nbgrader["grade_id"]] = source
        elif nbgrader.get("grade"):
            tests[nbgrader["grade_id"]] = source
        elif nbgrader.get("locked") and not setup:
            setup = source
    return setup, answers, tests


def implementations(source, namespace):
    """The functions an answer cell's ``source`` defines, run in a copy of ``namespace`` (the setup's imports)."""
    scope = dict(namespace)
    exec(compile(source, "<answer>", "exec"), scope)  # noqa: S102 (our own corpus, in a test)
    return {name: value for name, value in scope.items() if callable(value) and name not in namespace}


def grade_in_process(functions, cells=None, assignment=ASSIGNMENT):
    """``{grade_id: message}`` of the test cells (all, or those named in ``cells``) that fail with the solution's
    functions replaced by ``functions``; the message is the failure's first line."""
    setup, answers, tests = notebook_cells(assignment)
    namespace = {"__name__": "__graded__"}
    exec(compile(setup, "<setup>", "exec"), namespace)  # noqa: S102
    bound = {}
    for source in answers.values():
        bound.update(implementations(source, namespace))
    bound.update(functions)
    failed = {}
    for grade_id, source in tests.items():
        if cells is not None and grade_id not in cells:
            continue
        scope = dict(namespace, **bound)
        try:
            exec(compile(source, f"<{grade_id}>", "exec"), scope)  # noqa: S102
        except Exception as error:  # noqa: BLE001 (any exception fails the cell, as in a notebook)
            failed[grade_id] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:300]
    return failed


def wrong_submissions(function, assignment=ASSIGNMENT):
    """``{name: implementation}`` of ``tests/submissions/<assignment>/wrong/<function>__*.py``."""
    setup, _, _ = notebook_cells(assignment)
    namespace = {"__name__": "__graded__"}
    exec(compile(setup, "<setup>", "exec"), namespace)  # noqa: S102
    found = {}
    for path in sorted((REPO / "tests" / "submissions" / assignment / "wrong").glob(f"{function}__*.py")):
        found[f"submission {path.stem}"] = implementations(path.read_text(), namespace)[function]
    return found


def catalogue(function):
    """``{description: implementation}`` of :mod:`.mistakes`' catalogue for ``function``, compiled from its source
    as a student's cell would be (the hand-written guard refuses code of the course package)."""
    from convcourse.assignments.a04_fully_convolutional import mistakes

    scope = {"__name__": "__catalogue__"}
    exec(compile(Path(mistakes.__file__).read_text(), "<catalogue of mistakes>", "exec"), scope)  # noqa: S102
    return scope[f"{function}_catalogue"]()


def _kinds(model):
    return [type(layer).__name__ for layer in model.layers]


def _dense_activations(model):
    return {layer.get_config()["activation"] for layer in model.layers if type(layer).__name__ == "Dense"}


def _strided(model):
    from convcourse.assignments.a04_fully_convolutional.cases import total_stride

    return total_stride(model) != (1, 1)


# Per sweep of cases.HIDDEN_SWEEPS (its test cell is test_to_fully_convolutional_<name>): what the cell asks of
# check_fully_convolutional, and what its chosen classifiers must show between them (the exercise's promises), each
# a predicate on one classifier.
PROMISES = {
    "structure": (dict(structure=True), {"several Dense": lambda m: _kinds(m).count("Dense") >= 2}),
    "one_dense": ({}, {"max pooling": lambda m: "MaxPooling2D" in _kinds(m),
                       "average pooling": lambda m: "AveragePooling2D" in _kinds(m),
                       "a total stride above 1": _strided}),
    "dense_activation": ({}, {activation: (lambda a: lambda m: a in _dense_activations(m))(activation)
                              for activation in ("relu", "tanh", "softmax", "sigmoid")}),
    "several_dense": ({}, {"three Dense": lambda m: _kinds(m).count("Dense") == 3,
                           "two Dense": lambda m: _kinds(m).count("Dense") == 2}),
    "batch_norm_dropout": ({}, {"batch normalization and dropout": lambda m: {"BatchNormalization", "Dropout"}
                                <= set(_kinds(m))}),
    "score_map": (dict(larger_inputs=2, seed=4802), {"a total stride above 1": _strided,
                                                     "pooling": lambda m: "Pooling2D" in " ".join(_kinds(m))}),
}


def kills(implementation, model, check_arguments):
    """Does ``check_fully_convolutional`` fail ``implementation`` on this one classifier?"""
    from convcourse.assignments.a04_fully_convolutional.checks import check_fully_convolutional

    try:
        check_fully_convolutional(implementation, [model], **check_arguments)
    except AssertionError:
        return True
    return False


def choose(pool, must_kill, promises, largest=5):
    """The smallest set of pool indices (lowest numbers first among equals) whose classifiers kill every name in
    ``must_kill`` (``pool[i]`` is ``(model, set of names it kills)``) and keep every promise."""
    import itertools

    for size in range(1, largest + 1):
        for chosen in itertools.combinations(range(len(pool)), size):
            killed = set().union(*(pool[i][1] for i in chosen))
            kept = all(any(promise(pool[i][0]) for i in chosen) for promise in promises.values())
            if must_kill <= killed and kept:
                return chosen
    raise ValueError(f"no {largest} classifiers of the pool kill {sorted(must_kill)} and keep every promise")


def main(argv=None):
    from convcourse.assignments.a04_fully_convolutional.cases import HIDDEN_SWEEPS, classifier_cases
    from convcourse.assignments.a04_fully_convolutional.mistakes import CAUGHT_BY

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", type=int, default=16, help="candidate classifiers per sweep")
    args = parser.parse_args(argv)
    wrong = dict(catalogue("to_fully_convolutional"), **wrong_submissions("to_fully_convolutional"))
    for name, sweep in HIDDEN_SWEEPS.items():
        check_arguments, promises = PROMISES[name]
        grade_id = f"test_to_fully_convolutional_{name}"
        must_kill = {mistake for mistake, cells in CAUGHT_BY.items() if grade_id.removeprefix("test_") in cells}
        killed = {number: set() for number in range(args.pool)}
        for mistake in sorted(must_kill):
            # Fetched again for each: a mistake may change the models it is given (their weights are set back).
            for number, model in enumerate(classifier_cases(args.pool, sweep.seed, sweep.options)):
                if kills(wrong[mistake], model, check_arguments):
                    killed[number].add(mistake)
        pool = [(model, killed[number])
                for number, model in enumerate(classifier_cases(args.pool, sweep.seed, sweep.options))]
        missed = must_kill - set().union(*killed.values())
        if missed:
            raise SystemExit(f"{name}: no classifier of the pool fails {sorted(missed)}; try a larger --pool")
        chosen = choose(pool, must_kill, promises)
        print(f"{name}: numbers={chosen}  ({len(must_kill)} mistakes to fail)", flush=True)


if __name__ == "__main__":
    main()
