"""The models the instructor's solution returned while the references were computed, known again when a student
returns the same.

While :mod:`convcourse.grader.precompute` runs the solution's tests, a check that judged a returned model and
found it right keeps, in the reference cache, that this model (by :meth:`ModelSpec.canonical_digest`: its config,
names aside, and its weights' bytes) answers this original (by :meth:`ModelSpec.digest`), and what it gave on each
input the check ran it on. A student whose function returns that very model for that very original is then judged
on those kept outputs, and the grader builds nothing in Keras for it. Any other model, or any input the solution's
model was not run on, is built and run as before; nothing a student returns is kept.
"""

import os

import numpy as np

from convcourse.grader import checks
from convcourse.grader.modelspec import ModelSpec

_ANSWER = np.ones(1, dtype=np.int8)


def _folder():
    return os.environ.get("CONVCOURSE_REFERENCE_CACHE")


def _answer_key(original, canonical):
    return checks._digest_call(repr(("solution answers", original.digest(), canonical)), ())


def _outputs_key(canonical, x):
    return checks._digest_call(repr(("solution model outputs", canonical)), (x,))


def remember(original, returned, inputs_and_outputs):
    """While the references are computed (and only then): ``returned`` (the solution's Keras model) answers
    ``original`` and gives each ``outputs`` on its ``x`` (pairs)."""
    folder = _folder()
    if not folder or not checks.computing_ahead():
        return
    canonical = ModelSpec.from_keras(returned).canonical_digest()
    kept = [(_outputs_key(canonical, x), np.asarray(outputs)) for x, outputs in inputs_and_outputs]
    for key, value in [*kept, (_answer_key(original, canonical), _ANSWER)]:
        if checks.cached_on_disk(folder, key) is None:
            checks.keep_on_disk(folder, key, value)


def is_solution_answer(original, returned):
    """Did the solution return ``returned`` (a :class:`ModelSpec`) for ``original`` while the references were
    computed?"""
    folder = _folder()
    return bool(folder) and checks.cached_on_disk(folder, _answer_key(original, returned.canonical_digest())) \
        is not None


def kept_outputs(returned, x):
    """What the solution's model equal to ``returned`` gave on ``x``, or ``None`` when it was not run on ``x``."""
    folder = _folder()
    return checks.cached_on_disk(folder, _outputs_key(returned.canonical_digest(), x)) if folder else None
