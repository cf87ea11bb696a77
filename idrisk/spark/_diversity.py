"""l-diversity and t-closeness on a Spark table, from per-class sensitive-value counts.

Spark counts the records of every (class, sensitive value) pair; the driver computes each
class's figures from those counts with the rules of :mod:`idrisk.metrics` (sdcMicro's
l-diversity, ``docs/methods.md#l-diversity``; ARX's earth mover's distances,
``docs/methods.md#t-closeness``), with the count-based kernels ``ldiversity_counts`` and ``tcloseness_counts``.
Classes follow ``missing="category"`` (a null key value is one more value).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._kernels.diversity import ldiversity_counts, tcloseness_counts
from .._validation import as_column_list
from ..exceptions import DataValidationError, InvalidParameterError
from ..metrics import TClosenessResult
from ..metrics._t_closeness import value_ranks
from ._reduce import COUNT, check_columns, key_expressions, null_safe_join
from ._results import SparkLDiversityResult

__all__ = ["l_diversity", "t_closeness"]


class ValueCounts:
    """Records per (class, sensitive value), on the driver, sorted by class.

    ``starts`` (g + 1) delimit each class's pairs in ``values`` (codes ``0 .. card-1``,
    -1 for missing) and ``counts``; ``keys`` are the classes' keys, ``labels`` the value
    behind each code.
    """

    def __init__(self, rows, qis, s):
        class_of, code_of = {}, {}
        cls = np.empty(len(rows), dtype=np.int64)
        vals = np.empty(len(rows), dtype=np.int64)
        for i, r in enumerate(rows):
            key = tuple(r[c] for c in qis)
            cls[i] = class_of.setdefault(key, len(class_of))
            v = r[s]
            vals[i] = -1 if v is None else code_of.setdefault(v, len(code_of))
        order = np.argsort(cls, kind="stable")
        self.values = vals[order]
        self.counts = np.fromiter((r[COUNT] for r in rows), dtype=np.int64, count=len(rows))[order]
        self.starts = np.searchsorted(cls[order], np.arange(len(class_of) + 1))
        self.keys = list(class_of)
        self.labels = list(code_of)
        self.sizes = np.add.reduceat(self.counts, self.starts[:-1]) if len(rows) else np.zeros(0, np.int64)


def value_counts(df, qis, s) -> ValueCounts:
    """Count the records of every (class, value of ``s``) pair on Spark."""
    from pyspark.sql import functions as F

    base = df.select(*key_expressions(df, [*qis, s]))
    rows = base.groupBy(*qis, s).agg(F.count(F.lit(1)).alias(COUNT)).collect()
    if not rows:
        raise DataValidationError("the data hold no records (0 rows): there is nothing to assess")
    return ValueCounts(rows, qis, s)


def _check_l_params(c, missing, sensitive_na):
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(float(c)) or c <= 0:
        raise InvalidParameterError(f"c must be a finite positive number, got {c!r}")
    if missing != "category":
        raise InvalidParameterError(
            "l_diversity and t_closeness on a Spark DataFrame support missing='category' only")
    if sensitive_na not in ("distinct", "category"):
        raise InvalidParameterError(
            f"sensitive_na must be 'distinct' or 'category', got {sensitive_na!r}")
    return float(c)


def _per_class_table(df, qis, keys, columns: dict):
    """A Spark table of the classes' keys and the per-class ``columns`` (numpy arrays)."""
    from pyspark.sql.types import DoubleType, LongType

    schema = df.select(*key_expressions(df, qis)).schema
    for name, arr in columns.items():
        schema = schema.add(name, DoubleType() if arr.dtype.kind == "f" else LongType())
    lists = [arr.tolist() for arr in columns.values()]
    rows = [(*key, *vals) for key, vals in zip(keys, zip(*lists))]
    return df.sparkSession.createDataFrame(rows, schema=schema)


