"""SUDA2 and the combination sweep on a Spark table, from its distinct keys.

Both depend on the records only through the distinct full-key combinations and their
counts: the combination sweep groups every subset of the quasi-identifiers over the
distinct rows weighted by their counts, and SUDA2's minimal sample uniques depend on the
distinct rows with their multiplicity capped at 2 (a row seen twice or more is never
unique, on any subset). Spark counts the distinct keys; the driver runs idrisk's kernels
on them (``docs/methods.md#suda``, ``docs/methods.md#combination-sweep``). A null is one
more value of its column, as in the pandas path.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from ..exceptions import IdentifierWarning
from ..metrics import dis_suda_scores, suda as local_suda
from ..metrics._combinations import combination_sweep_of_counts
from ..metrics._population import skinner_elliot
from ._reduce import check_columns, null_safe_join, reduce_classes
from ._results import SparkSudaResult

__all__ = ["suda", "combination_sweep", "key_frame"]


#: pandas dtypes that keep Spark's values as they are when a column holds nulls
_DTYPES = {"bigint": "Int64", "int": "Int64", "smallint": "Int64", "tinyint": "Int64",
           "boolean": "boolean"}


def key_frame(red, qis, spark_types) -> pd.DataFrame:
    """The distinct keys as a small pandas frame (None read as missing, integers kept whole)."""
    cols = list(zip(*red.keys)) if red.keys else [()] * len(qis)
    return pd.DataFrame({c: pd.Series(list(v), dtype=_DTYPES.get(spark_types[c], "object"))
                         if spark_types[c] not in ("double", "float") else
                         pd.Series(list(v), dtype="float64")
                         for c, v in zip(qis, cols)}, columns=qis)


def combination_sweep(data, quasi_identifiers, *, max_size: int | None = None, k=(2, 3, 5, 10),
                      max_seconds: float | None = None):
    """:func:`idrisk.combination_sweep` on Spark: the same table, from the distinct keys."""
    qis = check_columns(data, quasi_identifiers)
    red = reduce_classes(data, qis, keys=True)
    keys = key_frame(red, qis, dict(data.dtypes))
    D = np.empty((len(qis), len(keys)), dtype=np.int32)
    cards = np.empty(len(qis), dtype=np.int64)
    for j, c in enumerate(qis):
        codes, uniques = pd.factorize(keys[c])
        has_na = bool((codes < 0).any())
        D[j] = codes + 1 if has_na else codes  # a missing value is code 0 of its own
        cards[j] = len(uniques) + has_na
    return combination_sweep_of_counts(D, cards, red.sizes, qis, max_size=max_size, k=k, max_seconds=max_seconds)


def _scores_on_spark(data, qis, keys, scores):
    """``data`` with the SUDA score columns, joined from the unique keys' scores.

    ``keys`` are the unique keys as Spark returned them (tuples), in the order of ``scores``.
    """
    from pyspark.sql.types import DoubleType, LongType

    cols = list(scores.columns)
    schema = data.select(*qis).schema
    values = []
    for c in cols:
        floating = scores[c].dtype.kind == "f"
        schema = schema.add(c, DoubleType() if floating else LongType())
        conv = float if floating else int
        values.append([None if pd.isna(v) else conv(v) for v in scores[c].tolist()])
    rows = [(*key, *vals) for key, vals in zip(keys, zip(*values))]
    table = data.sparkSession.createDataFrame(rows, schema=schema)
    out = null_safe_join(data, table, qis)
    # records that are not unique on the full key have no MSU: zero scores, no size
    return out.fillna(0, subset=[c for c in cols if c != "min_msu_size"])


def suda(data, quasi_identifiers, *, max_size: int | None = None, sampling_fraction: float = 0.01,
         score: str = "sdcmicro", max_seconds: float | None = None) -> SparkSudaResult:
    """:func:`idrisk.suda` on Spark (SUDA2 over the distinct keys, multiplicity capped at 2).

    The aggregate fields equal the pandas path's; ``scores`` holds the user's rows with
    the score columns added (a Spark DataFrame). ``max_seconds`` bounds the search on the
    driver, as on pandas (the reduction on Spark comes before it and is not bounded).
    """
    qis = check_columns(data, quasi_identifiers,
                        reserved=("score", "dis_score", "min_msu_size",
                                  *[f"{c}_contribution" for c in quasi_identifiers]))
    red = reduce_classes(data, qis, keys=True)
    keys = key_frame(red, qis, dict(data.dtypes))
    capped = keys.loc[np.repeat(np.arange(len(keys)), np.minimum(red.sizes, 2))].reset_index(drop=True)
    with warnings.catch_warnings():
        # the distinct keys are nearly all different by construction: no identifier warning
        warnings.simplefilter("ignore", IdentifierWarning)
        local = local_suda(capped, qis, max_size=max_size, sampling_fraction=sampling_fraction,
                           score=score, max_seconds=max_seconds)
    uniq = np.flatnonzero(red.sizes == 1)
    n_pairs = int(2 * np.count_nonzero(red.sizes == 2))
    first_row = np.concatenate([[0], np.cumsum(np.minimum(red.sizes, 2))[:-1]])
    scores = local.scores.iloc[first_row[uniq]].reset_index(drop=True)
    scores["dis_score"] = dis_suda_scores(scores["score"].to_numpy(), n_pairs,
                                          local.sampling_fraction, len(qis))
    per_record = _scores_on_spark(data, qis, [red.keys[i] for i in uniq], scores)
    fields = {f.name: getattr(local, f.name) for f in dataclasses.fields(local)}
    fields.update(scores=per_record, n_records=red.n_records, n_in_pairs=n_pairs,
                  dis=skinner_elliot(len(uniq), n_pairs // 2, local.sampling_fraction))
    return SparkSudaResult(**fields, unique_scores=scores)
