"""Reading an assessment configuration: the TOML layout, the dict layout, TOML and JSON files.

The layouts are described in :mod:`idrisk.assessment.config`.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from .._validation import Param, describe, raise_problems
from ..exceptions import InvalidParameterError
from .config import AssessmentConfig

__all__ = ["config_from_dict", "load_config"]

_TOP = {"extract", "scenario", "sensitive", "flags", "thresholds", "analysis", "mitigation", "tiers"}
_SECTION_KEYS = {
    "extract": {"path", "name", "profile", "direct_identifiers", "removed", "non_identifying", "census", "weights",
                "population_size", "reference", "assessor", "date"},
    "analysis": {"seed", "missing", "max_msu_size", "sweep_max_size", "k_values", "intruder_targets",
                 "intruder_runs", "intruder_memory_budget", "mitigations"},
    "mitigation": {"geography", "groupings"},
}
#: the keys of :meth:`AssessmentConfig.to_dict`
_FLAT = {"name", "data", "scenarios", "sensitive", "direct_identifiers", "weights", "population_size", "census",
         "flags", "thresholds", "seed", "missing", "max_msu_size", "sweep_max_size", "k_values",
         "intruder_targets", "intruder_runs", "intruder_memory_budget", "mitigations", "geography", "groupings",
         "tiers", "profile", "removed", "non_identifying", "reference", "assessor", "date"}


def _build(kwargs: dict, problems: list[str]) -> AssessmentConfig:
    """The configuration, or one error listing ``problems`` and every problem of the fields."""
    try:
        cfg = AssessmentConfig(**kwargs)
    except InvalidParameterError as exc:
        raise_problems(problems + str(exc).splitlines())
        raise
    raise_problems(problems)
    return cfg


def _flat_config(doc: dict, base_dir) -> AssessmentConfig:
    unknown = sorted(str(k) for k in doc if k not in _FLAT)
    problems = [f"config: unknown key(s): {', '.join(unknown)}"] if unknown else []
    return _build({**{k: v for k, v in doc.items() if k in _FLAT}, "base_dir": base_dir}, problems)


def config_from_dict(doc: dict, *, base_dir: str | None = None) -> AssessmentConfig:
    """An :class:`AssessmentConfig` from the TOML layout or from :meth:`AssessmentConfig.to_dict`.

    The two are told apart by their scenario key: ``scenario`` (TOML tables) or
    ``scenarios`` (the dict form, as in a result's ``config``). Every problem of the
    configuration is reported at once, in one :class:`~idrisk.exceptions.InvalidParameterError`
    (one line each).
    """
    if not isinstance(doc, dict):
        raise InvalidParameterError(f"config: a config must be a table (dict); got {describe(doc)}")
    if "scenarios" in doc:
        return _flat_config(doc, base_dir)
    unknown = sorted(str(k) for k in doc if k not in _TOP)
    problems = [f"config: unknown section(s) in the config: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(_TOP))})"] if unknown else []
    sec = {}
    for name in sorted(_TOP - {"scenario"}):
        sec[name] = doc.get(name, {})
        if not isinstance(sec[name], dict):
            problems.append(f"config: [{name}] must be a table; got {describe(sec[name])}")
            sec[name] = {}
        elif name in _SECTION_KEYS and (bad := sorted(str(k) for k in sec[name] if k not in _SECTION_KEYS[name])):
            problems.append(f"config [{name}]: unknown key(s) in [{name}]: {', '.join(bad)}")
    ext, analysis, mit = sec["extract"], sec["analysis"], sec["mitigation"]
    scen = doc.get("scenario")
    if not scen:
        raise_problems(problems + ["config [[scenario]]: the config needs at least one [[scenario]] "
                                   "with quasi_identifiers"])
    kwargs: dict[str, Any] = dict(
        scenarios=scen, data=ext.get("path"), sensitive=sec["sensitive"], flags=sec["flags"],
        thresholds=sec["thresholds"], tiers=sec["tiers"], base_dir=base_dir)
    for k in ("name", "profile", "direct_identifiers", "removed", "non_identifying", "weights", "population_size",
              "census", "reference", "assessor", "date"):
        if k in ext:
            kwargs[k] = ext[k]
    kwargs.update({k: v for k, v in analysis.items() if k in _SECTION_KEYS["analysis"]})
    kwargs.update({k: v for k, v in mit.items() if k in _SECTION_KEYS["mitigation"]})
    return _build(kwargs, problems)


def load_config(path) -> AssessmentConfig:
    """Read an assessment configuration: a TOML file (the module docstring's layout) or a
    JSON file (either layout of :func:`config_from_dict`)."""
    raise_problems([m for m in [Param("path").problem("load_config", "path", path)] if m])
    p = Path(path)
    if not p.is_file():
        raise InvalidParameterError(f"config file not found: {p}")
    is_json = p.suffix.lower() == ".json"
    try:
        text = p.read_text(encoding="utf-8")
        doc = json.loads(text) if is_json else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"{p} is not a valid {'JSON' if is_json else 'TOML'} file: {exc}") from None
    return config_from_dict(doc, base_dir=str(p.parent))
