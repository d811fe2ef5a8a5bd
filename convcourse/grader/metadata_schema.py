"""nbgrader's cell-metadata validation, with one validator per schema.

nbgrader checks every cell's ``nbgrader`` metadata with ``jsonschema.validate``, which first checks the schema
itself, on every call: about 0.1 s of CPU per graded notebook, for a schema that never changes. :func:`install`
makes nbgrader validate with a validator built (and its schema checked) once; every verdict and error is the one
``jsonschema.validate`` gives.
"""

import json
import types

import jsonschema

_VALIDATORS = {}


def validate(instance, schema):
    """``jsonschema.validate(instance, schema)``, with the validator of ``schema`` kept after its first use (under
    the schema's text: nbgrader reads the same schema into a new dict for every notebook)."""
    key = json.dumps(schema, sort_keys=True)
    validator = _VALIDATORS.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _VALIDATORS[key] = cls(json.loads(key))  # its own copy: the caller's dict may change
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


def install():
    """Point nbgrader's metadata validation (``nbgrader.nbgraderformat.common``) at :func:`validate`."""
    from nbgrader.nbgraderformat import common

    common.jsonschema = types.SimpleNamespace(validate=validate)
