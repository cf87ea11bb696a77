"""Splink as an optional linkage engine for :func:`idrisk.simulate_intruder` (``engine="splink"``).

docs/methods.md#splink-engine. Splink does what Splink is for: blocking and the comparison
levels, i.e. the candidate pairs and their comparison vectors, on DuckDB (embedded, the
default) or on Spark (a ``SparkSession`` the user passes in; idrisk does not depend on
pyspark). The model is idrisk's: the pairs and their agreement come back to the client and
go through the same estimators, normalisation and scoring as idrisk's engine
(:func:`idrisk.intruder.numba_engine.link_joint`: ``m`` by the one-match-per-target EM on a
sample of targets against the whole extract, with the non-member hypothesis without
response knowledge; ``u`` and term frequencies from the extract's value shares; the
joint-frequency normalisation over every extract record; docs/methods.md#joint-frequencies).
Install with ``pip install 'idrisk[splink]'`` (Splink >= 4).

Translation
-----------
* Each quasi-identifier becomes one Splink column holding the same *key* the idrisk engine
  compares (:func:`idrisk.intruder.compare.prepare_fields`): integer codes for exact
  comparisons (equal values, equal codes; Splink never sees the raw values of those),
  the strings for Jaro-Winkler comparisons, month / day numbers for ``"month"`` /
  ``"date"`` and numbers for ``"numeric"``. Missing values are SQL NULL.
* Blocking: the passes of idrisk's engine (the default passes that are selective,
  :func:`idrisk.intruder.blocking.selective_passes`), one Splink rule per pass, or, when the
  scenario blocks on held values, one rule per pass and set of its variables a target holds
  (:func:`idrisk.intruder.blocking.held_groups`: equality on the held ones, the others NULL
  on the target's side). Splink scores the union once; the pairs are ordered by target, the
  rule that found them first and the extract row, as idrisk's engine orders them.
* Comparisons: exact kind -> null / exact match / else; numeric, month, date -> null / exact
  / ``|x - y| <= tolerance`` / else; string -> null / exact / ``jaro_winkler >= threshold`` /
  else. Splink's extra "exact" level and its "similar" level are both agreement, null is a
  missing comparison: idrisk's binary agreement.

Where the engines can differ (the tolerance of docs/methods.md#splink-engine): only in the
comparison vectors, i.e. where Splink's Jaro-Winkler (DuckDB's, or Splink's on Spark)
differs from jellyfish's at the threshold. Exact and tolerance comparisons give the same
pairs and vectors, hence the same claims, correct claims and stated expected correct claims
as idrisk's engine for the same seed (tested, with and without response knowledge).
DuckDB's Jaro-Winkler equals jellyfish's to 1e-16 (719,104 pairs of random strings with typos,
accents and empty strings: no flip at thresholds 0.7-0.9); Splink's function on Spark scored
55,561 of them differently (agreement flipped on 181 at threshold 0.8, 15 at 0.9), none of the
synthetic population's postcode districts. ``probability="match_probability"`` keeps Splink's
own estimators and per-pair posterior instead (:mod:`idrisk.intruder.splink_own`), a baseline
of Splink as it comes.

Measured (``benchmarks/ratios_intruder.py --quick --engines idrisk,splink_engine``, 20,000 x
4,000, 1,962,135 pairs): with Splink's own estimators this engine made 1,049 claims (971
correct) against idrisk's 1,755 (1,584), 0.60 of them, in 91.7 s; now 1,755 (1,584), identical,
in 4.8 s against idrisk's 3.6 s in the same run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError
from .blocking import held_groups, pass_block_ids, selective_passes
from .compare import prepare_fields, valid_text
from .engine import DEFAULT_M
from .memory import check_pairs, default_memory_budget, pass_pair_counts
from .numba_engine import link_joint, threads_for
from .score import IntruderResult
from .splink_own import own_model_claims, prior_lambda, quiet_splink, raise_no_pairs, table_names

__all__ = ["SplinkEngine", "SplinkRun", "simulate_splink", "check_splink_options", "SPLINK_BACKENDS",
           "SPLINK_PROBABILITIES", "DEFAULT_U_MAX_PAIRS"]

SPLINK_BACKENDS = ("duckdb", "spark")
SPLINK_PROBABILITIES = ("normalised", "match_probability")
#: random pairs for Splink's u estimation (``probability="match_probability"``; Splink's default is 1e6)
DEFAULT_U_MAX_PAIRS = 2_000_000
_OPTIONS = ("u_max_pairs", "probability", "duckdb_connection")


def _import_splink():
    try:
        import splink  # noqa: F401
        from splink import Linker, SettingsCreator, block_on
        import splink.comparison_library as cl
        import splink.comparison_level_library as cll
    except ImportError:
        raise InvalidParameterError(
            "engine='splink' needs the optional dependency Splink (>= 4): pip install 'idrisk[splink]'"
        ) from None
    return splink, Linker, SettingsCreator, block_on, cl, cll


def check_splink_options(backend, spark_session, options) -> dict:
    """Validate the Splink engine's arguments (before any work is done)."""
    if backend not in SPLINK_BACKENDS:
        raise InvalidParameterError(f"splink_backend must be one of {', '.join(SPLINK_BACKENDS)}, got {backend!r}")
    if backend == "spark":
        if spark_session is None:
            raise InvalidParameterError(
                "splink_backend='spark' needs an existing SparkSession: pass spark_session=<your session> "
                "(idrisk does not start Spark itself); or use splink_backend='duckdb' on one machine"
            )
        if not (hasattr(spark_session, "createDataFrame") and hasattr(spark_session, "sql")):
            raise InvalidParameterError(
                f"spark_session must be a pyspark SparkSession, got {type(spark_session).__name__}"
            )
        if getattr(getattr(spark_session, "sparkContext", None), "getCheckpointDir", str)() is None:
            raise InvalidParameterError("splink_backend='spark' needs the session's checkpoint directory (Splink "
                                        "checkpoints): call spark_session.sparkContext.setCheckpointDir(path) first")
    elif spark_session is not None:
        raise InvalidParameterError("spark_session is only used with splink_backend='spark'")
    opts = dict(options or {})
    bad = sorted(str(k) for k in opts if k not in _OPTIONS)
    if bad:
        raise InvalidParameterError(f"unknown splink_options: {', '.join(bad)} (allowed: {', '.join(_OPTIONS)})")
    u = opts.get("u_max_pairs", DEFAULT_U_MAX_PAIRS)
    if isinstance(u, bool) or not isinstance(u, (int, float)) or not math.isfinite(u) or u < 1:
        raise InvalidParameterError(f"splink_options['u_max_pairs'] must be a number >= 1, got {u!r}")
    opts["u_max_pairs"] = float(u)
    prob = opts.get("probability", "normalised")
    if prob not in SPLINK_PROBABILITIES:
        raise InvalidParameterError(
            f"splink_options['probability'] must be one of {', '.join(SPLINK_PROBABILITIES)}, got {prob!r}"
        )
    opts["probability"] = prob
    if opts.get("duckdb_connection") is not None and backend != "duckdb":
        raise InvalidParameterError("splink_options['duckdb_connection'] is only used with splink_backend='duckdb'")
    _import_splink()
    return opts


