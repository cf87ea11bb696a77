"""Data divergence: how what an intruder knows differs from the record (docs/methods.md#divergence).

One mechanism for every kind of auxiliary data. Each field follows, in this order:

1. **change over a time lag**: with probability ``change_probability`` (and surely where
   ``must_change``) the value the intruder learnt is no longer the record's value; the
   value now is drawn by the field's ``changed`` strategy (default: its ``wrong`` one);
2. **coarsening** (dates to month or year, numbers rounded, text truncated) and
   **jitter** (a uniform shift of months or units in ``[-j, j]``);
3. **recording errors**: with probability ``error_rate`` the value is replaced by one the
   field's ``wrong`` strategy draws;
4. **blanking**: with probability ``missing_rate`` the value is missing.

The changes over the time lag of every field come first, then steps 2-4 field by field. A
*strategy* says how a different value is drawn: ``strategy(rng, values, rows)`` returns a
copy of the column ``values`` (a numpy array or a pandas Series) whose positions ``rows``
(never missing) hold a different value where one can be found. :func:`redraw` draws from
the column's observed values; the pupil data's plausible mistakes (the other sex, a
neighbouring year group, another school of the same local authority and phase...) are
strategies of :mod:`idrisk.datasets.perturbation`.

Random draws: ``rng`` is one ``numpy.random.Generator`` shared by all fields, in field
order, or a mapping field -> Generator (one stream per field). Each step whose rate is
given draws one uniform per record, even for a rate of 0; a rate of ``None`` skips the
step and draws nothing. The flags of the result record what changed: ``_stale_<f>`` (the
value changed over the time lag), ``_error_<f>`` (a recording error changed it) and
``_missing_<f>`` (it was blanked).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._results import RECORD_LEVEL, Result
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["FieldDivergence", "Diverged", "diverge", "change_probability", "redraw", "coarsen_values",
           "jitter_values", "blank"]

#: ``strategy(rng, values, rows) -> values``: a copy of ``values`` with ``rows`` changed
Strategy = Callable[[np.random.Generator, Any, np.ndarray], Any]


@dataclasses.dataclass(frozen=True)
class FieldDivergence:
    """How one field of the intruder's data diverges (docs/methods.md#divergence).

    A rate of ``None`` skips its step without drawing; ``wrong`` is needed with an
    ``error_rate``, ``changed`` (or ``wrong``) with a ``change_probability``;
    ``must_change`` (one bool per record) marks values known to have changed.
    """

    wrong: Strategy | None = None
    error_rate: float | None = None
    missing_rate: float | None = None
    change_probability: float | None = None
    changed: Strategy | None = None
    must_change: np.ndarray | None = None
    coarsen: str | None = None
    jitter: int = 0

    def __post_init__(self):
        if self.error_rate is not None and self.wrong is None:
            raise InvalidParameterError("an error_rate needs a `wrong` strategy")
        if self.change_probability is not None and self.changed is None and self.wrong is None:
            raise InvalidParameterError("a change_probability needs a `changed` or `wrong` strategy")


@dataclasses.dataclass(frozen=True)
class Diverged(Result):
    """The diverged fields (``values``: field -> column) and the flags of what changed
    (``flags``: ``_error_<f>``, ``_missing_<f>`` per field, then ``_stale_<f>`` per field
    with a change over the time lag)."""

    values: dict = dataclasses.field(metadata=RECORD_LEVEL)
    flags: pd.DataFrame = dataclasses.field(metadata=RECORD_LEVEL)


def change_probability(rate: float, years: float) -> float:
    """P(a value changed within ``years``) at an annual change ``rate``: ``1 - (1 - rate)^years``."""
    return 1.0 - (1.0 - rate) ** years


def _isna(values) -> np.ndarray:
    return np.asarray(pd.isna(values), dtype=bool)


def _differs(new, old) -> np.ndarray:
    """Where ``new`` differs from a non-missing ``old``."""
    if isinstance(old, pd.Series):
        diff = new.astype(object).to_numpy() != old.astype(object).to_numpy()
    else:
        diff = new != old
    return np.asarray(diff, dtype=bool) & ~_isna(old)


def _stream(rng, field) -> np.random.Generator:
    return rng[field] if isinstance(rng, Mapping) else rng


def _changed(strategy: Strategy, rng, values, mask: np.ndarray):
    rows = np.flatnonzero(mask & ~_isna(values))
    return strategy(rng, values, rows) if rows.size else values


def diverge(values: Mapping, fields: Mapping[Any, FieldDivergence], rng) -> Diverged:
    """Apply each field's divergence (changes over the time lag first, then per field
    coarsening, jitter, errors and blanking); see the module docstring for the draws.

    ``values`` maps each field of ``fields`` to its true column (numpy array or pandas
    Series, all of one length; not modified).
    """
    cols = {f: values[f] for f in fields}
    flags, stale = {}, {}
    for f, spec in fields.items():
        if spec.change_probability is None:
            continue
        r, col = _stream(rng, f), cols[f]
        mask = r.random(len(col)) < spec.change_probability
        if spec.must_change is not None:
            mask = mask | spec.must_change
        cols[f] = _changed(spec.changed or spec.wrong, r, col, mask)
        stale[f"_stale_{f}"] = _differs(cols[f], col)
    for f, spec in fields.items():
        r, col = _stream(rng, f), cols[f]
        n = len(col)
        if spec.coarsen:
            col = coarsen_values(col, spec.coarsen, f)
        col = jitter_values(col, spec.jitter, r, f)
        err = np.zeros(n, dtype=bool)
        if spec.error_rate is not None:
            new = _changed(spec.wrong, r, col, r.random(n) < spec.error_rate)
            err = _differs(new, col)
            col = new
        miss = np.zeros(n, dtype=bool)
        if spec.missing_rate is not None:
            miss = r.random(n) < spec.missing_rate
            col = blank(col, miss)
        cols[f] = col
        flags[f"_error_{f}"] = err
        flags[f"_missing_{f}"] = miss
    flags.update(stale)
    index = next((c.index for c in cols.values() if isinstance(c, pd.Series)), None)
    return Diverged(values=cols, flags=pd.DataFrame(flags, index=index))


def redraw(pool: np.ndarray) -> Strategy:
    """The generic strategy: a value drawn uniformly from ``pool`` (the column's observed
    values, so in proportion to their frequencies) that differs from the current one;
    ``values`` is a numpy array. After 20 draws equal to the current value it stays."""
    def strategy(rng, values, rows):
        if pool.size == 0:
            return values
        out = values.copy()
        idx = rows
        for _ in range(20):
            draw = pool[rng.integers(0, pool.size, size=idx.size)]
            same = draw == out[idx]
            out[idx[~same]] = draw[~same]
            idx = idx[same]
            if idx.size == 0:
                break
        return out
    return strategy


def blank(values, mask: np.ndarray):
    """``values`` with ``mask`` set missing: ``NaN``, ``NaT`` or ``None`` in a numpy array,
    ``pd.NA`` (``NaT`` for dates) in a pandas Series."""
    if isinstance(values, pd.Series):
        if mask.any():
            values = values.copy()
            values.iloc[np.flatnonzero(mask)] = (pd.NaT if pd.api.types.is_datetime64_any_dtype(values)
                                                 else pd.NA)
        return values
    out = values.copy()
    if out.dtype.kind == "M":
        out[mask] = np.datetime64("NaT")
    elif out.dtype.kind == "f":
        out[mask] = np.nan
    else:
        out[mask] = None
    return out


def coarsen_values(arr: np.ndarray, spec: str, var) -> np.ndarray:
    """``arr`` coarsened by ``spec``: ``month`` / ``year`` (dates), ``round:<w>`` (numbers
    down to a multiple of ``w``), ``prefix:<n>`` (the first ``n`` characters of text)."""
    head, _, arg = spec.partition(":")
    if head in ("month", "year"):
        if arr.dtype.kind != "M":
            raise DataValidationError(f"coarsening {spec!r} needs dates but column {var!r} is not a date column")
        unit = "M" if head == "month" else "Y"
        return arr.astype(f"datetime64[{unit}]").astype("datetime64[ns]")
    if head == "round":
        if arr.dtype.kind != "f":
            raise DataValidationError(f"coarsening {spec!r} needs numbers but column {var!r} is not numeric")
        w = float(arg)
        return np.floor(arr / w) * w
    n = int(arg)  # prefix
    if arr.dtype.kind != "O":
        raise DataValidationError(f"coarsening {spec!r} needs strings but column {var!r} is not a text column")
    return np.array([v[:n] if isinstance(v, str) else v for v in arr], dtype=object)


def jitter_values(arr: np.ndarray, j: int, rng, var) -> np.ndarray:
    """``arr`` shifted by a uniform integer in ``[-j, j]`` per record: months for dates
    (the day kept, at most the 28th), units for numbers; ``j = 0`` draws nothing."""
    if j == 0:
        return arr
    shift = rng.integers(-j, j + 1, size=arr.shape[0])
    if arr.dtype.kind == "M":
        nat = np.isnat(arr)
        months = arr.astype("datetime64[M]")
        day = (arr - months.astype("datetime64[ns]")).astype("timedelta64[D]").astype(np.int64)
        day = np.minimum(day, 27)
        out = (months + shift.astype("timedelta64[M]")).astype("datetime64[ns]") + day.astype("timedelta64[D]")
        out[nat] = np.datetime64("NaT")
        return out
    if arr.dtype.kind == "f":
        return arr + shift
    raise DataValidationError(f"jitter needs dates or numbers but column {var!r} holds text")
