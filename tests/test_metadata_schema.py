"""nbgrader's cell-metadata validation with a validator kept per schema (convcourse.grader.metadata_schema) gives
the verdicts and errors of ``jsonschema.validate``, and nbgrader's own validator uses it once installed."""

import jsonschema
import pytest
from nbformat.v4 import new_code_cell
from nbgrader.nbgraderformat import MetadataValidator, ValidationError

from convcourse.grader import metadata_schema

GOOD = {"grade": True, "grade_id": "test_corr2d", "locked": True, "points": 2, "schema_version": 3, "solution": False}


@pytest.mark.parametrize("metadata", [
    GOOD,
    dict(GOOD, points="two"),
    dict(GOOD, grade_id=7),
    {key: value for key, value in GOOD.items() if key != "solution"},
])
def test_the_kept_validator_agrees_with_jsonschema(metadata):
    schema = MetadataValidator().schema
    try:
        jsonschema.validate(metadata, schema)
        expected = None
    except jsonschema.ValidationError as error:
        expected = error.message
    for _ in range(2):  # built, then kept
        try:
            metadata_schema.validate(metadata, MetadataValidator().schema)
            found = None
        except jsonschema.ValidationError as error:
            found = error.message
        assert found == expected


def test_nbgrader_validates_with_it_once_installed(monkeypatch):
    from nbgrader.nbgraderformat import common

    monkeypatch.setattr(common, "jsonschema", common.jsonschema)  # restored after the test
    metadata_schema.install()
    assert common.jsonschema.validate is metadata_schema.validate
    MetadataValidator().validate_cell(new_code_cell(metadata={"nbgrader": GOOD}))
    with pytest.raises(ValidationError):
        MetadataValidator().validate_cell(new_code_cell(metadata={"nbgrader": dict(GOOD, points="two")}))
