"""A route's conditions beyond k and distinct l: the risk cap and special uniques.

* **Risk cap.** On unweighted data the highest individual risk is the census prosecutor risk
  ``1 / f_k`` of the smallest class (Benedetti-Franconi with every weight 1: ``F_k = f_k``), so a
  cap ``r`` on it is the class-size condition ``f_k >= k_r``, ``k_r`` the smallest integer with
  ``1 / k_r <= r`` (the comparison the assessment makes). The search runs with
  ``max(k, k_r)``.
* **Special uniques.** A record is a special unique of size ``<= s`` when it is unique on the
  full key and has a minimal sample unique (MSU) of at most ``s`` quasi-identifiers (SUDA,
  Elliot et al. 2002). It is counted with :func:`idrisk.metrics.suda` on the table of distinct
  generalised keys of the kept records, each repeated ``min(count, 2)`` times (a set of values is
  unique among the records exactly when it is unique there). Coarsening only merges classes, so
  a node without such records has none above it when nothing is suppressed; with ``k >= 2`` the
  condition always holds (every kept record shares its key with another, and a suppressed
  record's missing cells take part in no MSU), so it is only checked with ``k = 1``, lazily,
  for a node about to become the best. ``docs/methods.md#anonymisation``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError
from ..metrics import suda
from .lattice import Problem

__all__ = ["risk_cap_k", "special_uniques", "special_uniques_of_rows", "special_uniques_at"]

#: a missing cell while equal rows are merged (kept apart from every value)
_NA = "\x00na"


def risk_cap_k(max_risk) -> int:
    """The smallest class size ``k`` with ``1 / k <= max_risk``."""
    if isinstance(max_risk, bool) or not isinstance(max_risk, (int, float, np.floating)) \
            or not 0 < float(max_risk) <= 1:
        raise InvalidParameterError(f"max_risk must be a number in (0, 1], got {max_risk!r}")
    r = float(max_risk)
    k = max(1, int(1.0 / r))
    while 1.0 / k > r:
        k += 1
    while k > 1 and 1.0 / (k - 1) <= r:
        k -= 1
    return k


def special_uniques(keys: pd.DataFrame, counts: np.ndarray, max_size: int) -> int:
    """Records unique on the full key with an MSU of at most ``max_size`` columns, from the
    distinct keys (missing cells allowed) and how many records hold each."""
    counts = np.asarray(counts, dtype=np.int64)
    if len(keys) == 0 or not (counts == 1).any():
        return 0
    rep = np.repeat(np.arange(len(keys)), np.minimum(counts, 2))
    table = keys.iloc[rep].reset_index(drop=True)
    res = suda(table, list(keys.columns), max_size=max_size)
    m = res.scores["min_msu_size"].to_numpy(dtype=np.float64, na_value=np.nan)
    return int((np.isfinite(m) & (m >= 1) & (m <= max_size)).sum())


def special_uniques_of_rows(rows: pd.DataFrame, counts, max_size: int) -> int:
    """:func:`special_uniques` of records given as ``rows`` (each standing for ``counts`` records,
    one each when None): equal rows are merged first, a missing cell kept apart from every value."""
    keys = rows.astype(object).fillna(_NA)
    weight = pd.Series(np.ones(len(keys), dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64))
    grouped = weight.groupby([keys[c].to_numpy() for c in keys.columns], sort=False).sum()
    distinct = pd.DataFrame(list(grouped.index), columns=list(rows.columns)).replace(_NA, None)
    return special_uniques(distinct, grouped.to_numpy(), max_size)


def special_uniques_at(problem: Problem, node, max_size: int) -> int:
    """:func:`special_uniques` of the kept records at ``node`` (generalised codes)."""
    cid, sizes, fail = problem.classes(node)
    keep_rows = ~fail[cid]
    if not keep_rows.any():
        return 0
    codes = np.vstack([problem.maps[problem.moff[j, node[j]] + problem.rows[j]] for j in range(problem.m)])
    codes = codes[:, keep_rows]
    cls = cid[keep_rows]
    first = np.unique(cls, return_index=True)[1]
    keys = pd.DataFrame({f"q{j}": codes[j, first] for j in range(problem.m)})
    return special_uniques(keys, sizes[cls[first]], max_size)