def _columns(fields, n_e, truth):
    """Splink input frames: ``unique_id``, one key column ``k<j>`` per field, and ``tr``.

    ``tr`` is the extract row position: the record's own in the extract, the hidden truth
    (-1 for a non-member) in the auxiliary data, so a pair is the true one iff
    ``tr_l = tr_r``. It is retained through prediction, never compared.
    """
    ext = {"unique_id": np.arange(n_e, dtype=np.int64), "tr": np.arange(n_e, dtype=np.int64)}
    aux = {"unique_id": np.arange(fields[0].codes_a.shape[0], dtype=np.int64),
           "tr": np.asarray(truth, dtype=np.int64)}
    for j, f in enumerate(fields):
        col = f"k{j}"
        if f.kind == "exact":
            for out, c in ((ext, f.codes_e), (aux, f.codes_a)):
                out[col] = pd.array(np.where(c >= 0, c, 0), dtype="Int64")
                out[col][c < 0] = pd.NA
        elif f.kind == "string":
            lv = np.asarray(f.levels, dtype=object)
            for out, c in ((ext, f.codes_e), (aux, f.codes_a)):
                v = np.empty(c.shape[0], dtype=object)
                ok = c >= 0
                v[ok] = [valid_text(x) for x in lv[c[ok]]]  # Jaro-Winkler on valid Unicode
                v[~ok] = None
                out[col] = v
        else:
            for out, vals in ((ext, f.values_e), (aux, f.values_a)):
                a = pd.array(vals, dtype="Float64")
                a[np.isnan(vals)] = pd.NA
                out[col] = a
    return pd.DataFrame(ext), pd.DataFrame(aux)


