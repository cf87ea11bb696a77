"""Every column of an extract and its role, tier and flags (docs/methods.md#assessment).

No column is ignored. Each is given a role (direct identifier, key variable, sensitive,
weights, other), its tier (declared, else the profile's tier of the item of that name) and
flags. Direct identifiers are found by name (the profile's name pattern) and by content:
e-mail addresses, near-unique text or integer codes, free text, and the profile's value
patterns (national numbers, telephone numbers, postcodes, street addresses). A column that
refines a key variable (a date of birth beside the year and month of birth) is found from
the profile's refinements, or a column whose name is contained in a key variable's name
(``age`` beside ``age_band``), when its values determine the key variable's in the data;
the scenarios are then assessed on the finer column unless it is declared removed.

Only column names, kinds and counts are kept: never a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Annotated, Literal

import numpy as np
import pandas as pd

from .._results import Result
from ..profiles import normalise_name
from ._typed import Count, ItemAccess

__all__ = ["ColumnInfo", "ColumnFacts", "column_facts", "SAMPLE_VALUES", "identifier_kind", "refinements", "refine_scenarios", "describe_columns"]

Role = Literal["direct identifier", "key variable", "sensitive", "weights", "other"]

#: values looked at per column by the content checks (a deterministic head of the distinct values)
_SAMPLE = 2000
#: the same, for the content checks of a Spark table (:mod:`idrisk.assessment.spark_run`)
SAMPLE_VALUES = _SAMPLE
#: share of the looked-at values that must match a pattern for the column to be flagged
_MATCH_SHARE = 0.8
#: a text or integer column with at least this share of distinct values is near unique
_NEAR_UNIQUE = 0.9
#: fewest non-missing values for the near-unique and free-text checks
_MIN_ROWS = 20
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
#: a share of records whose key value is not determined by the finer column (data errors)
_REFINE_TOLERANCE = 0.01


@dataclass(frozen=True)
class ColumnInfo(ItemAccess, Result):
    """One column of the extract: its role, tier, special category, distinct values and flags."""

    name: str
    role: Role
    tier: Annotated[int | None, {"minimum": 1, "maximum": 4}]
    tier_from: Literal["declared", "profile"] | None
    special_category: bool
    distinct: Count
    removed: bool
    flags: list[str]


def _text_values(col: pd.Series) -> pd.Series:
    vals = col.dropna()
    if not len(vals):
        return pd.Series([], dtype=object)
    # str() per value in an object array: pandas 3's string dtype refuses text that is not
    # valid Unicode (a lone surrogate), which must still be examined, not crash the assessment
    # (distinct values first, so the per-value str() runs over the distinct values only)
    distinct = pd.unique(vals.to_numpy(dtype=object))
    text = np.array([v if isinstance(v, str) else str(v) for v in distinct], dtype=object)
    uniq = pd.Series(pd.unique(text), dtype=object)
    return uniq.iloc[:_SAMPLE]


@dataclass(frozen=True)
class ColumnFacts:
    """What the content checks read of one column: its looked-at distinct values as text
    (at most ``_SAMPLE``), its non-missing count, its number of distinct values (a number,
    or a function computing it when asked), and whether it is text or integer."""

    values: pd.Series
    n: int
    distinct: object
    is_text: bool
    integer: bool

    def n_distinct(self) -> int:
        return int(self.distinct() if callable(self.distinct) else self.distinct)


def column_facts(col: pd.Series) -> ColumnFacts:
    """The :class:`ColumnFacts` of a pandas column (its distinct count computed when asked)."""
    return ColumnFacts(values=_text_values(col), n=int(col.notna().sum()),
                       distinct=lambda: col.nunique(dropna=True),
                       is_text=col.dtype == object or isinstance(col.dtype, pd.StringDtype),
                       integer=pd.api.types.is_integer_dtype(col.dtype))


def identifier_kind(col, profile, *, other: bool) -> str | None:
    """The kind of direct identifier ``col`` holds by its content (None: none found).

    ``col`` is a pandas column or its :class:`ColumnFacts`. ``other``: the column has no
    declared role, so near-unique and free-text columns count (a key variable or sensitive
    column is measured instead).
    """
    facts = col if isinstance(col, ColumnFacts) else column_facts(col)
    vals = facts.values
    if not len(vals):
        return None
    squashed = vals.str.upper().str.replace(r"[\s()\-]", "", regex=True)
    if vals.str.match(_EMAIL).mean() >= _MATCH_SHARE:
        return "e-mail addresses"
    for kind, pattern in dict(profile.identifier_values).items():
        if squashed.str.match(pattern).mean() >= _MATCH_SHARE:
            return kind
    if not other:
        return None
    n = facts.n
    if n < _MIN_ROWS:
        return None
    is_text = facts.is_text
    if is_text and vals.str.split().str.len().mean() >= 4 and vals.str.len().mean() >= 25:
        return "free text"
    if (is_text or facts.integer) and facts.n_distinct() >= _NEAR_UNIQUE * n:
        return "near-unique text" if is_text else "near-unique integer codes"
    return None


def _determines(frame, fine: str, coarse: str) -> bool:
    """Whether ``fine`` has more values than ``coarse`` and its values determine ``coarse``'s.

    A table that is not a pandas frame answers with its own ``determines`` (Spark)."""
    if not isinstance(frame, pd.DataFrame):
        return frame.determines(fine, coarse, _REFINE_TOLERANCE)
    sub = frame[[fine, coarse]].dropna()
    if not len(sub) or sub[fine].nunique() <= sub[coarse].nunique():
        return False
    per = sub.groupby(fine, observed=True, sort=False)[coarse].nunique()
    mixed = sub[fine].map(per).to_numpy() > 1
    return float(np.mean(mixed)) <= _REFINE_TOLERANCE


def refinements(frame: pd.DataFrame, key_variables, profile, *, exclude=()) -> dict:
    """{key variable: the finest column of ``frame`` that refines it} (docs/methods.md#profiles)."""
    cols = [c for c in frame.columns if c not in set(exclude)]
    declared = {normalise_name(k): tuple(v) for k, v in dict(profile.refinements).items()}
    out = {}
    for q in key_variables:
        cands = []
        for c in cols:
            if c == q:
                continue
            if q not in frame.columns:
                continue
            named = normalise_name(q) in declared.get(normalise_name(c), ())
            contained = len(normalise_name(c)) >= 3 and normalise_name(c) in normalise_name(q)
            if (named or contained) and _determines(frame, c, q):
                cands.append((_distinct(frame, c), c))
        if cands:
            out[q] = max(cands)[1]
    return out


def refine_scenarios(scenarios, finer: dict) -> list:
    """The scenarios with each key variable replaced by its finer column (order kept, no repeat)."""
    out = []
    for s in scenarios:
        key = list(dict.fromkeys(finer.get(q, q) for q in s.quasi_identifiers))
        out.append(s if key == list(s.quasi_identifiers) else replace(s, quasi_identifiers=key))
    return out


def _distinct(frame, label) -> int:
    col = frame[label]
    if isinstance(col, ColumnFacts):
        return col.n_distinct()
    return int(col.nunique(dropna=True)) if isinstance(col, pd.Series) else 0


def _role(c, cfg, keys, sens, direct) -> Role:
    if c in direct:
        return "direct identifier"
    if c in sens:
        return "sensitive"
    if c in keys:
        return "key variable"
    if isinstance(cfg.weights, str) and c == cfg.weights:
        return "weights"
    return "other"


def describe_columns(cfg, frame: pd.DataFrame, profile, *, keys, finer: dict, found: dict,
                     tiers: dict) -> list[ColumnInfo]:
    """One :class:`ColumnInfo` per column of ``frame`` (the extract as given).

    ``keys``: the key variables assessed; ``finer``: {key variable: finer column};
    ``found``: {column: kind} of direct identifiers found by name or content; ``tiers``:
    {column: (tier, where from)}.
    """
    sens = {s.name: s for s in cfg.sensitive}
    direct = set(cfg.direct_identifiers) | set(found)
    refined_by: dict = {}
    for q, c in finer.items():
        refined_by.setdefault(c, []).append(q)
    out = []
    for label in frame.columns:
        c = str(label)
        flags = []
        if c in cfg.direct_identifiers:
            flags.append("declared direct identifier: dropped before measuring")
        elif c in found:
            flags.append(f"direct identifier found by {found[c]}: forces controlled until removed or declared "
                         "non-identifying")
        if c in cfg.non_identifying:
            flags.append("declared non-identifying by the assessor")
        if c in refined_by:
            flags.append(f"refines key variable(s) {', '.join(refined_by[c])}: the scenarios use it")
        if profile.is_small_area(c):
            flags.append("small-area geography")
        if c in cfg.removed:
            flags.append("declared removed before release: not assessed")
        tier, where = tiers.get(c, (None, None))
        if tier is None and c in sens:
            flags.append("sensitive column without a tier: the tier indicator is not assessed")
        out.append(ColumnInfo(name=c, role=_role(c, cfg, keys, sens, direct), tier=tier, tier_from=where,
                              special_category=bool(c in sens and sens[c].special_category),
                              distinct=_distinct(frame, label), removed=c in cfg.removed,
                              flags=flags))
    return out
