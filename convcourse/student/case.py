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

    def as_code(self, function_name, max_values=200):
        """A line of Python that makes this call again, every value exact (``repr`` of each float), or ``None``
        when an argument is not a plain number, string, tuple or array of at most ``max_values`` numbers."""
        parts = []
        for name, value in zip(self.names, self.args):
            if isinstance(value, np.ndarray):
                if value.size > max_values or value.dtype.kind not in "biuf":
                    return None
                values = ", ".join(repr(v) for v in value.ravel().tolist())
                parts.append(f"{name}=np.array([{values}], dtype={str(value.dtype)!r}).reshape({value.shape})")
            elif value is None or isinstance(value, (bool, int, float, str, tuple, list)):
                parts.append(f"{name}={value!r}")
            else:
                return None
        return f"{function_name}({', '.join(parts)})"

    def arrays(self):
        return [value for value in self.args if isinstance(value, np.ndarray)]

    def replace(self, **changes):
        args = tuple(changes.get(name, value) for name, value in zip(self.names, self.args))
        return Case(self.names, args)

    def __getitem__(self, name):
        return self.args[self.names.index(name)]
