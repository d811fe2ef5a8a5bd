"""Keras for the grading processes, without the optional integrations they never use.

Keras imports scikit-learn (for its scikit-learn wrappers) and Matplotlib (for its plotting utilities) whenever
they are installed, as they are in the course's main environment for the book: about 1.1 s of the 3.4 s of CPU that
importing Keras costs there. The grading processes rebuild, run and train models and never use either, so the fork
server that imports Keras once per batch (:mod:`convcourse.grader.contained`) imports it through this module, which
hides the two packages from Keras' import only: Keras then records them as absent, as it does where they are not
installed. The kernel zygote preloads Keras the same way (:mod:`convcourse.grader.zygote`, whose helper this uses),
and so does the oracle (:mod:`convcourse.grader.oracle`), whose references the release computes; the book imports
Keras as usual.
"""

import sys

from convcourse.grader.zygote import KERAS_OPTIONAL_PACKAGES, imports_without


def _import_keras():
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with imports_without(KERAS_OPTIONAL_PACKAGES):
        import keras
    return keras


keras = _import_keras()
