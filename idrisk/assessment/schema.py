"""JSON schema of an assessment result, and a small validator for it.

The schema is written out to ``docs/report-schema.json`` (``python -m idrisk.assessment.schema``;
a test checks the two agree). The validator implements the JSON-Schema keywords the schema
uses (type, properties, required, additionalProperties, items, enum, minimum, maximum,
$ref to $defs), so no extra dependency is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..exceptions import InvalidParameterError

__all__ = ["SCHEMA", "validate", "validate_result", "schema_errors"]

NUM = ["number", "null"]
_count = {"type": "integer", "minimum": 0}
_share = {"type": "number", "minimum": 0, "maximum": 1}
_counts_by_k = {"type": "object", "additionalProperties": _count}
_hist = {"type": "array", "items": {"type": "object", "required": ["low", "high", "count"],
                                    "properties": {"low": {"type": "number"}, "high": {"type": "number"},
                                                   "count": _count}, "additionalProperties": False}}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://idrisk.invalid/report-schema.json",
    "title": "idrisk assessment result",
    "description": "Output of idrisk.assess(...).to_json(). Aggregates only: no record-level values.",
    "type": "object",
    "required": ["schema_version", "meta", "config", "content", "route", "score", "indicators", "scenarios",
                 "mitigations", "warnings"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"type": "string", "enum": ["1.0"]},
        "meta": {
            "type": "object",
            "required": ["idrisk_version", "name", "input", "fingerprint_sha256", "fingerprint_of", "n_records",
                         "n_columns", "direct_identifiers_dropped", "census", "sampling_fraction"],
            "additionalProperties": False,
            "properties": {
                "idrisk_version": {"type": "string"}, "name": {"type": "string"},
                "input": {"type": ["string", "null"]},
                "fingerprint_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "fingerprint_of": {"type": "string", "enum": ["file", "frame"]},
                "n_records": {"type": "integer", "minimum": 1}, "n_columns": {"type": "integer", "minimum": 1},
                "direct_identifiers_dropped": {"type": "array", "items": {"type": "string"}},
                "census": {"type": "boolean"}, "sampling_fraction": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "config": {"type": "object", "required": ["scenarios", "thresholds", "seed"]},
        "content": {
            "type": "object", "required": ["direct_identifiers_present", "highest_tier", "flags", "census"],
            "properties": {"direct_identifiers_present": {"type": "array", "items": {"type": "string"}},
                           "highest_tier": {"type": ["integer", "null"], "minimum": 1, "maximum": 4},
                           "flags": {"type": "object", "additionalProperties": {"type": "boolean"}},
                           "census": {"type": "boolean"}},
        },
        "route": {
            "type": "object", "required": ["recommended", "underlying", "reasons"], "additionalProperties": False,
            "properties": {"recommended": {"type": "string", "enum": ["open", "safeguarded", "controlled",
                                                                      "refer back"]},
                           "underlying": {"type": "string", "enum": ["open", "safeguarded", "controlled"]},
                           "reasons": {"type": "array", "items": {"type": "string"}}},
        },
        "score": {
            "type": "object",
            "required": ["score", "content_flags_raised", "conditions_assessed", "conditions_breached",
                         "conditions_not_assessed", "meaning"],
            "properties": {"score": _count, "content_flags_raised": _count, "conditions_assessed": _count,
                           "conditions_breached": _count, "conditions_not_assessed": _count,
                           "meaning": {"type": "string"}},
        },
        "indicators": {"type": "array", "items": {"$ref": "#/$defs/indicator"}},
        "scenarios": {"type": "array", "items": {"$ref": "#/$defs/scenario"}},
        "mitigations": {
            "type": "object", "required": ["scenario", "candidates"],
            "properties": {"scenario": {"type": ["string", "null"]},
                           "drivers": {"type": "array", "items": {"type": "string"}},
                           "candidates": {"type": "array", "items": {"$ref": "#/$defs/mitigation"}}},
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
    "$defs": {
        "indicator": {
            "type": "object",
            "required": ["id", "label", "scenario", "value", "threshold", "operator", "holds", "basis", "source",
                         "effect", "not_assessed_reason"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "enum": ["direct_identifiers", "tier", "social_care",
                                                  "exclusion_or_absence_reasons", "small_area_geography",
                                                  "membership_sensitive", "min_k", "sample_unique_share",
                                                  "max_individual_risk", "special_uniques", "distinct_l",
                                                  "intruder_claims"]},
                "label": {"type": "string"}, "scenario": {"type": ["string", "null"]},
                "value": {"type": ["number", "boolean", "null"]},
                "threshold": {"type": ["number", "boolean"]},
                "operator": {"type": "string", "enum": ["<=", ">=", "=="]},
                "holds": {"type": ["boolean", "null"]},
                "basis": {"type": "string", "enum": ["law", "guidance", "idrisk default"]},
                "source": {"type": "string"},
                "effect": {"type": "string", "enum": ["forces controlled", "safeguarded condition", "reported"]},
                "not_assessed_reason": {"type": ["string", "null"]},
            },
        },
        "scenario": {
            "type": "object", "required": ["name", "quasi_identifiers", "public", "measures", "not_computed"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "quasi_identifiers": {"type": "array", "items": {"type": "string"}},
                "public": {"type": "boolean"}, "intruder_preset": {"type": ["string", "null"]},
                "not_computed": {"type": "object", "additionalProperties": {"type": "string"}},
                "measures": {
                    "type": "object",
                    "properties": {
                        "k_anonymity": {
                            "type": "object",
                            "required": ["min_class_size", "records_below_k", "n1", "n2", "sample_unique_share"],
                            "properties": {"min_class_size": {"type": "integer", "minimum": 1},
                                           "n_classes": {"type": ["integer", "null"]},
                                           "records_below_k": _counts_by_k, "n1": _count, "n2": _count,
                                           "sample_unique_share": _share,
                                           "class_size_histogram": {"type": ["object", "null"],
                                                                    "additionalProperties": _count}}},
                        "individual_risk": {
                            "type": "object", "required": ["max_risk", "mean_risk", "expected_reidentifications"],
                            "properties": {"max_risk": _share, "mean_risk": _share,
                                           "records_above_threshold": _count,
                                           "expected_reidentifications": {"type": "number", "minimum": 0}}},
                        "suda": {"type": "object", "required": ["special_uniques_small_msu", "max_dis_score"],
                                 "properties": {"special_uniques_small_msu": _count,
                                                "records_with_msu": _count,
                                                "score_histogram": _hist,
                                                "attribute_contributions": {
                                                    "type": "object", "additionalProperties": {"type": NUM}}}},
                        "l_diversity": {"type": "object", "additionalProperties": {
                            "type": "object", "required": ["min_distinct_l"],
                            "properties": {"min_distinct_l": {"type": "integer", "minimum": 0}}}},
                        "t_closeness": {"type": "object", "additionalProperties": {
                            "type": "object", "required": ["max_t"], "properties": {"max_t": {"type": NUM}}}},
                        "combination_sweep": {"type": "array", "items": {
                            "type": "object", "required": ["subset", "size"],
                            "properties": {"subset": {"type": "array", "items": {"type": "string"}},
                                           "size": {"type": "integer", "minimum": 1}}}},
                        "intruder": {"type": "object", "required": ["claims", "correct_claims"],
                                     "properties": {"claims": _count, "correct_claims": _count,
                                                    "correct_claims_at_confidence": _count}},
                    },
                },
            },
        },
        "mitigation": {
            "type": "object",
            "required": ["variable", "kind", "description", "at_risk", "sample_uniques", "max_risk",
                         "risk_removed_share", "information_lost", "efficiency", "rank"],
            "additionalProperties": False,
            "properties": {
                "variable": {"type": "string"},
                "kind": {"type": "string", "enum": ["date to year", "grouping", "geography up one level",
                                                    "top-coding", "drop variable"]},
                "description": {"type": "string"}, "at_risk": _count, "sample_uniques": _count,
                "max_risk": _share, "risk_removed_share": {"type": "number", "maximum": 1},
                "information_lost": _share, "efficiency": {"type": NUM}, "rank": {"type": "integer", "minimum": 1},
            },
        },
    },
}

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is(v, t) -> bool:
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, _TYPES[t])


def _walk(v, s, root, path, errs):
    import re

    if "$ref" in s:
        name = s["$ref"].split("/")[-1]
        return _walk(v, root["$defs"][name], root, path, errs)
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
    validate(d)


if __name__ == "__main__":  # python -m idrisk.assessment.schema [PATH]: write the schema file
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report-schema.json")
    out.write_text(json.dumps(SCHEMA, indent=2, sort_keys=True) + "\n", encoding="utf-8")
