"""Splink's Spark backend for the Splink engine (``splink_backend="spark"``): one linkage on the user's session.

By default (``probability="normalised"``) Splink only makes the candidate pairs and their
comparison vectors here, on Spark, and idrisk's estimators score them on the driver
(docs/methods.md#splink-engine): what follows about u and EM concerns Splink's own model
(``probability="match_probability"``). The checkpoints, the partition count and the Arrow
input serve both.

Splink's Spark backend, used as it comes, is slow for an intruder simulation (about 520 s
on the 100k x 20k case of ``benchmarks/ratios_spark.py --intruder`` where DuckDB takes 26 s
on the same machine): nearly all of the time goes to many small Spark jobs, not to the
candidate pairs. :class:`SparkLinkage` runs the same model with these changes:

* **u on the driver, as on DuckDB.** Splink estimates u from a random sample of records
  (``max_pairs`` pairs of them) chosen by a hash of each record's id, and the hash is each
  backend's own (DuckDB's ``hash``, Spark's Murmur3), so the two backends drew different
  samples and trained different models: on the 100k x 20k case Spark made 0.93 of
  DuckDB's claims. The u step is small by design, and Splink on Spark ran it as many small
  Spark jobs (one per comparison and chunk). The records are on the driver already
  (idrisk builds Splink's input columns there), so the u step runs there with Splink's
  DuckDB backend, the same call with the same seed as the DuckDB backend's, and the
  u it finds (equal to the DuckDB backend's) are fixed in the Spark model. Blocking,
  EM, prediction and the per-target step run on Spark.
* **EM on the agreement-pattern counts.** Without term-frequency adjustments, Splink's
  EM depends only on how many pairs show each agreement pattern; Splink then counts
  them once on Spark and iterates on the counts (``estimate_without_term_frequencies``,
  the same EM up to the order of floating-point sums). The counts (at most the product
  of the comparisons' level counts) come to the driver and the iterations run there in
  DuckDB (each was about ten small Spark jobs). With term-frequency adjustments each
  iteration reads the pairs: Spark computes the pairs' comparison vectors and term
  frequencies once (the EM session's blocking pass), they come to the driver once as an
  Arrow table, and the iterations run over them in DuckDB, the same SQL as the DuckDB
  backend's (each iteration on Spark was a job over every pair).
* **Intermediate tables as local checkpoints.** Splink persists its intermediate tables or
  writes them as Parquet; its drops of earlier views uncached the persisted ones, so every
  EM iteration recomputed blocking and the term-frequency joins once per comparison. The
  checkpoints are released at the end. Splink's repartitions and this run's shuffles use a
  number of partitions set from the pair bound (at least the session's default
  parallelism), since Splink's default (half of ``spark.sql.shuffle.partitions``, usually
  100) makes hundreds of tiny tasks per step. The session's ``spark.sql.shuffle.partitions``
  is set for the run and restored after it.
* The input columns go to Spark as Arrow tables, not as Python objects.

Measured on the 100k x 20k case without term frequencies (``benchmarks/ratios_spark.py
--intruder 100000 20000 --no-term-frequency``, 2 shared cores): Spark 55 s against DuckDB's
14 s in the same run at a load of 3-4 (171 s against 44 s at a load of 12), identical pairs,
unique matches, claims and correct claims (before: 521 s against 26 s, 0.93 of DuckDB's
claims). With term frequencies: identical results, 325 s against 24 s while EM iterated over
the pairs on Spark; with the pairs on the driver, 226 s against 311 s (one after the other in
one process, load 6-9). What is left is Spark's cost per job in local mode: blocking and
comparing the 1.7 million pairs twice (EM and prediction) and the per-target queries.

This relies on Splink 5's ``SparkAPI`` internals (``_break_lineage_and_repartition``).
docs/methods.md#splink-on-spark records the measured times and the remaining differences.
"""

from __future__ import annotations

import contextlib
import logging
import math

import pandas as pd

__all__ = ["SparkLinkage", "PAIRS_PER_PARTITION"]

#: candidate pairs per shuffle partition (Spark's advisory partition size is 64 MB; a pair row is ~100 bytes)
PAIRS_PER_PARTITION = 500_000
_PATTERN_COUNTS = "__splink__agreement_pattern_counts"
_COMPARISON_VECTORS = "__splink__df_comparison_vectors"
_M_U_COUNTS = "__splink__m_u_counts"


