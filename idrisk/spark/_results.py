"""Result types of the Spark path whose summaries read per-record outputs in the pandas path.

The pandas path's :meth:`~idrisk._results.Result.to_dict` of l-diversity and SUDA adds
aggregates of the per-record table (records below l = 2; the SUDA score distribution).
On Spark the per-record outputs are Spark DataFrames, so these subclasses compute the same
aggregates from the small driver-side tables they keep: one row per class for
l-diversity, one row per sample unique for SUDA (every other record scores 0 and has no
MSU). ``to_dict()`` then equals the pandas path's.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._results import RECORD_LEVEL
from ..exceptions import InvalidParameterError
from ..metrics import LDiversityResult, SudaResult

__all__ = ["SparkLDiversityResult", "SparkSudaResult"]


@dataclass(frozen=True)
class SparkLDiversityResult(LDiversityResult):
    """:class:`~idrisk.metrics.LDiversityResult` of a Spark table.

    ``per_record`` is a Spark DataFrame (the user's rows with the columns added);
    ``per_class`` (pandas) holds each class's ``size`` and its ``{s}_{measure}`` values.
    """

    per_class: pd.DataFrame = field(default=None, repr=False, compare=False, metadata=RECORD_LEVEL)

    def records_below_l(self, l: float, measure: str = "distinct") -> dict:
        """Number of records whose class has ``measure`` below ``l``, per sensitive column."""
        if measure not in ("distinct", "entropy", "recursive"):
            raise InvalidParameterError(
                f"measure must be 'distinct', 'entropy' or 'recursive', got {measure!r}")
        if isinstance(l, bool) or not isinstance(l, (int, float)) or not math.isfinite(float(l)):
            raise InvalidParameterError(f"l must be a finite number, got {l!r}")
        size = self.per_class["size"].to_numpy()
        return {s: int(size[self.per_class[f"{s}_{measure}"].to_numpy() < l].sum()) for s in self.sensitive}


@dataclass(frozen=True)
class SparkSudaResult(SudaResult):
    """:class:`~idrisk.metrics.SudaResult` of a Spark table.

    ``scores`` is a Spark DataFrame (the user's rows with the score columns added);
    ``unique_scores`` (pandas) holds the scores of the sample uniques, one row each.
    """

    unique_scores: pd.DataFrame = field(default=None, repr=False, compare=False, metadata=RECORD_LEVEL)

    def _extra_dict(self) -> dict:
        """The pandas path's aggregates: the uniques' plus ``n_records - uniques`` zero scores."""
        out = SudaResult._extra_dict(types.SimpleNamespace(scores=self.unique_scores))
        n_zero = self.n_records - len(self.unique_scores)
        if n_zero:
            out["dis_score_bands"]["== 0"] += n_zero
            for key in ("score_max", "dis_score_max"):
                out[key] = 0.0 if np.isnan(out[key]) else max(out[key], 0.0)
        return out
