"""What-if mitigations: coarsen the variables driving risk and measure the risk left.

For one scenario key, each candidate coarsening replaces (or drops) one quasi-identifier
and the frequency risk is recomputed from scratch with :func:`idrisk.frequencies`
semantics (``fk`` under the assessment's missing-value convention;
docs/methods.md#mitigations):

* ``at_risk``: records with ``fk < k`` (the safeguarded-route threshold ``min_k``);
* ``sample_uniques``: records with ``fk == 1``;
* ``max_risk``: the largest ``1 / fk`` (census prosecutor risk).

Candidates (applied only when the data support them; the profile, :mod:`idrisk.profiles`,
supplies the knowledge about the kind of data):

* date to year: a datetime quasi-identifier becomes its year; the profile's month of birth
  is dropped when its year of birth is also in the key;
* grouping: a fine column replaced by its coarser column (the profile's groupings, or
  ``groupings``);
* geography up one level along the ladder (the profile's, or ``geography``);
* for a numeric quasi-identifier with at least 20 distinct values that is not one of the
  profile's code columns, what the profile's ``numeric_coarsening`` names: top-coding (a
  cap at its 95th percentile) and/or banding (equal-width bands of a round width, at most
  20 bands and at most half as many bands as distinct values);
* dropping the variable.

Information lost is the share of the variable's Shannon entropy removed,
``(H(before) - H(after)) / H(before)`` (missing values count as one category; dropping
loses 1). Candidates are ranked by ``risk_removed_share / information_lost`` where
``risk_removed_share = (at_risk_before - at_risk_after) / at_risk_before``.
No record-level value is stored: top-coding reports the percentile, not the cut value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import pandas as pd

from .._encode import encode
from .._results import Result
from .._validation import MISSING_CONVENTIONS, Param, as_column_list, param_problems, raise_problems
from ..metrics import class_ids, frequency_arrays
from ..exceptions import DataValidationError
from ..profiles import get_profile
from ..spark import is_spark_frame
from ..spark._reduce import reduce_classes
from ..spark._suda import key_frame
from ._signature import keywords
from ._typed import Count, ItemAccess, Share

__all__ = ["what_if", "what_if_of_counts", "candidate_coarsenings", "WhatIfResult", "Candidate", "RiskCounts", "Mitigations"]

#: a numeric column with fewer distinct values is not top-coded or banded
MIN_DISTINCT_NUMERIC = 20
#: banding makes at most this many bands
MAX_BANDS = 20

Kind = Literal["date to year", "grouping", "geography up one level", "top-coding", "banding", "drop variable"]


@dataclass(frozen=True)
class RiskCounts(ItemAccess, Result):
    """Frequency risk of one key: records below k, sample uniques, the highest ``1/fk``."""

    at_risk: Count
    sample_uniques: Count
    max_risk: Share


@dataclass(frozen=True)
class Candidate(ItemAccess, Result):
    """One tested coarsening of one quasi-identifier and the risk left after it."""

    variable: str
    kind: Kind
    description: str
    at_risk: Count
    sample_uniques: Count
    max_risk: Share
    risk_removed_share: Annotated[float, {"maximum": 1}]
    information_lost: Share
    efficiency: float | None
    rank: Annotated[int, {"minimum": 1}]


@dataclass(frozen=True)
class WhatIfResult(ItemAccess, Result):
    """The risk of a key before any change and after each candidate coarsening, best first.

    ``efficiency`` is ``risk_removed_share / information_lost``, ``None`` when risk is
    removed at no measured loss of information (ranked first).
    """

    before: RiskCounts
    candidates: list[Candidate]


@dataclass(frozen=True)
class Mitigations(ItemAccess, Result):
    """What-if coarsenings tried on the riskiest public scenario of an assessment."""

    scenario: str | None
    drivers: list[str]
    before: RiskCounts | None
    candidates: list[Candidate]
    drivers_from: str | None = None
    min_k: int | None = None


def _entropy(codes: np.ndarray, weights=None) -> float:
    c = codes.astype(np.int64) + 1  # -1 (missing) -> 0: one more category
    counts = np.bincount(c, weights=weights)
    counts = counts[counts > 0]
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _risk(enc, qis, missing, k, counts=None) -> RiskCounts:
    if counts is not None:
        return _risk_of_counts(enc, qis, missing, k, counts)
    if not qis:
        n = enc.n_rows
        fk = np.full(n, n, dtype=np.int64)
    else:
        fk, _ = frequency_arrays(enc, qis, missing=missing)
    fk = np.asarray(fk, dtype=np.float64)
    return RiskCounts(at_risk=int((fk < k).sum()), sample_uniques=int((fk == 1).sum()),
                      max_risk=float(1.0 / fk.min()))


def _risk_of_counts(enc, qis, missing, k, counts) -> RiskCounts:
    """:func:`_risk` of rows standing for ``counts`` records each (``missing``: category or never)."""
    if not qis:
        fk = np.full(enc.n_rows, float(counts.sum()))
    elif missing == "wildcard":  # sums of contributions of the other records: weighted by the counts
        fk = np.asarray(frequency_arrays(enc, qis, weights=counts.astype(np.float64), missing="wildcard")[1],
                        dtype=np.float64)
    else:
        gid, _ = class_ids(enc, qis, "category")
        fk = np.bincount(gid, weights=counts)[gid]
        if missing == "never":  # a record with a missing key value is a class of its own
            anymiss = np.zeros(enc.n_rows, dtype=bool)
            for q in qis:
                anymiss |= enc.codes[q] < 0
            fk[anymiss] = 1.0
    return RiskCounts(at_risk=int(counts[fk < k].sum()), sample_uniques=int(counts[fk == 1].sum()),
                      max_risk=float(1.0 / fk.min()))


def _band_width(s: pd.Series) -> float | None:
    """The smallest round width (1, 2 or 5 times a power of ten) giving few enough bands."""
    lo, hi = float(s.min()), float(s.max())
    most = min(MAX_BANDS, s.nunique(dropna=True) // 2)
    if not hi > lo or most < 2:
        return None
    exp = math.floor(math.log10((hi - lo) / MAX_BANDS))
    for e in range(exp, exp + 4):
        for m in (1, 2, 5):
            w = m * 10.0 ** e
            if math.floor(hi / w) - math.floor(lo / w) + 1 <= most:
                return w
    return None


def _quantile(s: pd.Series, q: float, counts) -> float:
    """``s.quantile(q)`` (linear, missing values left out) of the records ``s``'s rows stand
    for, ``counts`` each: numpy's linear interpolation between the two records around
    ``(n - 1) q``, taken from the sorted distinct values and their cumulative counts."""
    if counts is None:
        return s.quantile(q)
    v = s.to_numpy(dtype=np.float64)
    ok = ~np.isnan(v)
    order = np.argsort(v[ok], kind="stable")
    v, cum = v[ok][order], np.cumsum(counts[ok][order])
    n = int(cum[-1]) if len(cum) else 0
    if not n:
        return float("nan")
    h = n * q + (1 + q * (1 - 1 - 1)) - 1  # numpy's virtual index of the linear method
    lo = math.floor(h)
    t = h - lo
    a = v[np.searchsorted(cum, lo, side="right")]
    b = v[np.searchsorted(cum, min(lo + 1, n - 1), side="right")]
    diff = b - a
    return float(b - diff * (1 - t)) if t >= 0.5 else float(a + diff * t)


def _numeric(q, s: pd.Series, profile, counts=None):
    """Top-coding and/or banding of a numeric quantity, as the profile says."""
    if (not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
            or profile.is_code(q) or s.nunique(dropna=True) < MIN_DISTINCT_NUMERIC):
        return
    # as float: a percentile can be fractional, and a nullable integer column (Int16
    # scores) cannot hold it; missing values stay missing
    s = s.astype("float64")
    for kind in profile.numeric_coarsening:
        if kind == "top-coding":
            cut = _quantile(s, 0.95, counts)
            yield q, "top-coding", f"{q}: top-coded at its 95th percentile", s.where(~(s > cut), cut)
        elif kind == "banding":
            w = _band_width(s)
            if w is not None:
                yield q, "banding", f"{q}: bands of {w:g}", np.floor(s / w) * w


@keywords(renamed={"frame": "data", "qis": "quasi_identifiers"})
def candidate_coarsenings(data: pd.DataFrame, quasi_identifiers, *, geography=None, groupings=None,
                          profile=None):
    """Yield ``(quasi_identifier, kind, description, new column or None)``; None drops it.

    ``geography`` and ``groupings`` default to the profile's (see the module docstring).
    """
    return _candidates(data, quasi_identifiers, geography, groupings, profile, None)


def _candidates(data, quasi_identifiers, geography, groupings, profile, counts):
    prof = get_profile(profile)
    groupings = dict(prof.groupings if groupings is None else groupings)
    geography = list(prof.geography if geography is None else geography)
    dob = prof.date_of_birth
    qis = list(quasi_identifiers)
    for q in qis:
        s = data[q]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            yield q, "date to year", f"{q}: date to year", s.dt.year.astype("Int64")
        if dob is not None and q == dob.month and dob.year in qis:
            yield q, "date to year", f"date of birth to year (drop {dob.month}, keep {dob.year})", None
            continue
        if q in groupings and groupings[q] in data.columns and groupings[q] not in qis:
            yield q, "grouping", f"{q} to {groupings[q]}", data[groupings[q]]
        if q in geography:
            for up in geography[geography.index(q) + 1:]:
                if up in data.columns:
                    if up not in qis:
                        yield q, "geography up one level", f"{q} to {up}", data[up]
                    break
        yield from _numeric(q, s, prof, counts)
        yield q, "drop variable", f"drop {q}", None


#: the declared constraints of what_if's parameters
_WHAT_IF = {"k": Param("int", low=1), "missing": Param("choice", choices=MISSING_CONVENTIONS),
            "geography": Param("columns", optional=True), "drivers": Param("columns", optional=True),
            "groupings": Param("table", values=Param("str"), optional=True)}


@keywords(renamed={"frame": "data", "qis": "quasi_identifiers", "min_k": "k"})
def what_if(data: pd.DataFrame, quasi_identifiers, *, k: int = 10, missing: str = "category", geography=None,
            groupings=None, drivers=None, profile=None) -> WhatIfResult:
    """Risk after each candidate coarsening of the key ``quasi_identifiers``, ranked.

    See docs/methods.md#mitigations and the module docstring for the candidates.

    Parameters
    ----------
    data : DataFrame (not modified)
    quasi_identifiers : list of str
        The scenario key.
    k : int, default 10
        Records with ``fk < k`` are at risk (the route's ``min_k``).
    missing : {"category", "wildcard", "never"}
        The missing-value convention of ``fk``.
    geography, groupings : optional
        The geography ladder (finest first) and fine -> coarse groupings; default: the
        profile's.
    drivers : list of str, optional
        Quasi-identifiers ordered by their contribution to risk (e.g. SUDA attribute
        contributions); only these are coarsened when given (all otherwise).
    profile : str or Profile, optional
        What is known about the kind of data (default ``"npd"``; ``"generic"`` knows nothing).

    Deprecated names (one release): ``frame`` for ``data``, ``qis`` for
    ``quasi_identifiers``, ``min_k`` for ``k``.

    Returns
    -------
    WhatIfResult
        ``before`` (at_risk, sample_uniques, max_risk) and ``candidates`` (variable, kind,
        description, the risk after, risk_removed_share, information_lost, efficiency,
        rank), best first.
    """
    raise_problems(param_problems("what_if", {"k": k, "missing": missing, "geography": geography,
                                              "groupings": groupings, "drivers": drivers}, _WHAT_IF))
    qis = as_column_list(quasi_identifiers, role="quasi-identifier")
    if is_spark_frame(data):
        return what_if_of_table(data, qis, k=k, missing=missing, geography=geography, groupings=groupings,
                                drivers=drivers, profile=profile)
    return _what_if(data, qis, k, missing, geography, groupings, drivers, profile, None)


def what_if_of_table(work, quasi_identifiers, *, geography=None, groupings=None, profile=None, **kw) -> WhatIfResult:
    """:func:`what_if` of a Spark table from its distinct rows and their counts (counted on Spark).

    The rows are taken over the key and the coarser columns a candidate may use (the
    geography ladder's and the groupings', the profile's by default).
    """
    qis = as_column_list(quasi_identifiers, role="quasi-identifier")
    prof = get_profile(profile)
    ladder = list(prof.geography if geography is None else geography)
    coarser = set(dict(prof.groupings if groupings is None else groupings).values())
    absent = [str(q) for q in qis if q not in work.columns]
    if absent:
        raise DataValidationError(f"column(s) not found in the data: {', '.join(absent)}")
    columns = [c for c in work.columns if c in qis or c in coarser or c in ladder]
    red = reduce_classes(work, columns, keys=True)
    types = dict(work.dtypes)
    keys = key_frame(red, columns, types)
    for c in columns:  # dates as datetimes, as pandas reads them (the "date to year" candidate)
        if types[c] in ("date", "timestamp", "timestamp_ntz"):
            keys[c] = pd.to_datetime(keys[c])
    return what_if_of_counts(keys, red.sizes, qis, geography=geography, groupings=groupings, profile=profile, **kw)


def what_if_of_counts(data: pd.DataFrame, counts, quasi_identifiers, *, k: int = 10, missing: str = "category",
                      geography=None, groupings=None, drivers=None, profile=None) -> WhatIfResult:
    """:func:`what_if` of the records that ``data``'s rows stand for, ``counts[i]`` records each.

    ``data`` holds distinct rows (a table reduced on Spark); counts add up under every
    coarsening, so the figures equal :func:`what_if`'s on the records. Entropies and the
    top-coding percentile are taken over the records; under ``missing="wildcard"`` a row's
    ``fk`` is its matching rows' counts summed (sdcMicro's rule adds up over records).
    """
    raise_problems(param_problems("what_if", {"k": k, "missing": missing, "geography": geography,
                                              "groupings": groupings, "drivers": drivers}, _WHAT_IF))
    return _what_if(data, as_column_list(quasi_identifiers, role="quasi-identifier"), k, missing,
                    geography, groupings, drivers, profile, np.asarray(counts, dtype=np.int64))


def _what_if(data, qis, k, missing, geography, groupings, drivers, profile, counts) -> WhatIfResult:
    enc = encode(data, qis, warn_identifiers=False)
    before = _risk(enc, qis, missing, k, counts)
    targets = [q for q in (drivers or qis) if q in qis]
    rows = []
    for q, kind, desc, new in _candidates(data, targets, geography, groupings, profile, counts):
        if new is None:
            loss = 1.0
            after = _risk(enc, [c for c in qis if c != q], missing, k, counts)
        else:
            changed = data.loc[:, qis].copy()
            changed[q] = new.to_numpy()
            enc2 = encode(changed, qis, warn_identifiers=False)
            h0 = _entropy(enc.codes[q], counts)
            loss = 0.0 if h0 == 0 else max(0.0, (h0 - _entropy(enc2.codes[q], counts)) / h0)
            after = _risk(enc2, qis, missing, k, counts)
        removed = (before.at_risk - after.at_risk) / before.at_risk if before.at_risk else 0.0
        eff = float(removed / loss) if loss > 0 else (math.inf if removed > 0 else 0.0)
        rows.append((q, kind, desc, after, float(removed), float(loss), eff))
    rows.sort(key=lambda r: (-r[6], -r[4], r[5], r[2]))
    cands = [Candidate(variable=q, kind=kind, description=desc, at_risk=after.at_risk,
                       sample_uniques=after.sample_uniques, max_risk=after.max_risk, risk_removed_share=removed,
                       information_lost=loss, efficiency=None if eff == math.inf else eff, rank=i)
             for i, (q, kind, desc, after, removed, loss, eff) in enumerate(rows, 1)]
    return WhatIfResult(before=before, candidates=cands)
