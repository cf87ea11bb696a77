"""Comparison of the intruder's records with extract records, field by field.

Each quasi-identifier is turned into a *key* shared by both tables (dates to a month or
day number for ``"month"``/``"date"`` comparisons), and the two columns are encoded
together with :func:`idrisk.encode`, so equal values get equal integer codes. Blocking
and exact comparisons then run over those codes in numba
(:mod:`idrisk._kernels.linkage`); tolerance comparisons run over float64 values, and
Jaro-Winkler string similarity is computed once per distinct pair of values (with
``jellyfish``, the library recordlinkage's ``Compare.string`` uses) and mapped to the
pairs. This replaces recordlinkage's pandas ``Compare``, which materialises Python
objects per pair and is too slow past a few million pairs; recordlinkage's ``Compare``
is used in the tests as the reference on small data.

Agreement is binary (1 agree, 0 disagree) and ``-1`` when either value is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._encode import encode
from .._kernels import linkage as K
from ..exceptions import DataValidationError
from .scenario import IntruderScenario

__all__ = ["Field", "prepare_fields", "compare_pairs", "column_kind", "valid_text"]


def column_kind(s: pd.Series) -> str:
    """``"number"``, ``"date"``, ``"text"``, ``"bool"`` or ``"other"`` for a column."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        cats = s.cat.categories
        if len(cats) == 0:
            return "empty"
        return column_kind(pd.Series(cats))
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "date"
    if pd.api.types.is_numeric_dtype(dt):
        return "number"
    if pd.api.types.is_string_dtype(dt) or pd.api.types.is_object_dtype(dt):
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred == "empty":
            return "empty"
        if inferred in ("string",):
            return "text"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "number"
        if inferred in ("datetime", "datetime64", "date"):
            return "date"
        if inferred == "boolean":
            return "bool"
        return f"mixed ({inferred})"
    return "other"


@dataclass
class Field:
    """One quasi-identifier, ready for blocking and comparison (internal)."""

    name: str
    kind: str            # comparison kind
    tolerance: float
    threshold: float
    codes_e: np.ndarray  # int32 (n_e,), -1 missing; joint codes of the key
    codes_a: np.ndarray  # int32 (n_a,)
    n_levels: int
    values_e: np.ndarray | None = None  # float64 for tolerance comparisons
    values_a: np.ndarray | None = None
    levels: object = None               # values behind codes (string similarity only)


def _as_key(s: pd.Series, kind: str) -> pd.Series:
    if kind in ("month", "date"):
        d = pd.to_datetime(s.astype(object) if isinstance(s.dtype, pd.CategoricalDtype) else s)
        if getattr(d.dt, "tz", None) is not None:
            d = d.dt.tz_localize(None)
        if kind == "month":
            key = d.dt.year * 12 + (d.dt.month - 1)
        else:
            key = (d - pd.Timestamp("1970-01-01")).dt.days
        return key.astype("Float64").astype("float64")
    if kind == "numeric":
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(s.cat.categories.dtype)
        return s.astype("float64") if not isinstance(s.dtype, pd.api.extensions.ExtensionDtype) else \
            s.to_numpy(dtype="float64", na_value=np.nan)
    return s


def _plain(s: pd.Series, kind: str) -> pd.Series:
    if kind == "number":
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(s.cat.categories.dtype)
        return pd.Series(s.to_numpy(dtype="float64", na_value=np.nan))
    if kind == "date":
        d = pd.to_datetime(s.astype(object) if isinstance(s.dtype, pd.CategoricalDtype) else s)
        if getattr(d.dt, "tz", None) is not None:
            d = d.dt.tz_localize(None)
        return pd.Series(d.to_numpy(dtype="datetime64[ns]"))
    return pd.Series(s.to_numpy(dtype=object, na_value=None))


def _concat(a: pd.Series, b: pd.Series, kind: str) -> pd.Series:
    """One series holding the extract's then the auxiliary's keys, of one dtype."""
    a = a.reset_index(drop=True)
    b = b.reset_index(drop=True)
    if isinstance(a.dtype, pd.CategoricalDtype) and isinstance(b.dtype, pd.CategoricalDtype):
        return pd.Series(pd.api.types.union_categoricals([a.array, b.array], ignore_order=True))
    if a.dtype == b.dtype and not isinstance(a.dtype, pd.CategoricalDtype):
        return pd.concat([a, b], ignore_index=True)
    return pd.concat([_plain(a, kind), _plain(b, kind)], ignore_index=True)


_KIND_NEEDS = {"month": ("date",), "date": ("date",), "numeric": ("number",), "string": ("text",)}


