"""JSON schema of an assessment result, made from the result types, and its validator.

:data:`SCHEMA` is generated from the annotations of :class:`~idrisk.assessment.AssessmentResult`
and its parts (:mod:`idrisk.assessment._typed`), so the schema cannot drift from the types.
It is written out to ``docs/report-schema.json`` (``python -m idrisk.assessment.schema``;
a test checks the two agree). The validator implements the JSON-Schema keywords the schema
uses (type, properties, required, additionalProperties, items, enum, minimum, maximum,
pattern, anyOf, $ref to $defs), so no extra dependency is needed.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from ..exceptions import InvalidParameterError
from ._typed import schema_of
from .result import AssessmentResult

__all__ = ["SCHEMA", "make_schema", "validate", "validate_result", "schema_errors"]


def make_schema() -> dict:
    """The JSON schema of ``AssessmentResult.to_dict()``, from the result types."""
    defs: dict = {}
    top = schema_of(AssessmentResult, defs)
    root = defs.pop(top["$ref"].rsplit("/", 1)[-1])
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://idrisk.invalid/report-schema.json",
            "title": "idrisk assessment result",
            "description": "Output of idrisk.assess(...).to_json(). Aggregates only: no record-level values.",
            **{k: v for k, v in root.items() if k != "description"},
            "$defs": dict(sorted(defs.items()))}


SCHEMA = make_schema()

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is(v, t) -> bool:
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":  # JSON numbers are finite (Python's json reads "Infinity" and "NaN" too)
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return isinstance(v, _TYPES[t])


def _walk(v, s, root, path, errs):
    if "$ref" in s:
        name = s["$ref"].split("/")[-1]
        return _walk(v, root["$defs"][name], root, path, errs)
    if "anyOf" in s:
        if all(_errors(v, alt, root, path) for alt in s["anyOf"]):
            errs.append(f"{path or '/'}: matches none of the allowed forms")
        return
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(_is(v, t) for t in types):
            errs.append(f"{path or '/'}: expected {' or '.join(types)}, got {type(v).__name__}")
            return
    if "enum" in s and v not in s["enum"]:
        errs.append(f"{path}: {v!r} is not one of {s['enum']}")
    if _is(v, "number"):
        if "minimum" in s and v < s["minimum"]:
            errs.append(f"{path}: {v} < minimum {s['minimum']}")
        if "maximum" in s and v > s["maximum"]:
            errs.append(f"{path}: {v} > maximum {s['maximum']}")
    if isinstance(v, str) and "pattern" in s and not re.search(s["pattern"], v):
        errs.append(f"{path}: {v!r} does not match {s['pattern']}")
    if isinstance(v, dict):
        for r in s.get("required", []):
            if r not in v:
                errs.append(f"{path}: missing required key {r!r}")
        props = s.get("properties", {})
        extra = s.get("additionalProperties", True)
        for k, x in v.items():
            if k in props:
                _walk(x, props[k], root, f"{path}/{k}", errs)
            elif extra is False:
                errs.append(f"{path}: unexpected key {k!r}")
            elif isinstance(extra, dict):
                _walk(x, extra, root, f"{path}/{k}", errs)
    if isinstance(v, list) and "items" in s:
        for i, x in enumerate(v):
            _walk(x, s["items"], root, f"{path}/{i}", errs)


def _errors(v, s, root, path) -> list[str]:
    errs: list[str] = []
    _walk(v, s, root, path, errs)
    return errs


def schema_errors(instance, schema=None) -> list[str]:
    """Every violation of ``schema`` (default: :data:`SCHEMA`) by ``instance``."""
    schema = SCHEMA if schema is None else schema
    errs: list[str] = []
    _walk(instance, schema, schema, "", errs)
    return errs


def validate(instance, schema=None) -> None:
    errs = schema_errors(instance, schema)
    if errs:
        raise InvalidParameterError(f"the result does not match the schema ({len(errs)} problem(s)): "
                                    + "; ".join(errs[:5]))


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
