"""``idrisk.assess`` on a Spark table: the equivalence-class work on Spark, the rest on the driver.

:func:`idrisk.assess` hands a ``pyspark.sql.DataFrame`` here. The steps are the pandas
path's (docs/methods.md#assessment), with the data read through Spark:

* the content checks and the column list read, per column, its non-missing count, its
  number of distinct values and at most 2,000 of its distinct values (the smallest in
  Spark's order; the pandas path looks at the first 2,000 to appear, the same set when a
  column has at most 2,000 values), all computed by Spark (:class:`SparkColumns`);
* every measure of a scenario goes through the metrics' Spark engine (:mod:`idrisk.spark`:
  classes counted on Spark, finished by idrisk's kernels on the driver), and its summary is
  made from the reduced tables (one row per class, or per sample unique for SUDA);
* the what-if coarsenings run on the distinct key combinations with their counts (counts
  add up under a coarsening, so the figures are exact);
* the simulated intruder needs records: it runs on the intruder's columns collected to the
  driver, all records up to :data:`INTRUDER_COLLECT_LIMIT`, else a seeded random sample of
  that many; the result says so under ``meta.engine.collected_to_driver``, never silently.
  Spark has no row order: the intruder's targets are drawn from the records in the order
  Spark returns them, so its figures can differ from the pandas path's on the same data.

The fingerprint is of the table's content without its order (a sum of row hashes).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from .._kernels.risk import bf_risk
from ..exceptions import DataValidationError, InvalidParameterError, InvalidWeightsError
from ..metrics import (individual_risk, k_anonymity, l_diversity, population_uniqueness, sample_risks, suda,
                       t_closeness)
from ..spark import is_spark_frame
from ..spark._reduce import key_expressions, weight_column
from .columns import SAMPLE_VALUES, ColumnFacts
from .intruder_bridge import intruder_columns
from .measures import DIVERSITY_SENSITIVE_NA, Runner, diversity_missing, suda_summary
from .mitigation import what_if_of_table
from .summaries import (DiversitySummary, IndividualRiskSummary, KAnonymitySummary, PopulationUniquenessSummary,
                        SampleRisksSummary, TClosenessSummary)

__all__ = ["SparkColumns", "SparkRunner", "spark_fingerprint", "census_alternative_risk", "spark_what_if",
           "is_spark_frame", "INTRUDER_COLLECT_LIMIT"]

#: the simulated intruder runs on at most this many records collected to the driver
INTRUDER_COLLECT_LIMIT = 1_000_000
#: name of the constant weight column of a sample declared by its population size
_WEIGHT = "__idrisk_weight"
_TEXT = ("string", "varchar", "char")
_INTEGER = ("tinyint", "smallint", "int", "bigint")


def _F():
    from pyspark.sql import functions

    return functions


class SparkColumns:
    """The columns of a Spark table as the content checks read them (:class:`ColumnFacts`).

    ``view[c]`` gives column ``c``'s facts, computed by Spark on first use and shared by
    every view of the same table; ``drop(columns=...)`` is a view without those columns
    (``data`` is then the Spark table without them).
    """

    def __init__(self, data, columns=None, cache=None, root=None):
        self.data = data
        self.columns = list(data.columns if columns is None else columns)
        self._cache = {} if cache is None else cache
        self._root = data if root is None else root  # the whole table: its columns are counted at once
        self._types = dict(data.dtypes)

    def drop(self, columns):
        gone = set(columns)
        return SparkColumns(self.data.drop(*gone), [c for c in self.columns if c not in gone], self._cache,
                            self._root)

    def _counts(self):
        if "__counts" not in self._cache:
            F = _F()
            names = list(self._root.columns)
            exprs = key_expressions(self._root, names)
            aggs = []
            for i, e in enumerate(exprs):
                aggs += [F.count(e).alias(f"n{i}"), F.countDistinct(e).alias(f"d{i}")]
            row = self._root.select(*exprs).agg(*aggs).first() if aggs else None
            self._cache["__counts"] = {c: (int(row[f"n{i}"]), int(row[f"d{i}"])) for i, c in enumerate(names)}
        return self._cache["__counts"]

    def __getitem__(self, c) -> ColumnFacts:
        if c not in self._cache:
            col = self.data.select(*key_expressions(self.data, [c])).where(_F().col(f"`{c}`").isNotNull())
            head = [r[0] for r in col.distinct().orderBy(f"`{c}`").limit(SAMPLE_VALUES).collect()]
            text = pd.Series(pd.unique(np.array([v if isinstance(v, str) else str(v) for v in head],
                                                dtype=object)), dtype=object).iloc[:SAMPLE_VALUES]
            n, distinct = self._counts().get(c) or (0, 0)
            t = self._types[c]
            self._cache[c] = ColumnFacts(values=text, n=n, distinct=distinct, is_text=t in _TEXT,
                                         integer=t in _INTEGER)
        return self._cache[c]

    def determines(self, fine: str, coarse: str, tolerance: float) -> bool:
        """Whether ``fine`` has more values than ``coarse`` and determines it (as the pandas check)."""
        F = _F()
        sub = self.data.select(*key_expressions(self.data, [fine, coarse])).dropna()
        counts = sub.agg(F.count(F.lit(1)), F.countDistinct(f"`{fine}`"), F.countDistinct(f"`{coarse}`")).first()
        if not counts[0] or counts[1] <= counts[2]:
            return False
        per = sub.groupBy(f"`{fine}`").agg(F.countDistinct(f"`{coarse}`").alias("c"), F.count(F.lit(1)).alias("n"))
        mixed = per.where(F.col("c") > 1).agg(F.sum("n")).first()[0] or 0
        return float(mixed) / float(counts[0]) <= tolerance


def spark_fingerprint(data) -> str:
    """SHA-256 of the table's column names and types and its rows, without their order.

    Spark sums a 64-bit hash of every row (as a decimal, so the sum cannot overflow) and
    counts the rows; the same rows in any order give the same fingerprint.
    """
    F = _F()
    cols = [F.col(f"`{c}`") for c in data.columns]
    row = data.agg(F.count(F.lit(1)), F.sum(F.xxhash64(*cols).cast("decimal(38,0)"))).first()
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in data.dtypes]).encode())
    h.update(f"{row[0]}:{row[1]}".encode())
    return h.hexdigest()


class SparkRunner(Runner):
    """:class:`~idrisk.assessment.measures.Runner` over a Spark table (see the module notes)."""

    def __init__(self, cfg, frame, profile, refined=None):
        self.cfg, self.refined, self.frame, self.enc, self.profile = cfg, dict(refined or {}), frame, None, profile
        self.n = int(frame.count())
        self.timings, self.warnings, self.collected = {}, [], {}
        self.weight_column, self.weights, self.population_size = None, None, None
        if cfg.weights is not None:
            if not isinstance(cfg.weights, str):
                raise InvalidParameterError("weights of a Spark table must be the name of a column")
            total = float(frame.agg(_F().sum(weight_column(frame, cfg.weights))).first()[0] or 0.0)
            if total < self.n:
                raise InvalidWeightsError(
                    f"weight column {cfg.weights!r}: the weights add up to {total:.6g}, fewer than the {self.n} "
                    "records, so the sampling fraction n / sum(weights) would exceed 1")
            self.weight_column, self.weights = cfg.weights, True
            self.population_size = cfg.population_size if cfg.population_size is not None else total
        elif cfg.population_size is not None:
            if cfg.population_size < self.n:
                raise DataValidationError(
                    f"population_size {cfg.population_size} is smaller than the extract ({self.n} records)")
            self.weights, self.population_size = True, cfg.population_size

    def _weighted(self):
        """(frame, weight column) for the individual risk of a sample."""
        if self.weight_column is not None:
            return self.frame, self.weight_column
        return self.frame.withColumn(_WEIGHT, _F().lit(self.population_size / self.n)), _WEIGHT

    def _frequencies(self, sc):
        cfg = self.cfg
        ks = tuple(sorted(set(cfg.k_values) | {cfg.thresholds.min_k}))
        res = self._call("k_anonymity", sc, k_anonymity, self.frame, sc.qis, k=ks, missing=cfg.missing)
        if res is None:
            return
        # size -> classes (-> records under the wildcard rule, whose matching sets overlap)
        sc.fk = ({int(s): int(c) for s, c in dict(res.class_size_histogram).items()}, res.histogram_counts)
        sc.measures["k_anonymity"] = KAnonymitySummary(
            min_class_size=int(res.min_class_size), n_classes=int(res.n_classes),
            records_below_k={int(k): int(v) for k, v in dict(res.records_below_k).items()},
            n1=int(res.n1), n2=int(res.n2),
            class_size_histogram=dict(sc.fk[0]), computed_by="idrisk.k_anonymity", sample_unique_share=int(res.n1) / self.n)

    def _risk(self, sc):
        cfg = self.cfg
        if self.weights is None:
            if sc.fk is not None:
                hist, unit = sc.fk
                sizes = np.array(sorted(hist), dtype=np.float64)
                counted = np.array([hist[int(s)] for s in sizes], dtype=np.float64)
                records = counted if unit == "records" else sizes * counted
                g = float((records / sizes).sum())  # the sum of 1/fk over the records
                sc.measures["individual_risk"] = IndividualRiskSummary(
                    model="census: prosecutor risk 1/fk (pi = 1)", max_risk=float(1.0 / sizes[0]),
                    mean_risk=g / self.n,
                    records_above_threshold=int(records[1.0 / sizes > cfg.thresholds.max_individual_risk].sum()),
                    expected_reidentifications=g, global_risk=g / self.n, computed_by="idrisk.frequencies")
        else:
            data, w = self._weighted()
            res = self._call("individual_risk", sc, individual_risk, data, sc.qis, weights=w, missing=cfg.missing)
            if res is not None:
                F = _F()
                r = F.col("risk")
                row = res.agg(F.max(r), F.avg(r), F.sum(F.when(r > cfg.thresholds.max_individual_risk, 1)
                                                        .otherwise(0)), F.sum(r)).first()
                sc.measures["individual_risk"] = IndividualRiskSummary(
                    model="sample: Benedetti-Franconi individual risk (sdcMicro measure_risk)",
                    max_risk=float(row[0]), mean_risk=float(row[1]), records_above_threshold=int(row[2]),
                    expected_reidentifications=float(row[3]), global_risk=float(row[1]),
                    computed_by="idrisk.individual_risk")
            res = self._call("population_uniqueness", sc, population_uniqueness, self.frame, sc.qis,
                             population_size=int(round(self.population_size)))
            if res is not None:
                sc.measures["population_uniqueness"] = PopulationUniquenessSummary(
                    zayatz=res.zayatz, pitman=res.pitman, snb=res.snb, dankar=res.dankar,
                    dankar_model=res.dankar_model, sampling_fraction=res.sampling_fraction, reasons=dict(res.reasons))
        self._sample_risks(sc)

    def _sample_risks(self, sc):
        res = self._call("sample_risks", sc, sample_risks, self.frame, sc.qis)
        if res is not None:
            sc.measures["sample_risks"] = SampleRisksSummary(
                average_risk=res.average_risk, highest_risk=res.highest_risk, lowest_risk=res.lowest_risk,
                records_at_risk={float(k): float(v) for k, v in dict(res.records_at_risk).items()})

    def _n_values(self, s: str) -> int:
        F = _F()
        e = key_expressions(self.frame, [s])[0]
        row = self.frame.agg(F.countDistinct(e), F.sum(F.when(e.isNull(), 1).otherwise(0))).first()
        return int(row[0]) + (1 if row[1] else 0)  # a missing value is one value (nunique(dropna=False))

    def _diversity(self, sc):
        cfg = self.cfg
        sens = [s.name for s in cfg.sensitive if s.name not in sc.qis]
        if not sens:
            return
        missing = diversity_missing(cfg.missing)  # the pandas path's conventions
        res = self._call("l_diversity", sc, l_diversity, self.frame, sc.qis, sens, missing=missing,
                         sensitive_na=DIVERSITY_SENSITIVE_NA)
        if res is not None:
            out, pc = {}, res.per_class
            size = pc["size"].to_numpy(dtype=np.int64)
            for s in sens:
                d = pc[f"{s}_distinct"].to_numpy(dtype=np.float64)
                n_values = max(1, self._n_values(s))
                low = int(np.nanmin(d))
                if not 1 <= low <= n_values:
                    sc.not_computed[f"l_diversity of {s}"] = (
                        f"distinct l {low} outside [1, {n_values}] (the column's number of values)")
                    continue
                homog = int(size[d == 1].sum())
                out[s] = DiversitySummary(min_distinct_l=low, min_entropy_l=float(np.nanmin(pc[f"{s}_entropy"])),
                                          records_in_homogeneous_classes=homog, homogeneous_share=homog / self.n,
                                          n_values=n_values)
            sc.measures["l_diversity"] = out
        out = {}
        for s in sens:
            res = self._call("t_closeness", sc, t_closeness, self.frame, sc.qis, s, missing=missing)
            if res is not None:
                out[s] = TClosenessSummary(max_t=float(res.t))
        if out:
            sc.measures["t_closeness"] = out

    def _suda(self, sc):
        cfg = self.cfg
        res = self._call("suda", sc, suda, self.frame, sc.qis, max_size=cfg.max_msu_size)
        if res is None:
            return
        u = res.unique_scores
        n_zero = self.n - len(u)  # every record that is not a sample unique scores 0, with no MSU
        sc.measures["suda"] = suda_summary(
            cfg, u["min_msu_size"].to_numpy(dtype=np.float64), u["score"].to_numpy(dtype=np.float64),
            u["dis_score"].to_numpy(dtype=np.float64), res.attribute_contributions, n_zero)

    def _intruder(self, sc):
        cols = intruder_columns(sc.spec.intruder, sc.qis, list(self.frame.columns), self.profile)
        local, note = self._collect(cols, self.cfg.seed)
        self.collected[f"[{sc.name}] intruder"] = note
        original, self.frame = self.frame, local
        try:
            super()._intruder(sc)
        finally:
            self.frame = original

    def _collect(self, cols, seed):
        """The columns ``cols`` on the driver: every record up to the limit, else a seeded sample."""
        data = self.frame.select(*[f"`{c}`" for c in cols])
        dates = [c for c, t in data.dtypes if t == "date"]  # as pandas holds dates: datetimes
        if self.n <= INTRUDER_COLLECT_LIMIT:
            local = data.toPandas()
            local[dates] = local[dates].apply(pd.to_datetime)
            return local, f"all {self.n} records, columns {', '.join(cols)}, in the order Spark returned them"
        frac = min(1.0, 1.05 * INTRUDER_COLLECT_LIMIT / self.n)
        local = data.sample(fraction=frac, seed=int(seed)).limit(INTRUDER_COLLECT_LIMIT).toPandas()
        local[dates] = local[dates].apply(pd.to_datetime)
        return local, (f"a random sample of {len(local)} of the {self.n} records (seed {seed}), columns "
                       f"{', '.join(cols)}: a record is unique more often in a sample, so the claims are "
                       "cautious (higher) estimates")


def census_alternative_risk(work, qis, missing, weight: float) -> float:
    """The highest individual risk were every record of ``work`` to stand for ``weight`` people.

    Under ``missing="never"`` a record with a missing key value is a class of its own
    (``fk = 1``, ``Fk = weight``): the same risk for every such record, computed once.
    """
    F = _F()
    out = []
    if missing == "never":
        anynull = F.lit(False)
        for e in key_expressions(work, qis):
            anynull = anynull | e.isNull()
        if work.where(anynull).limit(1).count():
            out.append(float(bf_risk(np.ones(1), np.full(1, float(weight)), False, 1.0)[0]))
        work, missing = work.where(~anynull), "category"
    if not work.limit(1).count():
        return max(out)
    data = work.withColumn(_WEIGHT, F.lit(float(weight)))
    out.append(float(individual_risk(data, qis, weights=_WEIGHT, missing=missing).agg(F.max("risk")).first()[0]))
    return max(out)


def spark_what_if(work, qis, *, geography=None, groupings=None, profile=None, **kw):
    """:func:`idrisk.what_if` of ``work`` (Spark) from its distinct rows and their counts
    (:func:`idrisk.assessment.mitigation.what_if_of_table`)."""
    return what_if_of_table(work, qis, geography=geography, groupings=groupings, profile=profile, **kw)