def prepare_fields(extract: pd.DataFrame, aux: pd.DataFrame, scenario: IntruderScenario) -> list[Field]:
    """Check column types and build the jointly encoded :class:`Field` of every quasi-identifier.

    Raises :class:`DataValidationError` listing every variable whose type differs between
    the extract and the auxiliary data, or does not suit its comparison kind.
    """
    problems = []
    kinds = {}
    for v in scenario.quasi_identifiers:
        ke, ka = column_kind(extract[v]), column_kind(aux[v])
        if (ke == "empty" and ka == "empty") or (extract[v].isna().all() and aux[v].isna().all()):
            problems.append(f"`{v}` has no observed values in either table")
            continue
        if "empty" in (ke, ka):
            ke = ka = ka if ke == "empty" else ke
        if ke != ka:
            problems.append(f"`{v}` is {ke} in the extract but {ka} in the auxiliary data")
            continue
        if ke.startswith("mixed") or ke == "other":
            problems.append(f"`{v}` mixes kinds of values ({ke}); convert it to one type first")
            continue
        comp = scenario.comparisons[v]
        need = _KIND_NEEDS.get(comp.kind)
        if need and ke not in need:
            problems.append(f"`{v}` is {ke} but its comparison {comp.kind!r} needs {' or '.join(need)} values")
            continue
        kinds[v] = ke
    if problems:
        raise DataValidationError(
            "the extract and the auxiliary data cannot be compared: " + "; ".join(problems)
            + ". Give both tables the same column types (for example with .astype or pd.to_datetime)."
        )
    n_e = len(extract)
    fields = []
    for v in scenario.quasi_identifiers:
        comp = scenario.comparisons[v]
        ke = _as_key(extract[v], comp.kind)
        ka = _as_key(aux[v], comp.kind)
        if isinstance(ke, np.ndarray):
            ke = pd.Series(ke)
        if isinstance(ka, np.ndarray):
            ka = pd.Series(ka)
        both = _concat(ke, ka, "number" if comp.kind in ("numeric", "month", "date") else kinds[v])
        enc = encode(pd.DataFrame({"k": both}), ["k"], warn_identifiers=False) if both.notna().any() else None
        if enc is None:
            codes = np.full(len(both), -1, dtype=np.int32)
            nl, levels = 0, None
        else:
            codes, nl, levels = enc.codes["k"], enc.n_levels["k"], enc.levels["k"]
        f = Field(v, comp.kind, comp.tolerance, comp.threshold,
                  np.ascontiguousarray(codes[:n_e]), np.ascontiguousarray(codes[n_e:]), int(nl))
        if comp.kind in ("numeric", "month", "date"):
            vals = both.to_numpy(dtype="float64", na_value=np.nan)
            f.values_e = np.ascontiguousarray(vals[:n_e])
            f.values_a = np.ascontiguousarray(vals[n_e:])
        if comp.kind == "string":
            f.levels = np.asarray(levels, dtype=object) if levels is not None else np.array([], dtype=object)
        fields.append(f)
    return fields


def valid_text(value) -> str:
    """``str(value)``, an unpaired surrogate (not valid Unicode, which jellyfish refuses) moved to
    one private-use character of plane 15 each, so that characters still compare one to one."""
    s = str(value)
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        return s
    return "".join(chr(0xF0000 + ord(c) - 0xD800) if 0xD800 <= ord(c) <= 0xDFFF else c for c in s)


def _jaro_winkler(levels, keys, base):
    import jellyfish

    e = keys // base
    a = keys % base
    jw = jellyfish.jaro_winkler_similarity
    return np.array([jw(valid_text(levels[i]), valid_text(levels[j])) for i, j in zip(e, a)])


def compare_field(f: Field, pe: np.ndarray, pa: np.ndarray) -> np.ndarray:
    """Agreement of field ``f`` on pairs ``(pe, pa)``: int8 1 / 0 / -1 (missing)."""
    out = np.empty(pe.shape[0], dtype=np.int8)
    if f.kind == "exact":
        K.compare_codes(f.codes_e, f.codes_a, pe, pa, out)
    elif f.kind in ("numeric", "month", "date"):
        K.compare_numeric(f.values_e, f.values_a, pe, pa, float(f.tolerance), out)
    else:  # string: Jaro-Winkler once per distinct pair of values
        base = max(f.n_levels, 1)
        keys = K.pair_code_keys(f.codes_e, f.codes_a, pe, pa, np.int64(base))
        uniq, inv = np.unique(keys, return_inverse=True)
        agree = np.full(uniq.shape[0], -1, dtype=np.int8)
        ok = uniq >= 0
        if ok.any():
            sim = _jaro_winkler(f.levels, uniq[ok], base)
            agree[ok] = (sim >= f.threshold).astype(np.int8)
        out[:] = agree[inv.ravel()]
    return out


def compare_pairs(fields: list[Field], pe: np.ndarray, pa: np.ndarray) -> np.ndarray:
    """Comparison vectors of every pair: int8 array of shape ``(k, n_pairs)``."""
    gamma = np.empty((len(fields), pe.shape[0]), dtype=np.int8)
    for j, f in enumerate(fields):
        gamma[j] = compare_field(f, pe, pa)
    return gamma
