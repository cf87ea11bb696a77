"""Hierarchies from a profile and the extract itself (``docs/methods.md#anonymisation``).

A column the profile says a coarser column refines (its ``refinements`` and ``geography``:
small area to postcode district to local authority to region, school to local authority,
detailed to major ethnic group) climbs to that coarser column when the extract holds it and
each value has one coarser value there, then on up the same way, then to ``*``. The
profile's date of birth climbs day, month, quarter, year; a numeric column that is not a code
is banded (widths 1, 2 and 4 times a round tenth of its range); any other column has one level
above its values, ``*`` (the column withheld).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..profiles import get_profile
from .hierarchy import bands, dates

__all__ = ["profile_hierarchies", "profile_ladders", "ladder_names"]


def _coarser(profile, column, present) -> str | None:
    geo = list(profile.geography)
    options = list(profile.refinements.get(column, ()))
    if column in geo:
        options = geo[geo.index(column) + 1:] + options
    if column in profile.groupings:
        options.insert(0, profile.groupings[column])
    return next((c for c in options if c in present and c != column), None)


def _chain_table(frame: pd.DataFrame, column, profile):
    """Rows ``[value, coarser, coarser still, ..., "*"]`` read from the extract and the column
    of each level, or ``(None, None)``."""
    chain, cur = [column], column
    while True:
        nxt = _coarser(profile, cur, set(frame.columns) - set(chain))
        if nxt is None:
            break
        pairs = frame[[cur, nxt]].dropna().astype(str).drop_duplicates()
        if pairs[cur].duplicated().any() or len(pairs) == 0:
            break  # not a function of the finer column: the ladder stops here
        chain.append(nxt)
        cur = nxt
    if len(chain) == 1:
        return None, None
    table = frame[chain].dropna().astype(str).drop_duplicates(subset=[column])
    return [list(r) + ["*"] for r in table.itertuples(index=False, name=None)], chain


def _numeric_bands(values: pd.Series):
    lo, hi = float(values.min()), float(values.max())
    span = max(hi - lo, 1.0)
    w = 10 ** math.floor(math.log10(span / 10)) if span >= 10 else 1
    w = int(w * (2 if span / w > 40 else 1))
    return bands(w, 2 * w, 4 * w, origin=int(math.floor(lo / w) * w))


def profile_hierarchies(frame: pd.DataFrame, columns, profile="npd") -> dict:
    """column -> hierarchy for :func:`idrisk.anonymise` (see the module docstring)."""
    return profile_ladders(frame, columns, profile)[0]


def profile_ladders(frame: pd.DataFrame, columns, profile="npd") -> tuple[dict, dict]:
    """``(hierarchies, names)``: :func:`profile_hierarchies` and, per column, what each level
    means in words (``"as given"``, the coarser column it climbs to, ``"bands of 5"``,
    ``"month"``, ..., ``"withheld"`` at the top)."""
    prof = get_profile(profile) if isinstance(profile, str) else profile
    dob = prof.date_of_birth.date if prof.date_of_birth is not None else None
    out, names = {}, {}
    for c in columns:
        s = frame[c]
        if c == dob:
            out[c] = dates()
            names[c] = ladder_names(out[c])
            continue
        table, chain = _chain_table(frame, c, prof)
        if table is not None and len(table) == s.dropna().astype(str).nunique():
            out[c] = table
            names[c] = ["as given"] + list(chain[1:]) + ["withheld"]
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and not prof.is_code(c) \
                and np.isfinite(s.to_numpy(dtype=float)).all() and (s.dropna() % 1 == 0).all():
            out[c] = _numeric_bands(s)
            names[c] = ladder_names(out[c])
        else:
            out[c] = [[v, "*"] for v in pd.unique(s.dropna().astype(str))]
            names[c] = ["as given", "withheld"]
    return out, names


def ladder_names(ladder) -> list:
    """What each level of a built-in ladder (:func:`bands`, :func:`dates`, :func:`prefixes`) means."""
    p = dict(ladder.params)
    if ladder.kind == "bands":
        mid = [f"bands of {w:g}" for w in p["widths"]]
    elif ladder.kind == "dates":
        mid = list(p["units"])
    else:
        mid = [f"first {n} characters" for n in p["lengths"]]
    return ["as given"] + mid + ["withheld"]
