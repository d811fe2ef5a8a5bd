"""Keras for the grading processes, without the optional integrations they never use.

Keras imports scikit-learn (for its scikit-learn wrappers) and Matplotlib (for its plotting utilities) whenever
they are installed, as they are in the course's main environment for the book: about 1.1 s of the 3.4 s of CPU that
importing Keras costs there. The grading processes rebuild, run and train models and never use either, so the fork
server that imports Keras once per batch (:mod:`convcourse.grader.contained`) imports it through this module, which
hides the two packages from Keras' import only: Keras then records them as absent, as it does where they are not
installed. Kernels, the book and the release import Keras as usual.
"""

import importlib.abc
import sys

LEFT_OUT = ("sklearn", "matplotlib")


class _LeftOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in LEFT_OUT:
            raise ModuleNotFoundError(f"{name} is left out of the grader's Keras", name=name)
        return None


def _import_keras():
    if "keras" in sys.modules:
        return sys.modules["keras"]
    finder = _LeftOut()
    sys.meta_path.insert(0, finder)
    try:
        import keras
    finally:
        sys.meta_path.remove(finder)
    return keras


keras = _import_keras()