def _comparison(f, j, own, tf, cl, cll):
    """Splink's levels of field ``j``. For Splink's own model (``own``) m is the EM's start and u
    is trained (``tf``: term-frequency adjustment on the exact level); otherwise m and u are
    configured only so that Splink can predict without training, and the comparison vectors are
    all that is read."""
    col = f"k{j}"

    def conf(level, m, u):
        return level.configure(m_probability=m) if own else level.configure(m_probability=m, u_probability=u)

    levels = [cll.NullLevel(col)]
    if f.kind == "exact":
        levels.append(conf(cll.ExactMatchLevel(col, term_frequency_adjustments=tf), DEFAULT_M, 0.05))
    else:
        levels.append(conf(cll.ExactMatchLevel(col), DEFAULT_M - 0.05, 0.01))
        similar = (cll.JaroWinklerLevel(col, float(f.threshold)) if f.kind == "string"
                   else cll.AbsoluteDifferenceLevel(col, float(f.tolerance)))
        levels.append(conf(similar, 0.05, 0.04))
    levels.append(conf(cll.ElseLevel(), 1 - DEFAULT_M, 0.95))
    return cl.CustomComparison(levels, output_column_name=col, comparison_description=str(f.name))


def blocking_rules(fields, passes, held: bool, names: dict, n_e: int):
    """Splink's blocking rules for idrisk's passes: ``(origin, sql, per_rule)``, the scenario pass
    of each rule, its SQL (``l`` the auxiliary record) and its pairs on its own."""
    byname = {f.name: f for f in fields}
    n_a = fields[0].codes_a.shape[0]
    groups = held_groups(fields, passes, n_a) if held else [(i, list(p), None) for i, p in enumerate(passes)]
    origin, sql, ids_e, ids_a = [], [], [], []
    for i, sub, who in groups:
        null = [v for v in passes[i] if v not in sub]
        sql.append(" AND ".join([f"l.{names[v]} = r.{names[v]}" for v in sub]
                                + [f"l.{names[v]} IS NULL" for v in null]))
        e, a, _ = pass_block_ids(byname, sub, n_e)
        ids_e.append(e)
        ids_a.append(a if who is None else np.where(who, a, -1))
        origin.append(i)
    return origin, sql, pass_pair_counts(ids_e, ids_a)


@dataclass
class SplinkRun:
    """One linkage through Splink: its inputs and the translation of the scenario."""

    ext: pd.DataFrame
    scenario: object
    truth: np.ndarray
    seed: int
    pi: float
    backend: str
    opts: dict
    fields: list = None
    passes: list = None
    origin: list = None
    rules: list = None
    names: dict = None

    @property
    def n_e(self) -> int:
        return len(self.ext)

    @property
    def n_a(self) -> int:
        return self.truth.shape[0]

    def translate(self, fields, passes, held, max_pairs, budget) -> int:
        """Blocking rules for ``passes``; refuses more pairs than ``max_pairs`` or the memory
        budget holds (the largest rule's, a lower bound of the union) before Splink runs.
        Returns the sum of the rules' pairs (an upper bound of the union)."""
        self.fields, self.passes = fields, [list(p) for p in passes]
        self.names = {f.name: f"k{j}" for j, f in enumerate(fields)}
        self.origin, self.rules, per_rule = blocking_rules(fields, self.passes, held, self.names, self.n_e)
        if sum(per_rule) == 0:
            raise_no_pairs(self.scenario)
        check_pairs(max(per_rule), fields, self.passes, max_pairs=max_pairs, memory_budget=budget, at_least=True)
        return sum(per_rule)

    def settings(self, own: bool):
        from splink import SettingsCreator
        from splink.blocking_rule_library import CustomRule
        import splink.comparison_library as cl
        import splink.comparison_level_library as cll

        tf = own and bool(self.scenario.term_frequency)
        return SettingsCreator(
            link_type="link_only",
            comparisons=[_comparison(f, j, own, tf and f.kind == "exact", cl, cll) for j, f in enumerate(self.fields)],
            blocking_rules_to_generate_predictions=[CustomRule(s) for s in self.rules],
            probability_two_random_records_match=prior_lambda(self.scenario, self.n_e),
            additional_columns_to_retain=["tr"],
            retain_matching_columns=True,  # Splink 5 keeps the gamma_ columns only with these
            retain_intermediate_calculation_columns=False,
        )


