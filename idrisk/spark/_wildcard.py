"""sdcMicro's wildcard rule (``missing="wildcard"``) on a Spark table, from its distinct keys.

Under the wildcard rule a record's ``fk`` and ``Fk`` are sums, over the records, of a
contribution that depends only on the two records' keys (the table of
``docs/methods.md#missing-values``; sdcMicro's ``freqCalc``), or ``n`` and the sum of all
weights for a record missing every value. They therefore follow from the distinct keys
with their record counts and weight sums: Spark counts the distinct keys, and idrisk's
wildcard kernel runs on that small table with the counts (then the weight sums) as the
weights, whose sums are the records' ``fk`` (and ``Fk``).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..exceptions import IdentifierWarning
from ..metrics import KAnonymityResult, frequencies as local_frequencies
from ._reduce import key_expressions, null_safe_join, reduce_classes
from ._suda import key_frame

__all__ = ["wildcard_classes", "key_table", "wildcard_frequencies", "wildcard_k_anonymity"]


def wildcard_classes(data, qis, weights=None, alpha: float = 1.0):
    """(distinct keys, fk, Fk): the wildcard frequencies of each distinct key's records."""
    red = reduce_classes(data, qis, weights=weights, keys=True)
    keys = key_frame(red, qis, dict(data.dtypes))
    with warnings.catch_warnings():
        # the distinct keys are nearly all different by construction: no identifier warning
        warnings.simplefilter("ignore", IdentifierWarning)
        fk = local_frequencies(keys, qis, weights=red.sizes.astype(np.float64), missing="wildcard",
                               alpha=alpha)["Fk"].to_numpy(dtype=np.float64)
        Fk = fk if red.wsums is None else local_frequencies(
            keys, qis, weights=red.wsums, missing="wildcard", alpha=alpha)["Fk"].to_numpy(dtype=np.float64)
    if alpha == 1.0:  # whole records: fk is a count
        fk = np.rint(fk).astype(np.int64)
    return red, fk, Fk


def key_table(data, qis, keys, columns: dict):
    """A Spark table of the distinct ``keys`` and per-key ``columns`` (numpy arrays)."""
    from pyspark.sql.types import DoubleType, LongType

    schema = data.select(*key_expressions(data, qis)).schema
    for name, arr in columns.items():
        schema = schema.add(name, DoubleType() if arr.dtype.kind == "f" else LongType())
    lists = [arr.tolist() for arr in columns.values()]
    return data.sparkSession.createDataFrame([(*k, *v) for k, v in zip(keys, zip(*lists))], schema=schema)


def wildcard_frequencies(data, qis, weights=None, alpha: float = 1.0):
    """``data`` with the wildcard ``fk`` and ``Fk_pop`` joined on the keys (null matching null)."""
    red, fk, Fk = wildcard_classes(data, qis, weights, alpha)
    return null_safe_join(data, key_table(data, qis, red.keys, {"fk": fk, "Fk_pop": np.asarray(Fk, np.float64)
                                                                 if weights is not None else fk}), qis)


def wildcard_k_anonymity(data, qis, ks, weights=None) -> KAnonymityResult:
    """:func:`idrisk.k_anonymity` under the wildcard rule: figures over records, as the pandas path."""
    red, fk, Fk = wildcard_classes(data, qis, weights)
    counts = red.sizes
    hist = np.bincount(fk, weights=counts).astype(np.int64)
    per_record = wildcard_frequencies(data, qis, weights)
    weighted = weights is not None
    return KAnonymityResult(
        quasi_identifiers=tuple(qis), missing="wildcard", n_records=red.n_records, n_classes=len(counts),
        min_class_size=int(fk.min()), class_size_histogram={int(v): int(hist[v]) for v in np.flatnonzero(hist)},
        histogram_counts="records", records_below_k={kk: int(counts[fk < kk].sum()) for kk in ks},
        n1=int(counts[fk == 1].sum()), n2=int(counts[fk == 2].sum()), fk=per_record.drop("Fk_pop"),
        min_Fk=float(np.min(Fk)) if weighted else None,
        records_below_k_Fk={kk: int(counts[Fk < kk].sum()) for kk in ks} if weighted else None,
        Fk=per_record.drop("fk") if weighted else None)
