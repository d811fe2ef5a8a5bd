"""One call of a graded function: its arguments, named as in the contract, and a readable description."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Case:
    """One call of a graded function: ``names`` and ``args`` in the contract's order."""

    names: tuple
    args: tuple

    def describe(self):
        parts = []
        for name, value in zip(self.names, self.args):
            if isinstance(value, np.ndarray):
                parts.append(f"{name} of shape {value.shape}")
            else:
                parts.append(f"{name}={value!r}")
        return ", ".join(parts)

    def arrays(self):
        return [value for value in self.args if isinstance(value, np.ndarray)]

    def replace(self, **changes):
        args = tuple(changes.get(name, value) for name, value in zip(self.names, self.args))
        return Case(self.names, args)

    def __getitem__(self, name):
        return self.args[self.names.index(name)]