def _fetch_pairs(db, e_in, a_in, settings, k, check):
    """Splink's candidate pairs and comparison vectors as numpy columns (target ``a``, record
    ``e``, rule ``mk``, ``g<j>``), through Arrow; ``check(n)`` sees their number before they come."""
    from splink import Linker

    name_a, name_e = table_names()  # dataset names sort the auxiliary table to the left of every pair
    sdf_a = db.register(a_in, dataset_display_name="a_aux", table_name=name_a)
    sdf_e = db.register(e_in, dataset_display_name="b_ext", table_name=name_e)
    with quiet_splink():
        linker = Linker([sdf_a, sdf_e], settings, log_level=logging.ERROR)
        pred = linker.inference.predict()
        n = linker.misc.query_sql(f"SELECT COUNT(*) AS n FROM {pred.physical_name}", output_type="pandas")
        check(int(n["n"].iloc[0]))
        # the narrowest types that hold them (row numbers, rule numbers, levels -1..3): the pairs
        # cross to the client in Arrow batches, on Spark through the driver's JVM heap
        gam = ", ".join(f"CAST(gamma_k{j} AS TINYINT) AS g{j}" for j in range(k))
        table = linker.misc.query_sql(f"SELECT CAST(unique_id_l AS INTEGER) AS a, CAST(unique_id_r AS INTEGER) AS e, "
                                      f"CAST(match_key AS SMALLINT) AS mk, {gam} FROM {pred.physical_name}")
        out = {c: np.asarray(table.as_pyarrow_table().column(c).to_numpy(), dtype=np.int64)
               for c in ["a", "e", "mk", *(f"g{j}" for j in range(k))]}
        with contextlib.suppress(Exception):
            linker.misc.delete_tables_created_by_splink_from_db()
    return out


def _as_csr(cols, run):
    """``(ptr, pe, gamma, per_pass)`` of the pairs, ordered by target, first rule and extract row
    (the order of :func:`idrisk.intruder.blocking.candidate_pairs`); agreement is Splink's
    exact or similar level (1), else 0, null -1."""
    a, e, mk = cols["a"], cols["e"], cols["mk"]
    order = np.lexsort((e, mk, a))
    gamma = np.empty((len(run.fields), a.shape[0]), dtype=np.int8)
    for j in range(gamma.shape[0]):
        gamma[j] = np.minimum(cols[f"g{j}"][order], 1)
    ptr = np.zeros(run.n_a + 1, dtype=np.int64)
    np.cumsum(np.bincount(a, minlength=run.n_a), out=ptr[1:])
    origin = np.asarray(run.origin, dtype=np.int64)
    per_pass = np.bincount(origin[mk], minlength=len(run.passes)).astype(int).tolist()
    return ptr, np.ascontiguousarray(e[order]), gamma, per_pass


def _splink_pairs(run, spark_session, max_pairs, budget):
    """The ``pairs`` function :func:`idrisk.intruder.numba_engine.link_joint` calls: Splink's
    pairs and comparison vectors for idrisk's passes."""
    def pairs(fields, passes, held):
        bound = run.translate(fields, passes, held, max_pairs, budget)
        e_df, a_df = _columns(fields, run.n_e, run.truth)
        db, own_con, e_in, a_in = _register(run.backend, spark_session, run.opts, e_df, a_df, budget, bound)
        def check(n):  # before the pairs come to the client
            if n == 0:
                raise_no_pairs(run.scenario)
            check_pairs(n, fields, run.passes, max_pairs=max_pairs, memory_budget=budget)

        try:
            cols = _fetch_pairs(db, e_in, a_in, run.settings(own=False), len(fields), check)
        finally:
            if own_con is not None:
                own_con.close()
        return _as_csr(cols, run)
    return pairs


