"""Local (cell) suppression to k-anonymity under the missing-value wildcard rule.

A suppressed cell becomes missing, and a missing value matches any value: record r counts
record s towards its frequency ``fk_r`` when, on every key variable, r is missing, s is
missing, or they are equal (sdcMicro's ``freqCalc`` with alpha = 1, where a complete record
does not count an all-missing one; see ``docs/methods.md#missing-values``). A suppression only
adds matches, so the frequencies of the other records never fall, except that an all-missing
record no longer counts towards complete records.

Method (sdcMicro's ``localSuppression`` goal: the fewest cells, the least important variables
first; Templ, Kowarik & Meindl 2015): each record with ``fk < k``, in row order, gets the
smallest set of its key cells suppressed that brings its own ``fk`` to at least ``k``; among
sets of the same size, the one of least important variables. A plain pass (suppress the least
important remaining cell until the record is safe) is run too, and the pass with fewer
suppressed cells is kept. Both are repeated until every record has ``fk >= k``.
``docs/methods.md#anonymisation``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._results import RECORD_LEVEL, Result
from .._validation import as_frame, check_columns, check_positive_int
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["local_suppression", "local_suppression_of_rows", "LocalSuppressionResult"]


@dataclass(frozen=True)
class LocalSuppressionResult(Result):
    """Cells suppressed per key variable, whether every record now has ``fk >= k`` (wildcard
    rule), and the extract with the suppressed cells missing (record-level)."""

    quasi_identifiers: tuple
    k: int
    importance: dict
    suppressed_cells: dict
    total_suppressed: int
    k_anonymous: bool
    data: pd.DataFrame = field(metadata=RECORD_LEVEL, repr=False)


def _fk_one(x: np.ndarray, codes: np.ndarray, all_na: np.ndarray) -> int:
    """fk of key ``x`` (-1 = missing) against every row of ``codes`` (wildcard, alpha = 1)."""
    obs = x >= 0
    if not obs.any():
        return len(codes)
    sub = codes[:, obs]
    ok = ((sub == x[obs]) | (sub < 0)).all(axis=1)
    if obs.all() and codes.shape[1] > 1:  # with one key, a complete record counts the missing ones
        ok &= ~all_na
    return int(ok.sum())


def _candidates(codes: np.ndarray, k: int) -> np.ndarray:
    """Rows whose class of identical keys (missing positions included) is smaller than k:
    every other row already has ``fk >= k`` (identical rows match each other)."""
    _, inv, cnt = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    return np.nonzero(cnt[np.ravel(inv)] < k)[0]


def _pass(codes: np.ndarray, k: int, order: list, minimal: bool) -> np.ndarray:
    codes = codes.copy()
    for _ in range(codes.shape[1] + 2):
        changed = False
        all_na = (codes < 0).all(axis=1)
        for r in _candidates(codes, k):
            if _fk_one(codes[r], codes, all_na) >= k:
                continue
            avail = [j for j in order if codes[r, j] >= 0]
            chosen = _choose(codes, r, k, avail, all_na, minimal)
            codes[r, list(chosen)] = -1
            all_na[r] = (codes[r] < 0).all()
            changed = True
        if not changed:
            break
    return codes


def _choose(codes, r, k, avail, all_na, minimal: bool):
    if minimal:
        for size in range(1, len(avail) + 1):
            for subset in itertools.combinations(avail, size):
                x = codes[r].copy()
                x[list(subset)] = -1
                if _fk_one(x, codes, all_na) >= k:
                    return subset
        return tuple(avail)
    x = codes[r].copy()
    chosen = []
    for j in avail:
        x[j] = -1
        chosen.append(j)
        if _fk_one(x, codes, all_na) >= k:
            break
    return tuple(chosen)


def _importance(frame, qis, importance) -> dict:
    """Rank per column, 1 = most important (suppressed last). Default as sdcMicro: more
    categories = less important."""
    if importance is None:
        ncat = {q: frame[q].nunique(dropna=True) for q in qis}
        ranked = sorted(qis, key=lambda q: (ncat[q], qis.index(q)))
        return {q: i + 1 for i, q in enumerate(ranked)}
    if not isinstance(importance, Mapping) or set(importance) != set(qis):
        raise InvalidParameterError("importance must map every quasi-identifier to a rank (1 = most important)")
    return {q: check_positive_int(importance[q], name=f"importance[{q!r}]") for q in qis}


def local_suppression(data, quasi_identifiers, *, k: int = 2, importance: Mapping | None = None
                      ) -> LocalSuppressionResult:
    """Suppress the fewest key cells (least important variables first) until every record has
    ``fk >= k`` under the wildcard rule (see the module docstring)."""
    frame = as_frame(data)
    qis = check_columns(frame, quasi_identifiers)
    k = check_positive_int(k, name="k")
    if len(frame) == 0:
        raise DataValidationError("the data have no rows")
    if k > len(frame):
        raise DataValidationError(f"k={k} exceeds the {len(frame)} records: no suppression can reach it")
    imp = _importance(frame, qis, importance)
    codes = np.column_stack([pd.factorize(frame[q], use_na_sentinel=True)[0] for q in qis]).astype(np.int64)
    order = sorted(range(len(qis)), key=lambda j: (-imp[qis[j]], j))
    best = min((_pass(codes, k, order, minimal) for minimal in (True, False)),
               key=lambda c: int(((c < 0) & (codes >= 0)).sum()))
    new = (best < 0) & (codes >= 0)
    out = frame.copy()
    for j, q in enumerate(qis):
        if new[:, j].any():
            col = out[q].astype(object)
            col[new[:, j]] = None
            out[q] = col
    all_na = (best < 0).all(axis=1)
    safe = all(_fk_one(best[r], best, all_na) >= k for r in _candidates(best, k))
    cells = {q: int(new[:, j].sum()) for j, q in enumerate(qis)}
    return LocalSuppressionResult(tuple(qis), k, imp, cells, int(new.sum()), safe, out)


def local_suppression_of_rows(rows: pd.DataFrame, counts, quasi_identifiers, *, k: int = 2,
                              importance: Mapping | None = None):
    """:func:`local_suppression` of the records that ``rows`` stand for, each row ``counts``
    times, taken in the order of ``rows`` (a row's records one after another): the cells made
    missing per row (``{column: flags}``), per column the records' cells made missing, and
    whether every record now has ``fk >= k``.

    Exact with each row repeated only ``min(count, k)`` times: every decision compares an
    ``fk`` with ``k`` (a row of ``k`` or more identical records is never a candidate and only
    adds matches), and records with identical keys taken one after another are treated alike
    (the first one's suppression neither adds nor removes a match of the next, whose own key it
    still matches), so each row's first copy gives its records' cells.
    """
    counts = np.asarray(counts, dtype=np.int64)
    reps = np.minimum(counts, max(int(k), 1))
    expanded = rows.iloc[np.repeat(np.arange(len(rows)), reps)].reset_index(drop=True)
    res = local_suppression(expanded, quasi_identifiers, k=k, importance=importance)
    first = np.cumsum(reps) - reps
    made = {q: (res.data[q].isna().to_numpy() & expanded[q].notna().to_numpy())[first] for q in res.quasi_identifiers}
    cells = {q: int(counts[m].sum()) for q, m in made.items()}
    return made, cells, res.k_anonymous, res.importance