def _driver_duckdb():
    """The driver's DuckDB connection for EM's iterations: one thread, so that its sums run in
    the order of their input."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 1")
    return con


def _spark_api():
    from splink.backends.spark import SparkAPI

    class _IdRiskSparkAPI(SparkAPI):
        """Splink's SparkAPI that remembers what it persisted and keeps EM's pattern counts local."""

        def __init__(self, **kw):
            self.idrisk_persisted, self.idrisk_duck, self.idrisk_pairs = [], None, None
            super().__init__(**kw)

        def _break_lineage_and_repartition(self, spark_df, templated_name, physical_name):
            if templated_name == _PATTERN_COUNTS:  # one row per agreement pattern: to the driver
                from splink.backends.duckdb import DuckDBAPI

                counts = spark_df.toArrow()
                self.idrisk_duck = self.idrisk_duck or DuckDBAPI(connection=_driver_duckdb())
                self.idrisk_duck.duckdb_con.register(physical_name, counts)
                return self.spark.createDataFrame(counts)
            out = super()._break_lineage_and_repartition(spark_df, templated_name, physical_name)
            if out.is_cached:
                # a table Splink breaks the lineage of: local checkpoint (in the executors, cut from
                # its lineage; Splink's drops of earlier views uncache what was persisted from them)
                out.unpersist()
                out = out.localCheckpoint(eager=True)
                self.idrisk_persisted.append(out)
            return out

        def _idrisk_pairs_to_driver(self, pairs) -> None:
            """EM's pairs (comparison vectors and term frequencies) into DuckDB on the driver,
            once per table (the previous pass's released)."""
            from splink.backends.duckdb import DuckDBAPI

            if self.idrisk_pairs == pairs.physical_name:
                return
            self.idrisk_duck = self.idrisk_duck or DuckDBAPI(connection=_driver_duckdb())
            con = self.idrisk_duck.duckdb_con
            if self.idrisk_pairs is not None:
                con.execute(f'DROP TABLE IF EXISTS "{self.idrisk_pairs}"')
            # in one order whatever order Spark returned them in, read by one thread: the sums of
            # every iteration run in the same order, so equal inputs give equal models
            con.register("__idrisk_pairs_arrow", self.spark.table(pairs.physical_name).toArrow())
            try:
                con.execute(f'CREATE TABLE "{pairs.physical_name}" AS SELECT * FROM __idrisk_pairs_arrow ORDER BY ALL')
            finally:
                con.unregister("__idrisk_pairs_arrow")
            self.idrisk_pairs = pairs.physical_name

        def sql_pipeline_to_splink_dataframe(self, pipeline):
            """EM's iterations run on the driver (DuckDB): over the pattern counts, or with
            term-frequency adjustments over the pairs, brought there once per EM session."""
            names = {getattr(df, "templated_name", None): df for df in pipeline.input_dataframes}
            if _COMPARISON_VECTORS in names and pipeline.output_table_name == _M_U_COUNTS:
                self._idrisk_pairs_to_driver(names[_COMPARISON_VECTORS])
            elif self.idrisk_duck is None or _PATTERN_COUNTS not in names:
                return super().sql_pipeline_to_splink_dataframe(pipeline)
            import sqlglot
            from splink.internals.pipeline import CTEPipeline

            name = pipeline.output_table_name
            local = CTEPipeline()
            local.enqueue_sql(sqlglot.transpile(pipeline.generate_cte_pipeline_sql(), read="spark",
                                                write="duckdb")[0], name)
            return self.idrisk_duck.sql_pipeline_to_splink_dataframe(local)

    return _IdRiskSparkAPI


def _to_arrow(frame: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


class SparkLinkage:
    """One linkage on the user's Spark session: the Splink database API, the input tables and
    the session settings of the run (restored by :meth:`close`)."""

    def __init__(self, spark_session, e_df: pd.DataFrame, a_df: pd.DataFrame, pair_bound: int):
        self.spark = spark_session
        self.e_df, self.a_df = e_df, a_df
        try:  # (a Spark Connect session has no SparkContext)
            parallelism = max(int(spark_session.sparkContext.defaultParallelism), 1)
        except Exception:  # noqa: BLE001
            parallelism = 2
        self.partitions = max(parallelism, math.ceil(max(int(pair_bound), 1) / PAIRS_PER_PARTITION))
        conf = spark_session.conf
        self._restore = {"spark.sql.shuffle.partitions": conf.get("spark.sql.shuffle.partitions", None)}
        conf.set("spark.sql.shuffle.partitions", str(self.partitions))
        try:
            self.db = _spark_api()(spark_session=spark_session, break_lineage_method="persist",
                                   num_partitions_on_repartition=self.partitions)
            self.e_in = spark_session.createDataFrame(_to_arrow(e_df))
            self.a_in = spark_session.createDataFrame(_to_arrow(a_df))
        except BaseException:
            self.close()
            raise

    def train_u(self, settings, u_max_pairs: float, seed: int) -> None:
        """Splink's u by random sampling on the driver (DuckDB, as the DuckDB backend), fixed in
        ``settings``'s comparison levels for the Spark linker."""
        import duckdb
        from splink import Linker
        from splink.backends.duckdb import DuckDBAPI

        con = duckdb.connect()
        try:
            db = DuckDBAPI(connection=con)
            sdf_a = db.register(self.a_df, dataset_display_name="a_aux", table_name="idrisk_aux_u")
            sdf_e = db.register(self.e_df, dataset_display_name="b_ext", table_name="idrisk_ext_u")
            linker = Linker([sdf_a, sdf_e], settings, log_level=logging.ERROR)
            linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=int(seed))
            model = linker.misc.save_model_to_json()
        finally:
            con.close()
        for comp, fitted in zip(settings.comparisons, model["comparisons"]):
            for level, lv in zip(comp.create_comparison_levels(), fitted["comparison_levels"]):
                u = lv.get("u_probability")
                if not lv.get("is_null_level") and isinstance(u, (int, float)):
                    level.configure(u_probability=float(u))

    def close(self) -> None:
        """Release the local checkpoints of the run and restore the session's settings."""
        for df in getattr(getattr(self, "db", None), "idrisk_persisted", []):
            with contextlib.suppress(Exception):  # a local checkpoint's blocks: its RDD's (classic Spark)
                df._jdf.queryExecution().analyzed().rdd().unpersist(False)
        with contextlib.suppress(Exception):
            self.db.idrisk_duck.duckdb_con.close()
        for key, value in self._restore.items():
            with contextlib.suppress(Exception):
                if value is None:
                    self.spark.conf.unset(key)
                else:
                    self.spark.conf.set(key, value)