def l_diversity(data, quasi_identifiers, sensitive, *, c: float = 2, missing: str = "category",
                sensitive_na: str = "distinct", missing_code=None) -> SparkLDiversityResult:
    """:func:`idrisk.l_diversity` on Spark: ``per_record`` is the user's rows with the columns added."""
    c = _check_l_params(c, missing, sensitive_na)
    sens = as_column_list(sensitive, role="sensitive")
    qis = check_columns(data, quasi_identifiers, sens,
                        reserved=[f"{s}_{m}" for s in sens for m in ("distinct", "entropy", "recursive")])
    both = [s for s in sens if s in qis]
    if both:
        raise DataValidationError(f"columns {', '.join(both)} listed both as quasi-identifier and as sensitive")
    minima, table, keys, sizes = {}, None, None, None
    for s in sens:
        vc = value_counts(data, qis, s)
        values = vc.values
        if sensitive_na == "category" and (values < 0).any():
            values = np.where(values < 0, len(vc.labels), values)
        hits = [i for i, v in enumerate(vc.labels) if missing_code is not None and v == missing_code]
        mcode = hits[0] if hits else -2
        d, e, r = ldiversity_counts(vc.starts, values, vc.counts, np.int64(mcode),
                                    np.float32(c), int(vc.sizes.max()))
        minima[s] = {"distinct": int(d.min()), "entropy": float(e.min()), "recursive": int(r.min())}
        if keys is None:
            keys, sizes, table = vc.keys, vc.sizes, {}
        pos = {k: i for i, k in enumerate(vc.keys)}
        idx = np.array([pos[k] for k in keys], dtype=np.int64)
        table.update({f"{s}_distinct": d[idx], f"{s}_entropy": e[idx], f"{s}_recursive": r[idx]})
    per_record = null_safe_join(data, _per_class_table(data, qis, keys, table), qis)
    return SparkLDiversityResult(
        quasi_identifiers=tuple(qis), sensitive=tuple(sens), c=c, missing=missing,
        sensitive_na=sensitive_na, n_records=int(sizes.sum()), n_classes=len(keys), minima=minima,
        per_record=per_record, per_class=pd.DataFrame({"size": sizes, **table}))


def t_closeness(data, quasi_identifiers, sensitive, *, distance: str = "equal", order=None,
                missing: str = "category") -> TClosenessResult:
    """:func:`idrisk.t_closeness` on Spark.

    ``per_class`` (pandas, one row per class) holds the class's key, ``size`` and
    ``distance``; ``class_id`` holds the user's rows with the class's ``tcloseness_distance``
    (a Spark DataFrame: Spark has no order of first appearance to number the classes by).
    """
    if distance not in ("equal", "ordered"):
        raise InvalidParameterError(f"distance must be 'equal' or 'ordered', got {distance!r}")
    if order is not None and distance != "ordered":
        raise InvalidParameterError("order is only used with distance='ordered'")
    _check_l_params(1.0, missing, "distinct")
    sens = as_column_list(sensitive, role="sensitive")
    if len(sens) != 1:
        raise InvalidParameterError(f"t_closeness takes one sensitive column at a time, got {len(sens)}")
    s = sens[0]
    qis = check_columns(data, quasi_identifiers, [s], reserved=("tcloseness_distance",))
    vc = value_counts(data, qis, s)
    values, card = vc.values, len(vc.labels)
    n_na = int(vc.counts[values < 0].sum())
    if distance == "ordered":
        if n_na:
            raise DataValidationError(
                f"sensitive column {s!r} has {n_na} missing value(s), which have no place in the "
                "order of an ordered distance; fill or drop them, or use distance='equal'")
        rank = value_ranks(vc.labels, None, order, s)
    else:
        if n_na:
            values = np.where(values < 0, card, values)
            card += 1
        rank = np.arange(card, dtype=np.int64)
    n = int(vc.sizes.sum())
    q = np.bincount(values, weights=vc.counts, minlength=card) / float(n)
    dist = tcloseness_counts(vc.starts, values, vc.counts, q, rank, distance == "ordered")
    keys = pd.DataFrame.from_records(vc.keys, columns=qis) if vc.keys else pd.DataFrame(columns=qis)
    per_class = keys.assign(size=vc.sizes, distance=dist)
    rows = null_safe_join(data, _per_class_table(data, qis, vc.keys, {"tcloseness_distance": dist}), qis)
    return TClosenessResult(
        quasi_identifiers=tuple(qis), sensitive=s, distance=distance, t=float(dist.max()),
        n_records=n, n_classes=len(vc.keys), n_values=int(card), per_class=per_class, class_id=rows)
