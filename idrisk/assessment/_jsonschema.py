"""A JSON schema made from result types, and a small validator for it (no dependency).

:func:`build_schema` walks the annotations of a result dataclass and its parts
(:mod:`idrisk.assessment._typed`). The validator implements the JSON-Schema keywords such a
schema uses (type, properties, required, additionalProperties, items, enum, minimum, maximum,
pattern, anyOf, $ref to $defs). Nothing here imports the result types themselves, so
:mod:`idrisk.assessment.result` can validate with it and :mod:`idrisk.assessment.schema` can
publish the schema of :class:`~idrisk.assessment.AssessmentResult`.
"""

from __future__ import annotations

import functools
import math
import re

from ..exceptions import InvalidParameterError
from ._typed import schema_of

__all__ = ["build_schema", "schema_errors", "validate"]


@functools.lru_cache(maxsize=None)
def build_schema(result_type: type) -> dict:
    """The JSON schema of ``result_type(...).to_dict()``, from its annotations."""
    defs: dict = {}
    top = schema_of(result_type, defs)
    root = defs.pop(top["$ref"].rsplit("/", 1)[-1])
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://idrisk.invalid/report-schema.json",
            "title": "idrisk assessment result",
            "description": "Output of idrisk.assess(...).to_json(). Aggregates only: no record-level values.",
            **{k: v for k, v in root.items() if k != "description"},
            "$defs": dict(sorted(defs.items()))}


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


def schema_errors(instance, schema: dict) -> list[str]:
    """Every violation of ``schema`` by ``instance``."""
    errs: list[str] = []
    _walk(instance, schema, schema, "", errs)
    return errs


def validate(instance, schema: dict) -> None:
    """Raise :class:`~idrisk.exceptions.InvalidParameterError` listing the first violations."""
    errs = schema_errors(instance, schema)
    if errs:
        raise InvalidParameterError(f"the result does not match the schema ({len(errs)} problem(s)): "
                                    + "; ".join(errs[:5]))