@dataclass(frozen=True)
class SplinkEngine:
    """Splink (DuckDB or Spark) behind the linking contract (``engine="splink"``)."""

    backend: str = "duckdb"
    spark_session: object = field(default=None, repr=False, compare=False)
    options: dict = field(default_factory=dict)
    name: str = "splink"

    @classmethod
    def create(cls, backend="duckdb", spark_session=None, options=None) -> "SplinkEngine":
        """An engine with its arguments checked (:func:`check_splink_options`)."""
        return cls(backend, spark_session, check_splink_options(backend, spark_session, options))

    def link(self, extract, auxiliary, scenario, truth, *, seed, sampling_fraction, max_pairs,
             memory_budget=None) -> IntruderResult:
        return simulate_splink(extract, auxiliary, scenario, truth, seed, sampling_fraction, max_pairs,
                               backend=self.backend, spark_session=self.spark_session, options=self.options,
                               memory_budget=memory_budget)


def _register(backend, spark_session, opts, e_df, a_df, memory_budget, pair_bound=0):
    """``(db, own_con, e_in, a_in)``: the Splink database API, what to close after the run, the input tables."""
    if backend == "spark":  # the run's settings on the user's session, restored by own_con.close()
        from .splink_spark import SparkLinkage
        own_con = SparkLinkage(spark_session, e_df, a_df, pair_bound)
        return own_con.db, own_con, own_con.e_in, own_con.a_in
    import duckdb
    from splink.backends.duckdb import DuckDBAPI
    con, own_con = opts.get("duckdb_connection"), None
    if con is None:  # the memory budget bounds DuckDB's memory (it spills to disk beyond it)
        con = own_con = duckdb.connect(config={"threads": max(os.cpu_count() or 1, 1),
                                               "memory_limit": f"{max(int(memory_budget) // 1024, 1)}KiB"})
    return DuckDBAPI(connection=con), own_con, e_df, a_df


def _own_model(run, aux, spark_session, max_pairs, budget) -> IntruderResult:
    """``probability="match_probability"``: Splink's own estimators (:mod:`idrisk.intruder.splink_own`)."""
    scenario = run.scenario
    fields = prepare_fields(run.ext, aux, scenario)
    held = scenario.block_on_held
    passes = selective_passes(fields, scenario.blocking, run.n_e) if held else scenario.blocking
    bound = run.translate(fields, passes, held, max_pairs, budget)
    e_df, a_df = _columns(fields, run.n_e, run.truth)
    db, own_con, e_in, a_in = _register(run.backend, spark_session, run.opts, e_df, a_df, budget, bound)
    try:
        return own_model_claims(run, run.settings(own=True), db, e_in, a_in, own_con)
    finally:
        if own_con is not None:
            own_con.close()


def simulate_splink(ext, aux, scenario, truth, seed, pi, max_pairs, *, backend="duckdb", spark_session=None,
                    options=None, memory_budget=None) -> IntruderResult:
    """The Splink engine behind :func:`idrisk.simulate_intruder` (inputs already validated there).

    ``memory_budget`` (bytes, ``None``: the default) bounds the pairs brought to the client and is
    the ``memory_limit`` of the DuckDB connection this engine opens (it spills to disk beyond it); a
    ``duckdb_connection`` keeps its own."""
    opts = check_splink_options(backend, spark_session, options)
    splink = _import_splink()[0]
    budget = default_memory_budget() if memory_budget is None else int(memory_budget)
    run = SplinkRun(ext, scenario, np.asarray(truth, dtype=np.int64), seed, pi, backend, opts)
    if opts["probability"] == "match_probability":
        return _own_model(run, aux, spark_session, max_pairs, budget)
    info = {"engine": "splink", "splink_version": getattr(splink, "__version__", "?"), "backend": backend,
            "probability": "normalised", "pairs": "Splink's blocking and comparison vectors"}
    with threads_for(len(ext) + len(aux)):
        return link_joint(ext, aux, scenario, run.truth, seed, pi, (max_pairs, budget),
                          pairs=_splink_pairs(run, spark_session, max_pairs, budget), info=info)
