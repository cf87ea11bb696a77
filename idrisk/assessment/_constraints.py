"""The declared constraint of every assessment configuration field, in one table.

Each field of :class:`~idrisk.assessment.AssessmentConfig` (and each key of its TOML
layout) has one :class:`idrisk._validation.Param`: its type, range, choices, or that it
names columns. :func:`config_problems` checks every field of a configuration as given
(before anything is converted) and returns every problem at once, each in the one message
shape ``config [section]: key must be <what>; got <type/shape>``.
"""

from __future__ import annotations

from .._validation import Param, describe, param_problems
from ..profiles import PROFILES

__all__ = ["FIELDS", "SECTION", "TOML_KEY", "THRESHOLDS", "SCENARIO", "SENSITIVE", "FLAG_NAMES",
           "NO_LIMIT", "MISSING", "config_problems", "sensitive_problems", "threshold_problems"]

MISSING = ("category", "wildcard", "never")
#: the value of ``max_msu_size`` / ``sweep_max_size`` meaning "no limit" in TOML (it has no null)
NO_LIMIT = "none"
FLAG_NAMES = ("social_care", "exclusion_or_absence_reasons", "membership_sensitive", "small_area_geography")

_TIER = Param("int", low=1, high=4)
_SIZE = Param("int", low=1, optional=True, literals=(NO_LIMIT,))

#: AssessmentConfig field -> its constraint (scenarios, sensitive, thresholds and flags are
#: checked item by item below)
FIELDS: dict[str, Param] = {
    "data": Param("path", optional=True),
    "name": Param("str"),
    "profile": Param("choice", choices=tuple(PROFILES)),
    "direct_identifiers": Param("columns"),
    "removed": Param("columns"),
    "non_identifying": Param("columns"),
    "reference": Param("str", optional=True),
    "assessor": Param("str", optional=True),
    "date": Param("str", optional=True),
    "census": Param("bool", optional=True),
    "weights": Param("str", optional=True),
    "population_size": Param("int", low=1, optional=True),
    "seed": Param("int", low=0),
    "missing": Param("choice", choices=MISSING),
    "max_msu_size": _SIZE,
    "sweep_max_size": _SIZE,
    "k_values": Param("int_list", low=1, nonempty=True),
    "intruder_targets": Param("int", low=0),
    "intruder_runs": Param("int", low=1),
    "intruder_memory_budget": Param("int", low=1, optional=True),
    "mitigations": Param("bool"),
    "geography": Param("columns", optional=True),
    "groupings": Param("table", values=Param("str"), optional=True),
    "tiers": Param("table", values=_TIER),
}

#: the TOML section of each field, and its key there when it differs from the field name
SECTION = {**dict.fromkeys(("data", "name", "profile", "direct_identifiers", "removed", "non_identifying",
                            "reference", "assessor", "date", "census", "weights", "population_size"), "extract"),
           **dict.fromkeys(("seed", "missing", "max_msu_size", "sweep_max_size", "k_values",
                            "intruder_targets", "intruder_runs", "intruder_memory_budget", "mitigations"), "analysis"),
           "geography": "mitigation", "groupings": "mitigation", "tiers": "tiers", "flags": "flags",
           "thresholds": "thresholds", "sensitive": "sensitive", "scenarios": "[scenario]"}
TOML_KEY = {"data": "path"}

THRESHOLDS: dict[str, Param] = {
    "min_k": Param("int", low=1),
    "max_sample_unique_share": Param("number", low=0, high=1),
    "max_individual_risk": Param("number", low=0, high=1),
    "special_unique_msu_size": Param("int", low=1),
    "min_distinct_l": Param("int", low=1),
    "max_homogeneous_share": Param("number", low=0, high=1),
    "max_correct_claims": Param("int", low=0),
    "claim_confidence": Param("number", low=0, high=1),
    "refer_back_reduction": Param("number", low=0, high=1),
}

SCENARIO: dict[str, Param] = {
    "name": Param("str"),
    "quasi_identifiers": Param("columns", nonempty=True),
    "intruder": Param("str", optional=True),
    "public": Param("bool"),
}

SENSITIVE: dict[str, Param] = {"tier": Param("int", low=1, high=4, optional=True), "special_category": Param("bool")}


def _owner(field: str) -> str:
    return f"config [{SECTION.get(field, 'config')}]"


def threshold_problems(values: dict) -> list[str]:
    """Every problem of a thresholds table (unknown names and values out of range)."""
    unknown = sorted(str(k) for k in values if k not in THRESHOLDS)
    out = [f"config [thresholds]: unknown threshold(s): {', '.join(unknown)} (known: {', '.join(THRESHOLDS)})"] \
        if unknown else []
    return out + param_problems("config [thresholds]", values, THRESHOLDS)


