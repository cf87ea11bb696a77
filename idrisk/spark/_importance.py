"""QI importance (distinction and separation of every subset) on a Spark table, from its distinct keys.

The class sizes of a subset of the quasi-identifiers are sums of the counts of the distinct
full keys that agree on it (counts aggregate under projection), so Spark counts the distinct
keys once and every subset is finished on the driver. Under ``missing="never"`` a record
with a missing value on the subset is a class of its own: the keys holding one contribute
their count as classes of one. The table is :func:`idrisk.metrics.qi_importance`'s
(ARX ``RiskModelAttributes``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics._classes import check_partition_missing
from ..metrics._sample_risks import qi_importance_of_classes
from ._reduce import check_columns, reduce_classes
from ._suda import key_frame

__all__ = ["qi_importance"]


def qi_importance(data, quasi_identifiers, *, missing: str = "category") -> pd.DataFrame:
    """:func:`idrisk.qi_importance` on Spark: the same table, from the distinct keys and their counts."""
    check_partition_missing(missing, "qi_importance")
    qis = check_columns(data, quasi_identifiers)
    pos = {c: i for i, c in enumerate(data.columns)}
    qis = sorted(qis, key=lambda c: pos[c])
    red = reduce_classes(data, qis, keys=True)  # a missing value is one more value here
    keys = key_frame(red, qis, dict(data.dtypes))
    codes = pd.DataFrame({c: pd.factorize(keys[c])[0] for c in qis})  # -1: missing
    counts = red.sizes

    def class_sizes(subset):
        sub = codes[list(subset)]
        keep = np.ones(len(sub), dtype=bool)
        if missing == "never":
            keep = ~(sub.to_numpy() < 0).any(axis=1)
        grouped = pd.Series(counts[keep]).groupby([sub[c].to_numpy()[keep] for c in subset]).sum()
        sizes = grouped.to_numpy(dtype=np.int64)
        alone = int(counts[~keep].sum())
        return np.concatenate([sizes, np.ones(alone, dtype=np.int64)]) if alone else sizes

    return qi_importance_of_classes(qis, red.n_records, class_sizes)
