"""l-diversity and t-closeness on a Spark table, from per-class sensitive-value counts.

Spark counts the records of every (class, sensitive value) pair; the driver computes each
class's figures from those counts with the rules of :mod:`idrisk.metrics` (sdcMicro's
l-diversity, ``docs/methods.md#l-diversity``; ARX's earth mover's distances,
``docs/methods.md#t-closeness``), with the count-based kernels ``ldiversity_counts`` and ``tcloseness_counts``.
Classes follow ``missing="category"`` (a null key value is one more value) or ``"never"`` (a
record with a null key value is a class of its own: its figures depend only on its sensitive
value, so those classes are counted per value on Spark and stand as one row per value).
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
from ._results import SparkLDiversityResult, SparkTClosenessResult

__all__ = ["l_diversity", "t_closeness"]


class ValueCounts:
    """Records per (class, sensitive value), on the driver, sorted by class.

    ``starts`` (g + 1) delimit each class's pairs in ``values`` (codes ``0 .. card-1``,
    -1 for missing) and ``counts``; ``keys`` are the classes' keys, ``labels`` the value
    behind each code.
    """

    def __init__(self, rows, qis, s):
        self.singles = []
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
        if not len(rows):
            self.starts = np.zeros(1, dtype=np.int64)
        self.mult = np.ones(len(self.keys), dtype=np.int64)  # classes each row of the arrays stands for
        self.n_real = len(self.keys)
        self._code_of = code_of

    def add_singles(self, rows, s) -> None:
        """Under ``missing="never"`` every record with a missing key is a class of its own, whose
        figures depend only on its sensitive value: one class of one record per value, standing
        for ``mult`` such classes (the value's records), keyed ``None``."""
        for r in rows:
            v = r[s]
            code = -1 if v is None else self._code_of.setdefault(v, len(self._code_of))
            self.values = np.append(self.values, code)
            self.counts = np.append(self.counts, 1)
            self.starts = np.append(self.starts, self.starts[-1] + 1)
            self.sizes = np.append(self.sizes, 1)
            self.mult = np.append(self.mult, int(r[COUNT]))
            self.keys.append(None)
            self.singles.append(v)
        self.labels = list(self._code_of)



def value_counts(df, qis, s, missing: str = "category") -> ValueCounts:
    """Count the records of every (class, value of ``s``) pair on Spark.

    Under ``missing="never"`` the records with a missing key are counted per value of ``s``
    (each is a class of its own: :meth:`ValueCounts.add_singles`).
    """
    from pyspark.sql import functions as F

    base = df.select(*key_expressions(df, [*qis, s]))
    n = F.count(F.lit(1)).alias(COUNT)
    if missing == "never":
        anynull = any_null(qis)
        rows = base.where(~anynull).groupBy(*qis, s).agg(n).collect()
        singles = base.where(anynull).groupBy(s).agg(n).collect()
    else:
        rows, singles = base.groupBy(*qis, s).agg(n).collect(), []
    if not rows and not singles:
        raise DataValidationError("the data hold no records (0 rows): there is nothing to assess")
    vc = ValueCounts(rows, qis, s)
    vc.add_singles(singles, s)
    return vc


def any_null(qis):
    """Spark expression: the record has a missing value in one of ``qis``."""
    from pyspark.sql import functions as F

    out = F.lit(False)
    for c in qis:
        out = out | F.col(f"`{c}`").isNull()
    return out


def _with_singles(rows, qis, s, vc, columns: dict):
    """Under the never rule: the records of ``rows`` with a missing key take the columns of
    their class of one (``columns``: arrays over all of ``vc``'s classes), joined on their
    value of ``s``; the other records keep theirs."""
    from pyspark.sql import functions as F

    if not vc.singles:
        return rows
    table = _per_value_table(rows, s, vc.singles, {k: v[vc.n_real:] for k, v in columns.items()})
    joined = null_safe_join(rows, table, [s])
    keyless = any_null(qis)
    for k in columns:
        joined = joined.withColumn(k, F.when(keyless, F.col(f"__idrisk_s_{k}")).otherwise(F.col(k)))
    return joined.drop(*[f"__idrisk_s_{k}" for k in columns])


def _per_value_table(data, s, values, columns: dict):
    from pyspark.sql.types import DoubleType, LongType

    schema = data.select(*key_expressions(data, [s])).schema
    for name, arr in columns.items():
        schema = schema.add(f"__idrisk_s_{name}", DoubleType() if arr.dtype.kind == "f" else LongType())
    lists = [arr.tolist() for arr in columns.values()]
    return data.sparkSession.createDataFrame([(v, *vals) for v, vals in zip(values, zip(*lists))], schema=schema)


def _check_l_params(c, missing, sensitive_na):
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(float(c)) or c <= 0:
        raise InvalidParameterError(f"c must be a finite positive number, got {c!r}")
    if missing not in ("category", "never"):
        raise InvalidParameterError(
            "l_diversity and t_closeness on a Spark DataFrame support missing='category' and 'never' "
            "(missing='wildcard' does not partition records into classes)")
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
    minima, table, ref, singles = {}, {}, None, []
    for s in sens:
        vc = value_counts(data, qis, s, missing)
        values = vc.values
        if sensitive_na == "category" and (values < 0).any():
            values = np.where(values < 0, len(vc.labels), values)
        hits = [i for i, v in enumerate(vc.labels) if missing_code is not None and v == missing_code]
        mcode = hits[0] if hits else -2
        d, e, r = ldiversity_counts(vc.starts, values, vc.counts, np.int64(mcode),
                                    np.float32(c), int(vc.sizes.max()))
        minima[s] = {"distinct": int(d.min()), "entropy": float(e.min()), "recursive": int(r.min())}
        ref = vc if ref is None else ref
        pos = {k: i for i, k in enumerate(vc.keys[:vc.n_real])}
        idx = np.array([pos[k] for k in ref.keys[:ref.n_real]], dtype=np.int64)
        cols = {f"{s}_distinct": d, f"{s}_entropy": e, f"{s}_recursive": r}
        table.update({k: v[idx] for k, v in cols.items()})
        singles.append((s, vc, cols))
    keys = ref.keys[:ref.n_real]
    per_record = null_safe_join(data, _per_class_table(data, qis, keys, table), qis)
    # classes of one (never rule): one row per sensitive value, its size their number of records
    parts = [pd.DataFrame({"size": ref.sizes[:ref.n_real], **table})]
    for s, vc, cols in singles:
        per_record = _with_singles(per_record, qis, s, vc, cols)
        parts.append(pd.DataFrame({"size": vc.mult[vc.n_real:], **{k: v[vc.n_real:] for k, v in cols.items()}}))
    per_class = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    n_single = int(ref.mult[ref.n_real:].sum())
    return SparkLDiversityResult(
        quasi_identifiers=tuple(qis), sensitive=tuple(sens), c=c, missing=missing,
        sensitive_na=sensitive_na, n_records=int(ref.sizes[:ref.n_real].sum()) + n_single,
        n_classes=len(keys) + n_single, minima=minima, per_record=per_record, per_class=per_class)


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
    vc = value_counts(data, qis, s, missing)
    values, card = vc.values, len(vc.labels)
    pair_mult = np.repeat(vc.mult, np.diff(vc.starts))  # a class of one stands for its value's records
    n_na = int((vc.counts * pair_mult)[values < 0].sum())
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
    n = int((vc.sizes * vc.mult).sum())
    q = np.bincount(values, weights=vc.counts * pair_mult, minlength=card) / float(n)
    dist = tcloseness_counts(vc.starts, values, vc.counts, q, rank, distance == "ordered")
    real = vc.keys[:vc.n_real]
    keys = pd.DataFrame.from_records(real, columns=qis) if real else pd.DataFrame(columns=qis)
    per_class = keys.assign(size=vc.sizes[:vc.n_real], distance=dist[:vc.n_real])
    if vc.singles:  # classes of one (never rule): one row per sensitive value, keys missing
        per_class = pd.concat([per_class.assign(classes=1),
                               pd.DataFrame({"size": vc.mult[vc.n_real:], "distance": dist[vc.n_real:],
                                             "classes": vc.mult[vc.n_real:]})], ignore_index=True)
    rows = null_safe_join(data, _per_class_table(data, qis, real, {"tcloseness_distance": dist[:vc.n_real]}), qis)
    rows = _with_singles(rows, qis, s, vc, {"tcloseness_distance": dist})
    return SparkTClosenessResult(
        quasi_identifiers=tuple(qis), sensitive=s, distance=distance, t=float(dist.max()),
        n_records=n, n_classes=vc.n_real + int(vc.mult[vc.n_real:].sum()), n_values=int(card),
        per_class=per_class, class_id=rows)
