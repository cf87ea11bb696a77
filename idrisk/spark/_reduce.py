"""The reduction on Spark: class counts and weight sums per key, and the distinct key table.

Every function takes the user's ``pyspark.sql.DataFrame`` and runs Spark aggregations
(``groupBy`` over the quasi-identifiers, where a null is one value of its own: the
``missing="category"`` convention of ``docs/methods.md#missing-values``); only the
reduced table (one row per equivalence class) comes to the driver. A NaN in a
floating-point column is read as missing, as pandas does. pyspark is imported only
here and only when a Spark DataFrame is passed.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["Reduced", "check_columns", "key_expressions", "reduce_classes", "weight_column",
           "null_safe_join"]

#: name of the count column of a reduced table
COUNT = "__idrisk_n"
#: name of the weight-sum column of a reduced table
WSUM = "__idrisk_w"


def _functions():
    from pyspark.sql import functions

    return functions


def check_columns(df, quasi_identifiers, extra=(), weights=None, *, reserved=()) -> list:
    """The quasi-identifiers as a list, every absent column reported in one error."""
    if not hasattr(df, "sparkSession"):  # pandas-on-Spark, whose to_pandas() would collect it
        raise InvalidParameterError(
            f"{type(df).__name__} is not a pyspark.sql.DataFrame; pass frame.to_spark()")
    if isinstance(quasi_identifiers, str):
        quasi_identifiers = [quasi_identifiers]
    qis = list(quasi_identifiers)
    if not qis:
        raise InvalidParameterError("at least one quasi-identifier is needed")
    if len(set(qis)) < len(qis):
        raise InvalidParameterError(f"a quasi-identifier is listed twice: {qis}")
    if weights is not None and not isinstance(weights, str):
        raise InvalidParameterError(
            "weights of a Spark DataFrame must be the name of a column (one value per row "
            "cannot be aligned with a distributed table)")
    wanted = [*qis, *extra, *([weights] if weights is not None else [])]
    absent = [str(c) for c in wanted if c not in df.columns]
    if absent:
        raise DataValidationError(
            f"column{'s' if len(absent) > 1 else ''} not found in the data: {', '.join(absent)}")
    taken = [c for c in reserved if c in df.columns]
    if taken:
        raise DataValidationError(
            f"the data already hold column{'s' if len(taken) > 1 else ''} {', '.join(taken)}, "
            "which the per-record output adds; rename them first")
    return qis


def key_expressions(df, columns):
    """The columns as Spark expressions, NaN in floating-point columns read as null."""
    F = _functions()
    types = dict(df.dtypes)
    out = []
    for c in columns:
        col = F.col(f"`{c}`")
        if types[c] in ("double", "float"):
            col = F.when(F.isnan(col), F.lit(None)).otherwise(col)
        out.append(col.alias(c))
    return out


def weight_column(df, weights):
    """Check the weight column on Spark (numeric, no missing, finite, >= 0): its expression."""
    F = _functions()
    if dict(df.dtypes)[weights] in ("string", "boolean", "date", "timestamp", "binary"):
        raise DataValidationError(f"weight column {weights!r} must be numeric")
    w = F.col(f"`{weights}`").cast("double")
    bad = df.select(
        F.sum(F.when(w.isNull() | F.isnan(w), 1).otherwise(0)).alias("missing"),
        F.sum(F.when((w == float("inf")) | (w == float("-inf")), 1).otherwise(0)).alias("inf"),
        F.sum(F.when(w < 0, 1).otherwise(0)).alias("negative")).first()
    problems = [f"{int(v)} {name}" for name, v in zip(("missing", "infinite", "negative"), bad) if v]
    if problems:
        raise DataValidationError(f"weights {weights!r} must be finite and non-negative: "
                                  + ", ".join(problems) + " value(s)")
    return w


class Reduced:
    """One row per equivalence class, on the driver.

    Attributes
    ----------
    keys : list of tuple
        The class's value of each quasi-identifier (None for missing), when asked for.
    sizes : numpy.ndarray
        int64 class sizes ``f_k``.
    wsums : numpy.ndarray or None
        float64 sums of the sampling weights (``F_k``), with weights.
    n_records : int
    """

    def __init__(self, keys, sizes, wsums):
        self.keys = keys
        self.sizes = sizes
        self.wsums = wsums
        self.n_records = int(sizes.sum())


def _never_classes(df, qis):
    """missing='never': the records with a missing quasi-identifier, each a class of its own."""
    F = _functions()
    anynull = F.lit(False)
    for c in qis:
        anynull = anynull | F.col(f"`{c}`").isNull()
    return anynull


def reduce_classes(df, qis, *, weights=None, missing="category", keys=False) -> Reduced:
    """Class sizes (and weight sums) over ``qis``, aggregated on Spark.

    ``missing`` is ``"category"`` (a null is one more value) or ``"never"`` (a record with
    a null is alone in its class). With ``keys`` the class keys come back too.
    """
    F = _functions()
    w = weight_column(df, weights) if weights is not None else None
    cols = key_expressions(df, qis)
    base = df.select(*cols, *([w.alias(WSUM)] if w is not None else []))
    aggs = [F.count(F.lit(1)).alias(COUNT)]
    if w is not None:
        aggs.append(F.sum(F.col(WSUM)).alias(WSUM))
    if missing == "never":
        anynull = _never_classes(base, qis)
        single = base.where(anynull).select(*[F.col(f"`{c}`") for c in qis],
                                            F.lit(1).cast("long").alias(COUNT),
                                            *([F.col(WSUM)] if w is not None else []))
        table = base.where(~anynull).groupBy(*qis).agg(*aggs).unionByName(single)
    else:
        table = base.groupBy(*qis).agg(*aggs)
    if not keys:
        table = table.select(COUNT, *([WSUM] if w is not None else []))
    rows = table.collect()
    if not rows:
        raise DataValidationError("the data hold no records (0 rows): there is nothing to assess")
    sizes = np.fromiter((r[COUNT] for r in rows), dtype=np.int64, count=len(rows))
    wsums = None
    if w is not None:
        wsums = np.fromiter((r[WSUM] for r in rows), dtype=np.float64, count=len(rows))
    key_list = [tuple(r[c] for c in qis) for r in rows] if keys else None
    return Reduced(key_list, sizes, wsums)


def null_safe_join(df, table, qis):
    """``df`` left-joined with a per-class ``table`` on the quasi-identifiers (null == null).

    ``df``'s floating-point NaN keys are matched as nulls, as in the reduction.
    """
    F = _functions()
    keyed = df.select("*", *[e.alias(f"__idrisk_key_{i}")
                             for i, e in enumerate(key_expressions(df, qis))])
    right = table.select(*[F.col(f"`{c}`").alias(f"__idrisk_rkey_{i}") for i, c in enumerate(qis)],
                         *[c for c in table.columns if c not in qis])
    cond = [keyed[f"__idrisk_key_{i}"].eqNullSafe(right[f"__idrisk_rkey_{i}"]) for i in range(len(qis))]
    joined = keyed.join(right, on=cond, how="left")  # Spark broadcasts it when it is small
    drop = [f"__idrisk_key_{i}" for i in range(len(qis))] + [f"__idrisk_rkey_{i}" for i in range(len(qis))]
    return joined.drop(*drop)
