"""An anonymisation configuration (TOML) for ``idrisk anonymise CONFIG.toml``.

    [extract]
    path = "pupils.parquet"            # relative to the configuration file

    [anonymise]
    quasi_identifiers = ["age", "sex", "la_code"]
    k = 10
    suppression_limit = 0.01
    # optional: l_diversity = { fsm = 2 }, metric, max_risk, msu_size, local_suppression,
    # importance = { sex = 1 }, verify = true (or the path of an assessment configuration),
    # max_verifications, max_evaluations

    [hierarchies.age]                  # a ladder, a table, or an ARX CSV file
    kind = "bands"
    widths = [5, 10]
    [hierarchies.la_code]
    path = "la_code.csv"               # ARX format: ';'-separated, no header

    [validity]                         # optional: idrisk.anonymise.analysis_validity
    outcomes = ["attainment8"]
    predictors = ["age", "sex"]
    tables = ["sex", ["age", "sex"]]

Hierarchies take the recipe's forms (``docs/methods.md#anonymisation``). Unknown keys are
refused by name.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..assessment.io import read_extract
from ..exceptions import InvalidParameterError
from .api import AnonymiseResult, anonymise

__all__ = ["load_anonymise_config", "run_config"]

_KEYS = {"quasi_identifiers", "k", "suppression_limit", "l_diversity", "metric", "max_risk", "msu_size",
         "local_suppression", "importance", "verify", "max_verifications", "max_evaluations"}
_SECTIONS = {"extract", "anonymise", "hierarchies", "validity"}


def _table(doc, name) -> dict:
    v = doc.get(name, {})
    if not isinstance(v, dict):
        raise InvalidParameterError(f"[{name}] must be a table")
    return v


def load_anonymise_config(path) -> dict:
    """The configuration's parts: ``extract`` (a path), ``kwargs`` for :func:`anonymise`."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameterError(f"{path.name} is not valid TOML: {exc}") from None
    extra = sorted(set(doc) - _SECTIONS)
    if extra:
        raise InvalidParameterError(f"unknown section(s) in {path.name}: {', '.join(extra)}")
    base = path.parent
    ex = _table(doc, "extract")
    if "path" not in ex:
        raise InvalidParameterError(f"{path.name} names no extract: set [extract] path")
    a = dict(_table(doc, "anonymise"))
    bad = sorted(set(a) - _KEYS)
    if bad:
        raise InvalidParameterError(f"unknown key(s) in [anonymise]: {', '.join(bad)}")
    if "quasi_identifiers" not in a:
        raise InvalidParameterError("[anonymise] needs quasi_identifiers")
    if isinstance(a.get("verify"), str):
        a["verify"] = str(base / a["verify"])
    hier = {}
    for col, spec in _table(doc, "hierarchies").items():
        if isinstance(spec, dict) and set(spec) == {"path"}:
            spec = base / spec["path"]
        hier[col] = spec
    validity = _table(doc, "validity") or None
    if validity is not None and "tables" in validity:
        validity["tables"] = [t if isinstance(t, str) else tuple(t) for t in validity["tables"]]
    return {"extract": base / ex["path"], "kwargs": {**a, "hierarchies": hier, "validity": validity}}


def run_config(path) -> tuple[AnonymiseResult, Path]:
    """Read the configuration and its extract, and anonymise."""
    cfg = load_anonymise_config(path)
    frame = read_extract(cfg["extract"])
    kw = dict(cfg["kwargs"])
    qis = kw.pop("quasi_identifiers")
    return anonymise(frame, qis, **kw), cfg["extract"]
