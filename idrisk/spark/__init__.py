"""idrisk on Spark: the metrics over a ``pyspark.sql.DataFrame``, reduced on Spark, finished in numba.

``idrisk.k_anonymity(spark_df, ...)`` and the other metrics listed in ``__all__`` accept
the user's Spark DataFrame: the equivalence classes are counted by Spark aggregations
(class sizes and weight sums per key; the distinct keys with their counts for SUDA2 and
the combination sweep), the reduced table (one row per class, so its size grows with the
number of distinct keys, not with the rows) comes to the driver and idrisk's kernels
finish the job. Per-record outputs are Spark DataFrames, the user's rows with the new
columns, never collected. idrisk never starts a Spark session of its own: it uses the
DataFrame's.

pyspark is optional (``pip install idrisk[spark]``); this package imports it only when a
Spark DataFrame is passed. Functions of idrisk that are not listed here refuse a Spark
DataFrame with an error. Missing values: ``missing="category"`` and ``"never"``, and
sdcMicro's ``"wildcard"`` matching for frequencies, k-anonymity and the individual and global
risks (from the distinct keys with their counts).
"""

from __future__ import annotations

import sys

from ..metrics._classes import register_engine
from ._diversity import l_diversity, t_closeness
from ._metrics import (frequencies, global_risk, individual_risk, k_anonymity, population_uniqueness,
                       sample_risks, unique_match_counts)
from ._importance import qi_importance
from ._intruder import run_scenarios, simulate_intruder
from ._suda import combination_sweep, suda

__all__ = ["frequencies", "k_anonymity", "l_diversity", "t_closeness", "sample_risks", "qi_importance",
           "individual_risk", "global_risk", "population_uniqueness", "suda", "combination_sweep", "simulate_intruder", "run_scenarios", "is_spark_frame",
           "unique_match_counts"]


def is_spark_frame(data) -> bool:
    """True iff ``data`` is a Spark DataFrame (classic or Spark Connect), without importing pyspark."""
    return type(data).__module__.startswith("pyspark") and hasattr(data, "sparkSession")


register_engine("pyspark", sys.modules[__name__])