def _scenario_problems(i: int, s) -> list[str]:
    owner = f"config [[scenario]] {i + 1}"
    if isinstance(s, (list, tuple)):
        return param_problems(owner, {"quasi_identifiers": list(s)}, SCENARIO)
    if not isinstance(s, dict):
        if all(hasattr(s, k) for k in SCENARIO):  # a Scenario
            return param_problems(owner, {k: getattr(s, k) for k in SCENARIO}, SCENARIO)
        return [f"{owner}: scenario must be a table or a list of column names; got {describe(s)}"]
    unknown = sorted(str(k) for k in s if k not in SCENARIO)
    out = [f"{owner}: unknown key(s) {', '.join(unknown)}"] if unknown else []
    if "quasi_identifiers" not in s:
        out.append(f"{owner}: quasi_identifiers must be {SCENARIO['quasi_identifiers'].what()}; got nothing")
    return out + param_problems(owner, s, SCENARIO)


def sensitive_problems(sensitive) -> list[str]:
    owner = "config [sensitive]"
    if isinstance(sensitive, dict):
        items = list(sensitive.items())
    elif isinstance(sensitive, (list, tuple)):
        items = [(s.get("name"), {k: v for k, v in s.items() if k != "name"}) if isinstance(s, dict)
                 else (getattr(s, "name", s), {k: getattr(s, k) for k in SENSITIVE} if hasattr(s, "tier") else {})
                 for s in sensitive]
    else:
        return [f"{owner}: sensitive must be a table of attribute -> {{ tier, special_category }} "
                f"or a list of column names; got {describe(sensitive)}"]
    out = []
    for name, spec in items:
        if not isinstance(name, str):
            out.append(f"{owner}: attribute names must be strings (column names); got {describe(name)}")
            continue
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec = {"tier": spec}
        if not isinstance(spec, dict):
            out.append(f"{owner}: {name} must be a table like {{ tier = 1 }}; got {describe(spec)}")
            continue
        unknown = sorted(str(k) for k in spec if k not in SENSITIVE)
        if unknown:
            out.append(f"{owner}: {name}: unknown key(s) {', '.join(unknown)}")
        out += param_problems(owner, {f"{name}.{k}": v for k, v in spec.items()},
                              {f"{name}.{k}": p for k, p in SENSITIVE.items()})
    return out


def config_problems(values: dict) -> list[str]:
    """Every problem of the configuration fields ``values`` (field -> value as given)."""
    out = []
    for field, p in FIELDS.items():
        if field in values:
            msg = p.problem(_owner(field), TOML_KEY.get(field, field), values[field])
            if msg is not None and field == "tiers" and isinstance(values[field], dict):
                bad = [k for k, v in values[field].items() if not _TIER.accepts(v) or not isinstance(k, str)]
                out += [f"config [tiers]: tier of {k!r} must be {_TIER.what()}; got {describe(values[field][k])}"
                        for k in bad]
            elif msg is not None:
                out.append(msg)
    scen = values.get("scenarios")
    if not isinstance(scen, (list, tuple)) or not scen:
        out.append(f"config [[scenario]]: an assessment needs at least one scenario (a set of quasi-identifiers); "
                   f"got {describe(scen)}")
    else:
        for i, s in enumerate(scen):
            out += _scenario_problems(i, s)
        named = [s.get("name") if isinstance(s, dict) else getattr(s, "name", None) for s in scen]
        dup = sorted({n for n in named if isinstance(n, str) and named.count(n) > 1})
        if dup:
            out.append(f"config [[scenario]]: scenario names must be unique; repeated: {', '.join(dup)}")
    if values.get("weights") is not None and values.get("population_size") is not None:
        out.append("config [extract]: give either weights or population_size, not both")
    if "sensitive" in values:
        out += sensitive_problems(values["sensitive"])
    flags = values.get("flags", {})
    if not isinstance(flags, dict):
        out.append(f"config [flags]: flags must be a table of flag -> true/false; got {describe(flags)}")
    else:
        unknown = sorted(str(k) for k in flags if k not in FLAG_NAMES)
        if unknown:
            out.append(f"config [flags]: unknown flag(s): {', '.join(unknown)} (known: {', '.join(FLAG_NAMES)})")
        out += param_problems("config [flags]", flags, dict.fromkeys(FLAG_NAMES, Param("bool")))
    th = values.get("thresholds", {})
    if isinstance(th, dict):
        out += threshold_problems(th)
    elif not hasattr(th, "min_k"):
        out.append(f"config [thresholds]: thresholds must be a table of threshold -> number; got {describe(th)}")
    return out
