"""The anonymiser on a Spark table: the search on its distinct rows, the extract on Spark.

Counts add up under every generalisation, so the search (``docs/methods.md#anonymisation``)
is exact on the table reduced by Spark to its distinct rows over the quasi-identifiers and
the sensitive columns, each with its number of records. The chosen node is applied on
Spark: every distinct row's generalised values (and whether its class is suppressed) form a
small table joined back to the user's rows on the original values, null matching null;
suppressed quasi-identifier cells become null. pyspark is imported only when a Spark table
arrives (:mod:`idrisk.spark`).
"""

from __future__ import annotations

from ..exceptions import DataValidationError
from ..spark import is_spark_frame
from ..spark._reduce import key_expressions, null_safe_join, reduce_classes
from ..spark._suda import key_frame

__all__ = ["DistinctRows", "distinct_rows", "generalised_table", "is_spark_frame"]


class DistinctRows:
    """The distinct rows of a Spark table over ``columns``: as a pandas ``frame`` (for the
    hierarchies), as Spark returned them (``keys``, for the join back) and their ``counts``."""

    def __init__(self, frame, keys, counts, columns):
        self.frame, self.keys, self.counts, self.columns = frame, keys, counts, columns


def distinct_rows(data, columns) -> DistinctRows:
    """Count the records of every distinct row of ``data`` over ``columns`` on Spark."""
    if not hasattr(data, "sparkSession"):
        raise DataValidationError(f"{type(data).__name__} is not a pyspark.sql.DataFrame; pass frame.to_spark()")
    absent = [str(c) for c in columns if c not in data.columns]
    if absent:
        raise DataValidationError(f"column(s) not found in the data: {', '.join(absent)}")
    red = reduce_classes(data, list(columns), keys=True)
    return DistinctRows(key_frame(red, list(columns), dict(data.dtypes)), red.keys, red.sizes, list(columns))


def generalised_table(data, rows: DistinctRows, labels: dict, suppressed):
    """``data`` with each quasi-identifier replaced by its generalised value (text; null when
    the row's class is suppressed), from ``labels`` (one array per quasi-identifier, aligned
    with ``rows``) and ``suppressed`` (one flag per distinct row)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField

    qis = list(labels)
    names = {q: f"__idrisk_g{j}" for j, q in enumerate(qis)}
    schema = data.select(*key_expressions(data, rows.columns)).schema
    for q in qis:
        schema = schema.add(StructField(names[q], StringType(), True))
    table_rows = [(*key, *[None if supp else str(labels[q][i]) for q in qis])
                  for i, (key, supp) in enumerate(zip(rows.keys, suppressed.tolist()))]
    table = data.sparkSession.createDataFrame(table_rows, schema=schema)
    joined = null_safe_join(data, table, rows.columns)
    return joined.select(*[F.col(names[c]).alias(c) if c in names else F.col(f"`{c}`") for c in data.columns])
