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
from .._validation import check_fraction
from ..metrics import LDiversityResult, SudaResult, TClosenessResult

__all__ = ["SparkLDiversityResult", "SparkSudaResult", "SparkTClosenessResult"]


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


@dataclass(frozen=True)
class SparkTClosenessResult(TClosenessResult):
    """:class:`~idrisk.metrics.TClosenessResult` of a Spark table.

    Under ``missing="never"`` a row of ``per_class`` may stand for several classes of one
    record with the same sensitive value (column ``classes``; 1 when absent), so the class
    counts of ``to_dict()`` equal the pandas path's.
    """

    def _classes(self) -> np.ndarray:
        pc = self.per_class
        return pc["classes"].to_numpy() if "classes" in pc.columns else np.ones(len(pc), dtype=np.int64)

    def classes_above(self, t: float) -> int:
        """Number of classes whose distance exceeds ``t``."""
        t = check_fraction(t, name="t")
        return int(self._classes()[self.per_class["distance"].to_numpy() > t].sum())

    def _extra_dict(self) -> dict:
        d = self.per_class["distance"].to_numpy()
        sz = self.per_class["size"].to_numpy()
        n = self._classes()
        return {
            "records_weighted_mean_distance": float((d * sz).sum() / sz.sum()),
            "classes_above": {str(x): int(n[d > x].sum()) for x in (0.1, 0.2, 0.3, 0.5)},
        }
