"""Naive reference for fk / Fk: pure Python, pairwise, obviously correct, slow (O(n^2 m)).

No numba, no idrisk internals: values are read from the frame cell by cell, a value is
missing when ``pandas.isna`` says so, and two values match when Python's ``==`` says so.
The three missing-value conventions follow the table in the docstring of
``idrisk.metrics._frequencies`` (docs/methods.md#missing-values; sdcMicro's freqCalc for
the wildcard rule).
"""

from __future__ import annotations

import pandas as pd

_NA = object()  # marker for a missing cell


def records(frame: pd.DataFrame, qis) -> list[tuple]:
    """One tuple per row with ``_NA`` for missing cells."""
    columns = [frame[c].tolist() for c in qis]
    out = []
    for i in range(len(frame)):
        out.append(tuple(_NA if _isna(col[i]) else col[i] for col in columns))
    return out


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _same(a: tuple, b: tuple) -> bool:
    """Identical keys: same values and same missing positions."""
    return all((x is _NA and y is _NA) or (x is not _NA and y is not _NA and x == y) for x, y in zip(a, b))


def _compatible(a: tuple, b: tuple) -> bool:
    """Equal wherever neither is missing."""
    return all(x is _NA or y is _NA or x == y for x, y in zip(a, b))


def _contribution(r: tuple, s: tuple, is_self: bool, missing: str, alpha: float) -> float:
    """c(r, s): how much record s counts towards record r's frequency."""
    if missing == "category":
        return 1.0 if _same(r, s) else 0.0
    if missing == "never":
        if is_self:
            return 1.0
        if any(x is _NA for x in r) or any(y is _NA for y in s):
            return 0.0
        return 1.0 if _same(r, s) else 0.0
    # wildcard, sdcMicro freqCalc (m >= 2; all-NA r and m == 1 are handled by the caller)
    if _same(r, s):
        return 1.0
    r_complete = not any(x is _NA for x in r)
    s_na = sum(y is _NA for y in s)
    s_complete, s_all = s_na == 0, s_na == len(s)
    if r_complete:
        if s_complete or s_all:
            return 0.0
        return alpha if _compatible(r, s) else 0.0
    # r has some (not all) missing values
    if s_complete:
        return 1.0 if _compatible(r, s) else 0.0
    if s_all:
        return alpha
    return alpha if _compatible(r, s) else 0.0


def frequencies(frame: pd.DataFrame, qis, weights=None, missing: str = "category",
                alpha: float = 1.0) -> tuple[list[float], list[float]]:
    """Return ``(fk, Fk)`` as lists of floats, one per row of ``frame``."""
    rows = records(frame, qis)
    n, m = len(rows), len(qis)
    w = [1.0] * n if weights is None else [float(x) for x in weights]
    total_w = sum(w)
    fk, Fk = [], []
    for i, r in enumerate(rows):
        r_na = sum(x is _NA for x in r)
        if missing == "wildcard" and r_na == m:
            fk.append(float(n))          # all keys missing: matches everyone, alpha ignored
            Fk.append(total_w)
            continue
        f = F = 0.0
        for j, s in enumerate(rows):
            if missing == "wildcard" and m == 1:
                # one key: a complete r gets its own value plus alpha per missing record
                c = 1.0 if (s[0] is not _NA and s[0] == r[0]) else (alpha if s[0] is _NA else 0.0)
            else:
                c = _contribution(r, s, i == j, missing, alpha)
            f += c
            F += c * w[j]
        fk.append(f)
        Fk.append(F)
    return fk, Fk
