"""The grading processes' Keras leaves scikit-learn and Matplotlib out of its import, and only of its import."""

import subprocess
import sys


def test_the_graders_keras_imports_neither_sklearn_nor_matplotlib_and_hides_them_from_nothing_else():
    code = ("import sys\nimport convcourse.grader.lean_keras\n"
            "print(sorted(name for name in ('sklearn', 'matplotlib') if name in sys.modules))\n"
            "import keras\nprint(keras.layers.Dense(2)(keras.Input((3,))).shape)\n"
            "import sklearn, matplotlib\nprint('importable afterwards')\n")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.stdout.splitlines() == ["[]", "(None, 2)", "importable afterwards"], completed.stderr[-2000:]
