"""What-if mitigations: coarsen the variables driving risk and measure the risk left.

For one scenario key, each candidate coarsening replaces (or drops) one quasi-identifier
and the frequency risk is recomputed from scratch with :func:`idrisk.frequencies`
semantics (``fk`` under the assessment's missing-value convention):

* ``at_risk``: records with ``fk < min_k`` (the safeguarded-route threshold);
* ``sample_uniques``: records with ``fk == 1``;
* ``max_risk``: the largest ``1 / fk`` (census prosecutor risk).

Candidates (applied only when the data support them):

* date of birth to year: a datetime QI becomes its year; ``birth_month`` is dropped when
  ``birth_year`` is also in the key;
* grouping: a fine column replaced by its coarser column (default ``ethnicity_minor`` to
  ``ethnicity_major``; configurable);
* geography up one level along the configured ladder (default
  lsoa > postcode_district > la_code > region);
* top-coding: a numeric QI with at least 20 distinct values capped at its 95th percentile
  (not for code-like columns: urn, *_code, *_id, year, month...);
* dropping the variable.

Information lost is the share of the variable's Shannon entropy removed,
``(H(before) - H(after)) / H(before)`` (missing values count as one category; dropping
loses 1). Candidates are ranked by ``risk_removed_share / information_lost`` where
``risk_removed_share = (at_risk_before - at_risk_after) / at_risk_before``.
No record-level value is stored: top-coding reports the percentile, not the cut value.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._encode import Encoded, encode
from .metrics import frequency_arrays

__all__ = ["what_if", "candidate_coarsenings"]

# numeric columns that are codes, not quantities: never top-coded
_CODE = re.compile(r"(^|_)(urn|code|id|laestab|lsoa|msoa|postcode|year|month)(_|$)")


def _entropy(codes: np.ndarray) -> float:
    c = codes.astype(np.int64) + 1  # -1 (missing) -> 0: one more category
    counts = np.bincount(c)
    counts = counts[counts > 0]
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _risk(enc: Encoded, qis, missing, min_k):
    if not qis:
        n = enc.n_rows
        fk = np.full(n, n, dtype=np.int64)
    else:
        fk, _ = frequency_arrays(enc, qis, missing=missing)
    fk = np.asarray(fk, dtype=np.float64)
    return {"at_risk": int((fk < min_k).sum()), "sample_uniques": int((fk == 1).sum()),
            "max_risk": float(1.0 / fk.min())}


def candidate_coarsenings(frame: pd.DataFrame, qis, *, geography=(), groupings=None):
    """Yield ``(qi, kind, description, new_column or None)``; None drops the QI."""
    groupings = groupings or {}
    geography = list(geography)
    for q in qis:
        s = frame[q]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            yield q, "date to year", f"{q}: date to year", s.dt.year.astype("Int64")
        if q == "birth_month" and "birth_year" in qis:
            yield q, "date to year", "date of birth to year (drop birth_month, keep birth_year)", None
            continue
        if q in groupings and groupings[q] in frame.columns and groupings[q] not in qis:
            yield q, "grouping", f"{q} to {groupings[q]}", frame[groupings[q]]
        if q in geography:
            for up in geography[geography.index(q) + 1:]:
                if up in frame.columns:
                    if up not in qis:
                        yield q, "geography up one level", f"{q} to {up}", frame[up]
                    break
        if (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
                and not _CODE.search(str(q).lower()) and s.nunique(dropna=True) >= 20):
            # as float: the percentile can be fractional, and a nullable integer column
            # (Int16 scores) cannot hold it; missing values stay missing
            s = s.astype("float64")
            cut = s.quantile(0.95)
            yield q, "top-coding", f"{q}: top-coded at its 95th percentile", s.where(~(s > cut), cut)
        yield q, "drop variable", f"drop {q}", None


def what_if(frame: pd.DataFrame, qis, *, min_k: int = 10, missing: str = "category", geography=(),
            groupings=None, drivers=None) -> dict:
    """Risk after each candidate coarsening of the key ``qis``, ranked.

    Parameters
    ----------
    frame : DataFrame (not modified)
    qis : list of str
        The scenario key.
    min_k : int
        Records with ``fk < min_k`` are at risk.
    drivers : list of str, optional
        QIs ordered by their contribution to risk (e.g. SUDA attribute contributions); only
        these are coarsened when given (all QIs otherwise).

    Returns
    -------
    dict with ``before`` (at_risk, sample_uniques, max_risk) and ``candidates``: a list of
    dicts (variable, kind, description, at_risk, sample_uniques, max_risk,
    risk_removed_share, information_lost, efficiency, rank), best first.
    """
    qis = list(qis)
    enc = encode(frame, qis, warn_identifiers=False)
    before = _risk(enc, qis, missing, min_k)
    targets = [q for q in (drivers or qis) if q in qis]
    cands = []
    for q, kind, desc, new in candidate_coarsenings(frame, targets, geography=geography, groupings=groupings):
        h0 = _entropy(enc.codes[q])
        if new is None:
            keys = [c for c in qis if c != q]
            loss = 1.0
            after = _risk(enc.subset(keys) if keys else enc, keys, missing, min_k)
        else:
            e2 = encode(pd.DataFrame({"__new__": new.to_numpy()}, index=frame.index), ["__new__"],
                        warn_identifiers=False)
            codes = dict(enc.codes)
            codes[q] = e2.codes["__new__"]
            n_levels = dict(enc.n_levels)
            n_levels[q] = e2.n_levels["__new__"]
            levels = dict(enc.levels)
            levels[q] = e2.levels["__new__"]
            enc2 = Encoded(enc.index, tuple(qis), codes, n_levels, levels)
            h1 = _entropy(codes[q])
            loss = 0.0 if h0 == 0 else max(0.0, (h0 - h1) / h0)
            after = _risk(enc2, qis, missing, min_k)
        removed = (before["at_risk"] - after["at_risk"]) / before["at_risk"] if before["at_risk"] else 0.0
        cands.append({"variable": q, "kind": kind, "description": desc, **after,
                      "risk_removed_share": float(removed), "information_lost": float(loss),
                      "efficiency": float(removed / loss) if loss > 0 else (float("inf") if removed > 0 else 0.0)})
    cands.sort(key=lambda c: (-c["efficiency"], -c["risk_removed_share"], c["information_lost"], c["description"]))
    for i, c in enumerate(cands, 1):
        c["rank"] = i
        if c["efficiency"] == float("inf"):
            c["efficiency"] = None  # JSON has no infinity: removed risk at no measured loss
    return {"before": before, "candidates": cands}
