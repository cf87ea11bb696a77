"""What the extract contains, before anything is measured (docs/methods.md#assessment).

Declared direct identifiers are dropped; columns that look like direct identifiers are found
by the profile's name pattern and by their content (:mod:`idrisk.assessment.columns`; the
kind is reported, never a value), small-area geography by name; the tiers of the columns
(declared, else the profile's tier of the item of that name) give the most sensitive tier
present.
"""

from __future__ import annotations

import warnings

import pandas as pd

from ..exceptions import DataValidationError, IdentifierWarning
from ..profiles import normalise_name
from .columns import identifier_kind
from .result import Content

__all__ = ["check_columns", "content_of", "identifiers_found", "column_tiers", "tier_sources"]


def check_columns(cfg, frame: pd.DataFrame) -> None:
    """Every declared column is in the data, and no column has two roles (all problems at once)."""
    missing_direct = [c for c in cfg.direct_identifiers if c not in frame.columns]
    if missing_direct:
        raise DataValidationError(f"direct identifier column(s) not found in the data: {', '.join(missing_direct)}")
    needed = {"quasi-identifier": cfg.all_quasi_identifiers, "sensitive": [s.name for s in cfg.sensitive],
              "tier": list(cfg.tiers),  # a misspelt tier column would silently lower the content's tier
              "removed": list(cfg.removed), "non-identifying": list(cfg.non_identifying)}
    if isinstance(cfg.weights, str):
        needed["weight"] = [cfg.weights]
    problems = [f"{role} column(s) not found in the data: {', '.join(map(str, miss))}"
                for role, cols in needed.items() if (miss := [c for c in cols if c not in frame.columns])]
    clash = sorted(set(cfg.direct_identifiers) & (set(cfg.all_quasi_identifiers) | set(needed["sensitive"])))
    if clash:
        problems.append(f"column(s) declared both direct identifier and quasi-identifier/sensitive: {', '.join(clash)}")
    gone = sorted(set(cfg.removed) & (set(cfg.all_quasi_identifiers) | set(needed["sensitive"])))
    if gone:
        problems.append(f"column(s) declared removed and quasi-identifier/sensitive: {', '.join(gone)}")
    if problems:
        raise DataValidationError("; ".join(problems))


def identifiers_found(cfg, work: pd.DataFrame, profile) -> dict:
    """{column: how it was found} for the columns of ``work`` that look like direct identifiers:
    by name (the profile's pattern) or by content (:func:`identifier_kind`), unless the
    assessor declared them non-identifying. Never a value, only the kind."""
    roles = set(cfg.all_quasi_identifiers) | {s.name for s in cfg.sensitive}
    if isinstance(cfg.weights, str):
        roles.add(cfg.weights)
    found = {}
    for c in work.columns:
        if c in cfg.non_identifying:
            continue
        if profile.is_direct_identifier(c):
            found[str(c)] = "its name"
        elif (kind := identifier_kind(work[c], profile, other=c not in roles)) is not None:
            found[str(c)] = f"its content ({kind})"
    return found


def content_of(cfg, work: pd.DataFrame, profile, *, stacklevel: int = 2, found=None) -> Content:
    """The content of ``work`` (the extract without its declared direct identifiers).

    Warns (:class:`~idrisk.exceptions.IdentifierWarning`) about columns that look like
    direct identifiers (by name or content); a small-area column sets the
    ``small_area_geography`` flag.
    """
    found = identifiers_found(cfg, work, profile) if found is None else found
    suspects = list(found)
    if suspects:
        warnings.warn("column(s) that look like direct identifiers are still in the extract: "
                      + ", ".join(f"{c} (by {how})" for c, how in found.items())
                      + "; declare them as direct_identifiers to drop them (or non_identifying)",
                      IdentifierWarning, stacklevel=stacklevel + 1)
    small_area = [str(c) for c in work.columns if profile.is_small_area(c)]
    flags = dict(cfg.flags)
    if small_area:
        flags["small_area_geography"] = True
    col_tiers = column_tiers(cfg, work, profile)
    untiered = [s.name for s in cfg.sensitive if s.name in work.columns and col_tiers.get(s.name) is None]
    return Content(direct_identifiers_present=suspects,
                   highest_tier=min(col_tiers.values()) if col_tiers else None,
                   tier_1_2_columns=sorted(c for c, t in col_tiers.items() if t <= 2),
                   flags=flags, census=cfg.is_census, small_area_columns=small_area,
                   sensitive_without_tier=untiered)


def column_tiers(cfg, work: pd.DataFrame, profile) -> dict:
    """{column: (tier, where it comes from)} for every column of ``work`` whose tier is known.

    A tier declared for the column (``[sensitive]`` or ``[tiers]``, or ``--tier``) wins; else
    the profile's tier of the item of that name (the NPD tiers by item name,
    docs/methods.md#profiles); else the column has no tier.
    """
    return {c: t for c, (t, _) in tier_sources(cfg, work, profile).items() if t is not None}


def tier_sources(cfg, work: pd.DataFrame, profile) -> dict:
    """{column: (tier or None, "declared" / "profile" / None)} for every column of ``work``."""
    declared = {c: t for c, t in cfg.tiers.items()}
    declared.update({s.name: s.tier for s in cfg.sensitive if s.tier is not None})
    items = {normalise_name(k): v for k, v in dict(profile.item_tiers).items()}
    out = {}
    for c in work.columns:
        if c in declared:
            out[str(c)] = (int(declared[c]), "declared")
        elif normalise_name(c) in items:
            out[str(c)] = (int(items[normalise_name(c)]), "profile")
        else:
            out[str(c)] = (None, None)
    return out
