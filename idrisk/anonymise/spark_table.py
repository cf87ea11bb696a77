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

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, InvalidParameterError
from ..spark import is_spark_frame
from ..spark._reduce import key_expressions, null_safe_join, reduce_classes
from ..spark._suda import key_frame
from .local import local_suppression_of_rows

__all__ = ["DistinctRows", "TableExtract", "distinct_rows", "generalised_table", "is_spark_frame", "row_order",
           "table_extract", "table_validity", "validity_tables"]


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


def generalised_table(data, rows: DistinctRows, labels: dict, missing: dict):
    """``data`` with each quasi-identifier replaced by its generalised value (text; null where
    the cell is suppressed), from ``labels`` and ``missing`` (per quasi-identifier, one value and
    one flag per distinct row of ``rows``)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField

    qis = list(labels)
    names = {q: f"__idrisk_g{j}" for j, q in enumerate(qis)}
    schema = data.select(*key_expressions(data, rows.columns)).schema
    for q in qis:
        schema = schema.add(StructField(names[q], StringType(), True))
    gone = {q: np.asarray(missing[q], dtype=bool).tolist() for q in qis}
    table_rows = [(*key, *[None if gone[q][i] else str(labels[q][i]) for q in qis])
                  for i, key in enumerate(rows.keys)]
    table = data.sparkSession.createDataFrame(table_rows, schema=schema)
    joined = null_safe_join(data, table, rows.columns)
    return joined.select(*[F.col(names[c]).alias(c) if c in names else F.col(f"`{c}`") for c in data.columns])


def row_order(rows: DistinctRows, columns) -> np.ndarray:
    """The distinct rows in the order local suppression takes a Spark table's records (it has
    no row order of its own): sorted by the values of ``columns``, a missing value last."""
    return rows.frame.sort_values(list(columns), kind="stable", na_position="last").index.to_numpy()


class TableExtract:
    """The extract of a Spark table at a node: ``data`` (a Spark DataFrame), the ``records``
    suppressed whole, the ``cells`` made missing per quasi-identifier, and per distinct row its
    generalised values (``labels``) and the flags of its cells made missing (``missing``)."""

    def __init__(self, data, records, cells, labels, missing):
        self.data, self.records, self.cells, self.labels, self.missing = data, records, cells, labels, missing

    def generalised(self) -> pd.DataFrame:
        """The distinct rows' generalised keys, a suppressed cell missing."""
        return pd.DataFrame({q: np.where(self.missing[q], None, v.astype(object)) for q, v in self.labels.items()})


def table_extract(data, rows: DistinctRows, labels: dict, failing, *, local: bool, k: int,
                  importance=None) -> TableExtract:
    """The extract of ``data`` at a node: with record suppression, every quasi-identifier cell
    of a record of a failing class (``failing``, per distinct row) made missing; with ``local``,
    the fewest cells that give every record ``f_k >= k`` under the wildcard rule, the records
    taken in the order :func:`row_order` gives (``docs/methods.md#anonymisation``)."""
    qis, counts = list(labels), np.asarray(rows.counts, dtype=np.int64)
    if local:
        order = row_order(rows, qis)
        made, _, _, _ = local_suppression_of_rows(pd.DataFrame({q: labels[q][order] for q in qis}),
                                                  counts[order], qis, k=k, importance=importance)
        missing = {}
        for q in qis:
            missing[q] = np.zeros(len(order), dtype=bool)
            missing[q][order] = made[q]
        whole = np.logical_and.reduce([missing[q] for q in qis]) & ~rows.frame[qis].isna().all(axis=1).to_numpy()
        cells = {q: int(counts[missing[q]].sum()) for q in qis}
    else:
        whole = np.asarray(failing, dtype=bool)
        missing = {q: whole for q in qis}
        cells = {q: int(counts[whole].sum()) for q in qis}
    out = generalised_table(data, rows, labels, missing)
    return TableExtract(out, int(counts[whole].sum()), cells, labels, missing)



def validity_tables(validity) -> list:
    """The tables of a ``validity`` request on a Spark table (each a list of one or two
    variables), refused when it asks for models: their cross-validation folds are drawn over
    the records' order, which a Spark table does not have."""
    kw = dict(validity)
    unknown = sorted(set(kw) - {"outcomes", "predictors", "tables", "folds", "seed"})
    if unknown:
        raise InvalidParameterError(f"validity takes outcomes, predictors, tables, folds and seed, not {', '.join(unknown)}")
    if list(kw.get("outcomes") or ()):
        raise InvalidParameterError(
            "validity on a Spark table gives the tables only: the models' cross-validation folds are drawn "
            "over the records' order, which a Spark table does not have (leave out outcomes, or run on pandas)")
    wanted = []
    for t in kw.get("tables") or ():
        vs = [t] if isinstance(t, str) else list(t)
        if not 1 <= len(vs) <= 2:
            raise InvalidParameterError("a table names one variable or a pair")
        wanted.append(vs)
    return wanted


def table_validity(data, rows: DistinctRows, extract: TableExtract, wanted: list) -> dict:
    """:func:`idrisk.anonymise.analysis_validity`'s tables (``wanted``, from
    :func:`validity_tables`) of a Spark table's extract, from the distinct rows over the
    quasi-identifiers and the tables' variables, counted on Spark, each with its generalised
    values (exact: a distance sums records)."""
    from .validity import table_distance

    qis = list(extract.labels)
    absent = sorted({str(v) for vs in wanted for v in vs if v not in data.columns})
    if absent:
        raise DataValidationError(f"table column(s) not found in the data: {', '.join(absent)}")
    out = {}
    if wanted:  # one reduction for every table: each is a sum over these rows
        every = distinct_rows(data, list(dict.fromkeys([*qis, *(v for vs in wanted for v in vs)])))
        gen = _generalised_of(every.frame[qis], rows.frame[qis], extract)
        transformed = every.frame.assign(**{q: gen[q] for q in qis})
        for vs in wanted:
            out[" x ".join(map(str, vs))] = table_distance(every.frame, transformed, vs, counts=every.counts)
    return {"models": {}, "tables": out}


def _generalised_of(keys: pd.DataFrame, known: pd.DataFrame, extract: TableExtract) -> pd.DataFrame:
    """The generalised values (a suppressed cell missing) of ``keys``, read from the distinct
    rows ``known`` of the extract on the same quasi-identifiers (missing matching missing)."""
    qis = list(keys.columns)
    gen = extract.generalised()
    table = pd.concat([known.reset_index(drop=True), gen.add_prefix("__g_")], axis=1).drop_duplicates(qis)
    merged = keys.reset_index(drop=True).merge(table, on=qis, how="left", sort=False)
    return pd.DataFrame({q: merged[f"__g_{q}"].to_numpy() for q in qis})
