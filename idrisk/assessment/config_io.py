"""Reading an assessment configuration: the TOML layout, the dict layout, TOML and JSON files.

The layouts are described in :mod:`idrisk.assessment.config`.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from ..exceptions import InvalidParameterError
from .config import AssessmentConfig

__all__ = ["config_from_dict", "load_config"]

_TOP = {"extract", "scenario", "sensitive", "flags", "thresholds", "analysis", "mitigation", "tiers"}
_SECTION_KEYS = {
    "extract": {"path", "name", "profile", "direct_identifiers", "census", "weights", "population_size"},
    "analysis": {"seed", "missing", "max_msu_size", "sweep_max_size", "k_values", "intruder_targets",
                 "mitigations"},
    "mitigation": {"geography", "groupings"},
}
#: the keys of :meth:`AssessmentConfig.to_dict`
_FLAT = {"name", "data", "scenarios", "sensitive", "direct_identifiers", "weights", "population_size", "census",
         "flags", "thresholds", "seed", "missing", "max_msu_size", "sweep_max_size", "k_values",
         "intruder_targets", "mitigations", "geography", "groupings", "tiers", "profile"}


def _flat_config(doc: dict, base_dir) -> AssessmentConfig:
    unknown = sorted(set(doc) - _FLAT)
    if unknown:
        raise InvalidParameterError(f"unknown key(s) in the config: {', '.join(unknown)}")
    return AssessmentConfig(**{k: (tuple(v) if k == "k_values" else v) for k, v in doc.items()}, base_dir=base_dir)


def config_from_dict(doc: dict, *, base_dir: str | None = None) -> AssessmentConfig:
    """An :class:`AssessmentConfig` from the TOML layout or from :meth:`AssessmentConfig.to_dict`.

    The two are told apart by their scenario key: ``scenario`` (TOML tables) or
    ``scenarios`` (the dict form, as in a result's ``config``).
    """
    if not isinstance(doc, dict):
        raise InvalidParameterError(f"a config must be a table (dict), got {type(doc).__name__}")
    if "scenarios" in doc:
        return _flat_config(doc, base_dir)
    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise InvalidParameterError(f"unknown section(s) in the config: {', '.join(unknown)} "
                                    f"(known: {', '.join(sorted(_TOP))})")
    sec = {}
    for name, keys in _SECTION_KEYS.items():
        sec[name] = dict(doc.get(name, {}))
        bad = sorted(set(sec[name]) - keys)
        if bad:
            raise InvalidParameterError(f"unknown key(s) in [{name}]: {', '.join(bad)}")
    ext, analysis, mit = sec["extract"], sec["analysis"], sec["mitigation"]
    scen = doc.get("scenario")
    if not scen:
        raise InvalidParameterError("the config needs at least one [[scenario]] with quasi_identifiers")
    kwargs: dict[str, Any] = dict(
        scenarios=list(scen), data=ext.get("path"), name=str(ext.get("name", "extract")),
        direct_identifiers=list(ext.get("direct_identifiers", [])), weights=ext.get("weights"),
        population_size=ext.get("population_size"), census=ext.get("census"),
        sensitive=dict(doc.get("sensitive", {})), flags=dict(doc.get("flags", {})),
        thresholds=dict(doc.get("thresholds", {})), tiers=dict(doc.get("tiers", {})), base_dir=base_dir)
    if "profile" in ext:
        kwargs["profile"] = ext["profile"]
    for k, v in analysis.items():
        kwargs[k] = tuple(v) if k == "k_values" else v
    kwargs.update(mit)
    return AssessmentConfig(**kwargs)


def load_config(path) -> AssessmentConfig:
    """Read an assessment configuration: a TOML file (the module docstring's layout) or a
    JSON file (either layout of :func:`config_from_dict`)."""
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
