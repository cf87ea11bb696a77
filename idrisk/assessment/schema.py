"""JSON schema of an assessment result, made from the result types, and its validator.

:data:`SCHEMA` is generated from the annotations of :class:`~idrisk.assessment.AssessmentResult`
and its parts (:mod:`idrisk.assessment._typed`), so the schema cannot drift from the types.
It is written out to ``docs/report-schema.json`` (``python -m idrisk.assessment.schema``;
a test checks the two agree). The validator (:mod:`idrisk.assessment._jsonschema`) implements
the JSON-Schema keywords the schema uses, so no extra dependency is needed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from . import _jsonschema
from .result import AssessmentResult

__all__ = ["SCHEMA", "make_schema", "validate", "validate_result", "schema_errors"]


def make_schema() -> dict:
    """The JSON schema of ``AssessmentResult.to_dict()``, from the result types."""
    return copy.deepcopy(_jsonschema.build_schema(AssessmentResult))


SCHEMA = make_schema()


def schema_errors(instance, schema=None) -> list[str]:
    """Every violation of ``schema`` (default: :data:`SCHEMA`) by ``instance``."""
    return _jsonschema.schema_errors(instance, SCHEMA if schema is None else schema)


def validate(instance, schema=None) -> None:
    """Raise :class:`~idrisk.exceptions.InvalidParameterError` unless ``instance`` matches."""
    _jsonschema.validate(instance, SCHEMA if schema is None else schema)


def validate_result(d) -> None:
    """Raise :class:`~idrisk.exceptions.InvalidParameterError` unless ``d`` is a valid result."""
    validate(d)


if __name__ == "__main__":  # python -m idrisk.assessment.schema [PATH] [--overwrite]: write the schema file
    import sys

    args = [a for a in sys.argv[1:] if a != "--overwrite"]
    out = Path(args[0] if args else "docs/report-schema.json")
    if out.exists() and "--overwrite" not in sys.argv[1:]:
        raise SystemExit(f"{out} exists; add --overwrite to replace it")
    out.write_text(json.dumps(SCHEMA, indent=2, sort_keys=True) + "\n", encoding="utf-8")
