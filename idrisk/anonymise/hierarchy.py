"""Generalisation hierarchies: value tables (ARX's format), parent maps and built-in ladders.

A hierarchy of height ``h`` is a table with one row per original value and the columns
level 0 (the value itself) .. level h (the coarsest, usually ``*``). It is valid when level 0
names every value once, no cell is empty and every level is a function of the level below
(two rows that agree at level ``L-1`` agree at level ``L``: levels coarsen). The data are
covered when every value present has a row. Values are compared as text (an integral
number as its integer digits, a date as ``YYYY-MM-DD``), as ARX compares them.

Built-in ladders (:func:`bands`, :func:`dates`, :func:`prefixes`) are built from the values
present and replay from their parameters; see ``docs/methods.md#anonymisation``.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path, PurePath

import numpy as np
import pandas as pd

from .._encode import _arrow_string_array
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["Hierarchy", "Ladder", "bands", "dates", "prefixes", "value_key", "resolve_hierarchy"]

TOP = "*"


def value_key(v) -> str | None:
    """The text a value is matched by (``None`` for a missing value)."""
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, Integral):
        return str(int(v))
    if isinstance(v, Real):
        f = float(v)
        if math.isnan(f):
            return None
        return str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)
    if isinstance(v, (pd.Timestamp, _dt.datetime)):
        return v.strftime("%Y-%m-%d") if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0) else v.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


@dataclass(frozen=True)
class Hierarchy:
    """A validated hierarchy table: ``levels[L][row]`` is the level-L text of a row.

    ``source`` is how it replays (``{"kind": "table", "rows": ...}`` or a ladder's parameters).
    """

    column: str
    levels: tuple
    source: dict

    @property
    def height(self) -> int:
        return len(self.levels) - 1

    @property
    def size(self) -> int:
        """Rows of the table (ARX's domain size for the Loss measure)."""
        return len(self.levels[0])

    def rows(self) -> list[list[str]]:
        return [list(r) for r in zip(*self.levels)]

    def row_index(self) -> dict:
        return {v: i for i, v in enumerate(self.levels[0])}


def _fail(column, text):
    raise InvalidParameterError(f"hierarchy of column {column!r}: {text}")


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def from_rows(rows, column, source: dict | None = None) -> Hierarchy:
    """A hierarchy from rows (level 0 first); every check of the module docstring applied."""
    rows = [list(r) for r in rows]
    if not rows:
        _fail(column, "the table has no rows")
    width = max(len(r) for r in rows)
    short = sum(len(r) < width for r in rows)
    cells = [[c if type(c) is str else value_key(c) for c in r] + [None] * (width - len(r)) for r in rows]
    empty = sum(any(c is None or c == "" for c in r) for r in cells)
    if empty or short:
        _fail(column, f"{_plural(empty, 'row')} with a missing or empty level (a hierarchy needs every level "
                      "of every value)")
    first = [r[0] for r in cells]
    dup = len(first) - len(set(first))
    if dup:
        _fail(column, f"{_plural(dup, 'value')} listed more than once at level 0")
    levels = tuple(tuple(r[j] for r in cells) for j in range(width))
    for j in range(1, width):
        parent = {}
        split = set()
        for below, above in zip(levels[j - 1], levels[j]):
            if parent.setdefault(below, above) != above:
                split.add(below)
        if split:
            _fail(column, f"levels do not coarsen: {_plural(len(split), 'value')} of level {j - 1} map to more "
                          f"than one value of level {j}")
    src = source or {"kind": "table", "rows": [list(r) for r in zip(*levels)]}
    return Hierarchy(str(column), levels, src)


def from_parents(parents: Mapping, column) -> Hierarchy:
    """A hierarchy from ``{value: parent}``: leaves are the values that are nobody's parent;
    each path climbs to a value without a parent (shorter paths repeat their root)."""
    par = {value_key(k): value_key(v) for k, v in parents.items()}
    if any(k is None or v is None for k, v in par.items()):
        _fail(column, "the parent map has a missing value or parent")
    no_top = 0
    for v in par:
        seen, cur = {v}, v
        while cur in par:
            cur = par[cur]
            if cur in seen:
                no_top += 1
                break
            seen.add(cur)
    if no_top:
        _fail(column, f"the parent map has a cycle: {_plural(no_top, 'value')} have no path to the top")
    children = set(par.values())
    paths = []
    for leaf in (v for v in par if v not in children):
        path = [leaf]
        while path[-1] in par:
            path.append(par[path[-1]])
        paths.append(path)
    height = max(len(p) for p in paths)
    rows = [p + [p[-1]] * (height - len(p)) for p in paths]
    return from_rows(rows, column, {"kind": "parents", "parents": dict(sorted(par.items()))})


def read_table(path, column) -> Hierarchy:
    """An ARX-format hierarchy file: ``;``-separated, no header, one row per value."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidParameterError(f"hierarchy of column {column!r}: cannot read {str(path)!r} "
                                    f"({exc.strerror or type(exc).__name__})") from None
    rows = [line.split(";") for line in text.splitlines() if line.strip() != ""]
    return from_rows(rows, column)


@dataclass(frozen=True)
class Ladder:
    """A built-in ladder: ``kind`` in ``bands`` / ``dates`` / ``prefixes`` and its parameters."""

    kind: str
    params: tuple

    def spec(self) -> dict:
        return {"kind": self.kind, **dict(self.params)}

    def build(self, values, column) -> Hierarchy:
        uniques = pd.unique(pd.Series(values).dropna())
        keys = sorted({value_key(v) for v in uniques} - {None})
        if self.kind == "bands":
            rows = _band_rows(keys, column, **dict(self.params))
        elif self.kind == "dates":
            rows = _date_rows(keys, column, **dict(self.params))
        else:
            rows = _prefix_rows(keys, **dict(self.params))
        if not rows:
            _fail(column, "no values to build the ladder from")
        return from_rows([r + [TOP] for r in rows], column, self.spec())


def bands(*widths, origin: float = 0) -> Ladder:
    """Numeric bands: level j groups values into intervals of ``widths[j-1]`` from ``origin``
    (``[lo, lo + w)``, shown ``lo-hi`` for integers); each width must divide the next; top ``*``."""
    ws = [float(w) for w in widths]
    if not ws or any(not math.isfinite(w) or w <= 0 for w in ws):
        raise InvalidParameterError(f"bands needs positive band widths, got {widths!r}")
    if any(not (b / a).is_integer() for a, b in zip(ws, ws[1:])):
        raise InvalidParameterError(f"band widths must each divide the next (levels coarsen), got {widths!r}")
    return Ladder("bands", (("widths", [int(w) if w.is_integer() else w for w in ws]), ("origin", origin)))


_DATE_UNITS = ("month", "quarter", "year")


def dates(*units) -> Ladder:
    """Date ladder: day (the value) then the given units among month, quarter and year; top ``*``."""
    units = list(units or _DATE_UNITS)
    if any(u not in _DATE_UNITS for u in units) or units != sorted(set(units), key=_DATE_UNITS.index):
        raise InvalidParameterError(f"dates takes units among {', '.join(_DATE_UNITS)} in that order, got {units!r}")
    return Ladder("dates", (("units", units),))


def prefixes(*lengths) -> Ladder:
    """String prefixes: level j keeps the first ``lengths[j-1]`` characters (the rest as ``*``)."""
    ls = list(lengths)
    if not ls or any(not isinstance(v, Integral) or v < 0 for v in ls) or ls != sorted(ls, reverse=True):
        raise InvalidParameterError(f"prefixes needs decreasing non-negative lengths, got {lengths!r}")
    return Ladder("prefixes", (("lengths", [int(v) for v in ls]),))


def _band_label(lo: float, hi: float, integral: bool) -> str:
    if integral:
        return f"{int(lo)}-{int(hi) - 1}"
    return f"[{lo:g},{hi:g})"


def _band_rows(keys, column, widths, origin):
    nums, bad = [], 0
    for k in keys:
        try:
            nums.append((k, float(k)))
        except ValueError:
            bad += 1
    if bad:
        _fail(column, f"numeric bands need numbers; {_plural(bad, 'value')} are not numbers")
    integral = all(x.is_integer() for _, x in nums) and all(float(w).is_integer() for w in widths) \
        and float(origin).is_integer()
    rows = []
    for k, x in nums:
        row = [k]
        for w in widths:
            lo = origin + math.floor((x - origin) / w) * w
            row.append(_band_label(lo, lo + w, integral))
        rows.append(row)
    return rows


def _date_rows(keys, column, units):
    parsed = pd.to_datetime(pd.Series(keys, dtype=object), errors="coerce", format="ISO8601")
    bad = int(parsed.isna().sum())
    if bad:
        _fail(column, f"the date ladder needs dates; {_plural(bad, 'value')} are not dates")
    rows = []
    for k, t in zip(keys, parsed):
        row = [k]
        for u in units:
            row.append(f"{t.year:04d}-{t.month:02d}" if u == "month" else
                       f"{t.year:04d}-Q{(t.month - 1) // 3 + 1}" if u == "quarter" else f"{t.year:04d}")
        rows.append(row)
    return rows


def _prefix_rows(keys, lengths):
    return [[k] + [k[:n] + "*" * max(len(k) - n, 0) for n in lengths] for k in keys]


def ladder_from_spec(spec: Mapping, column) -> Ladder | Hierarchy:
    """A ladder or table from its recipe form (``{"kind": ..., parameters}``)."""
    kind = spec.get("kind")
    try:
        if kind == "bands":
            return bands(*spec["widths"], origin=spec.get("origin", 0))
        if kind == "dates":
            return dates(*spec.get("units", _DATE_UNITS))
        if kind == "prefixes":
            return prefixes(*spec["lengths"])
        if kind == "table":
            return from_rows(spec["rows"], column)
        if kind == "parents":
            return from_parents(spec["parents"], column)
    except KeyError as exc:
        _fail(column, f"the {kind} specification lacks {exc.args[0]!r}")
    _fail(column, f"unknown kind {kind!r} (bands, dates, prefixes, table or parents)")


def resolve_hierarchy(spec, values, column) -> Hierarchy:
    """A :class:`Hierarchy` for ``column`` from what the user gave, checked against the values."""
    if isinstance(spec, Mapping) and "kind" in spec:
        spec = ladder_from_spec(spec, column)
    if isinstance(spec, Ladder):
        h = spec.build(values, column)
    elif isinstance(spec, Hierarchy):
        h = spec
    elif isinstance(spec, pd.DataFrame):
        h = from_rows(spec.itertuples(index=False, name=None), column)
    elif isinstance(spec, (str, PurePath)):
        h = read_table(spec, column)
    elif isinstance(spec, Mapping):
        h = from_parents(spec, column)
    elif isinstance(spec, (list, tuple)):
        h = from_rows(spec, column)
    else:
        raise InvalidParameterError(
            f"hierarchy of column {column!r} must be a table (DataFrame, ARX CSV path or rows), a parent map "
            f"or a ladder (bands, dates, prefixes), got {type(spec).__name__}")
    return h


def map_values(h: Hierarchy, values) -> np.ndarray:
    """Row index of every value in ``h`` (int32); error naming the column and counting the
    values (and records) without a path to the top."""
    values = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    fast = _arrow_rows(h, values)
    if fast is not None and (fast >= 0).all():
        return fast
    index = h.row_index()
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    pos = np.array([index.get(value_key(v), -1) for v in uniques] + [-1], dtype=np.int64)
    out = pos[codes]
    if (out < 0).any():
        n_missing = int((codes < 0).sum())
        n_bad = int((pos[:-1] < 0).sum()) + (1 if n_missing else 0)
        n_rec = int((out < 0).sum())
        extra = " (a missing value has no path: fill it first)" if n_missing else ""
        raise DataValidationError(
            f"hierarchy of column {h.column!r}: {_plural(n_bad, 'value')} present in the data "
            f"({_plural(n_rec, 'record')}) have no path to the top{extra}")
    return out.astype(np.int32)


def _arrow_rows(h: Hierarchy, values: pd.Series):
    """:func:`map_values` of a pyarrow-backed string column by Arrow's own lookup (a string is
    matched as itself, as :func:`value_key` gives it; -1 where none), else None."""
    arr = _arrow_string_array(values)
    if arr is None:
        return None
    import pyarrow as pa  # noqa: PLC0415  (only reached for pyarrow-backed columns)
    import pyarrow.compute as pc  # noqa: PLC0415

    found = pc.index_in(arr, value_set=pa.array(list(h.levels[0]), type=arr.type))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
