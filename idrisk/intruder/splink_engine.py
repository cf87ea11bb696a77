"""Splink as an optional linkage engine for :func:`idrisk.simulate_intruder` (``engine="splink"``).

The same scenario is translated into a Splink settings object and run on DuckDB
(embedded, the default) or on Spark (a ``SparkSession`` the user passes in; idrisk does
not depend on pyspark). Install with ``pip install 'idrisk[splink]'`` (Splink >= 4).

Translation
-----------
* Each quasi-identifier becomes one Splink column holding the same *key* the idrisk engine
  compares (:func:`idrisk.intruder.compare.prepare_fields`): integer codes for exact
  comparisons (equal values, equal codes; Splink never sees the raw values of those),
  the strings for Jaro-Winkler comparisons, month / day numbers for ``"month"`` /
  ``"date"`` and numbers for ``"numeric"``. Missing values are SQL NULL.
* Blocking: one ``block_on(...)`` rule per scenario pass (Splink scores the union once, as idrisk).
* Comparisons: exact kind -> null / exact match / else, with term-frequency adjustment on
  the exact level when ``scenario.term_frequency``; numeric, month, date -> null / exact /
  ``|x - y| <= tolerance`` / else; string -> null / exact / ``jaro_winkler >= threshold`` /
  else (Splink's extra "exact" level, beside idrisk's one agreement level, is its usual model).
* u by Splink's random sampling, seeded (``estimate_u_using_random_sampling(max_pairs,
  seed)``); m by Splink's EM, one session per blocking pass (the fields of a pass are not
  estimable on its pairs, as in idrisk's engine), with the prior fixed. A field that
  blocks every pass keeps the configured m (agreement 0.95, as idrisk's ``DEFAULT_M``)
  in Splink's model; the normalised claims replace it by the estimated ``rho`` (below).
  This is Splink's standard EM, i.e. the first stage of idrisk's engine without its
  one-match-per-target refinement: where non-matches that are alike on several fields
  (ethnicity, EAL, FSM within an LA) form a cluster, EM puts part of that cluster in the
  match class and under-estimates the m of the fields that separate true matches (birth
  month: m ~ 0.4 instead of ~0.95 on the synthetic population). Splink's weights are
  then weaker and it claims fewer targets than idrisk's engine (55-85% of the claims
  on the perturbed scenario of tests/test_intruder_splink.py, over seeds 0-5; these
  figures were measured before the blocking-miss term below, and that test still holds) with
  similar precision (within 0.1); on benchmarks/ratios_intruder.py --quick (postcode
  district with a time lag among the fields) 338 claims against idrisk's 1762, at
  precision 0.91 vs 0.90. The gap is not one-sided: with tolerance and Jaro-Winkler
  comparisons Splink's extra "exact" level can make it claim more. Blocking, the
  candidate pairs and the unique-match analysis are model-free and identical between
  the engines (tested).
* Prior ``lambda`` (``probability_two_random_records_match``): with response knowledge
  one match per target among the ``n`` extract records, ``lambda = 1/n``; without it
  ``lambda / (1 - lambda) = pi / ((1 - pi) n)`` with ``pi`` the membership prior.

Claims
------
By default (``probability="normalised"``) the confidence of a candidate is the
*block-normalised* probability computed from Splink's ``match_weight`` ``w`` (which
includes the prior): with response knowledge ``P(b | a) = 2^w_ab / sum_b' 2^w_ab'``
over the target's candidates; without it ``P(b | a) = 2^w_ab / (1 + sum_b' 2^w_ab')``,
which, with the prior above, is exactly the formula of idrisk's engine, and for a target
with one candidate equals Splink's ``match_probability`` (before the blocking-miss term
below). This is the default because
Splink's per-pair ``match_probability`` ignores competing candidates: with zero
divergence two records sharing a key would both get ``P ~ 1`` although the intruder
can only be right half the time, breaking the identities of docs/methods.md#intruder-scoring and the
calibration of the claims.

Blocking can miss the target's own record (a wrong or jittered blocking value), and then
the lone wrong candidate left would get ``P = 1``. As in idrisk's engine, the
normalisation also holds the likelihood-ratio mass of the records that are not
candidates, ``n* (1 - r_a)``, computed by the same function
(:func:`idrisk.intruder.recall.blocking_recall`, docs/methods.md#blocking-recall) from the per-target candidate counts
and ``log2 sum_b 2^(w_ab - log2 odds)`` (Splink's ``w`` carries the prior odds
``lambda / (1 - lambda)``, so the term enters as ``odds n* (1 - r_a)``):

    ``P(b | a) = 2^w'_ab / (sum_{b'} 2^w'_ab' + odds n* (1 - r_a) [+ 1 without response knowledge])``

with ``m_v`` of each blocking field the m of its exact level in Splink's fitted model
(the probability that a match passes an equality block on it). The fields blocked on in
every pass are not trained by Splink (they keep the configured m); as in idrisk's engine
the probability ``rho`` that a match agrees on all of them is estimated by maximum
likelihood and replaces the product of their m: every candidate agrees on them, so
``w' = w + log2 rho - sum log2 m_v`` for every pair, and ``result.em["levels"]`` reports
``m = rho^(1/count)`` for them (``result.em["blocking_recall"]`` holds ``rho``, the mean
recall and the m used). With no divergence ``rho = 1``, the term is 0 and with response
knowledge ``P = 1/f`` as before (docs/methods.md#intruder-scoring). ``probability="match_probability"`` uses Splink's own
per-pair posterior instead (as benchmarks/ratios_intruder.py's baseline does). Each
target's claim is its top candidate (ties broken uniformly at random from ``seed``),
claimed when ``P >= claim_threshold``, and scored by :func:`score_claims` against the
hidden truth, like idrisk's engine.

The per-target step runs as SQL in the backend: only one row per target and its tied
top candidates come back to the client.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, InvalidParameterError
from .blocking import pass_block_ids
from .memory import default_memory_budget, pass_pair_counts
from .compare import prepare_fields, valid_text
from .engine import DEFAULT_M, TIE_TOL, class_size_counts, membership_prior
from .recall import blocking_recall, recall_summary
from .score import IntruderResult, score_claims

__all__ = ["SplinkEngine", "simulate_splink", "check_splink_options", "SPLINK_BACKENDS", "SPLINK_PROBABILITIES",
           "DEFAULT_U_MAX_PAIRS"]

SPLINK_BACKENDS = ("duckdb", "spark")
SPLINK_PROBABILITIES = ("normalised", "match_probability")
#: random pairs for Splink's u estimation (Splink's default is 1e6)
DEFAULT_U_MAX_PAIRS = 2_000_000
_counter = itertools.count()
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


@contextlib.contextmanager
def _quiet_splink():
    """Splink logs at INFO (training progress, warnings about untrained levels): silence it."""
    lg = logging.getLogger("splink")
    before = lg.level
    lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        lg.setLevel(before)


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


def _comparison(f, j, scenario, cl, cll):
    col = f"k{j}"
    agree_m = DEFAULT_M
    levels = [cll.NullLevel(col)]
    if f.kind == "exact":
        levels.append(cll.ExactMatchLevel(col, term_frequency_adjustments=bool(scenario.term_frequency))
                      .configure(m_probability=agree_m))
    else:
        levels.append(cll.ExactMatchLevel(col).configure(m_probability=agree_m - 0.05))
        if f.kind == "string":
            levels.append(cll.JaroWinklerLevel(col, float(f.threshold)).configure(m_probability=0.05))
        else:
            levels.append(cll.AbsoluteDifferenceLevel(col, float(f.tolerance)).configure(m_probability=0.05))
    levels.append(cll.ElseLevel().configure(m_probability=1 - agree_m))
    return cl.CustomComparison(levels, output_column_name=col, comparison_description=str(f.name))


def _pair_bound(fields, passes, n_e):
    """Sum over passes of the candidate pairs of each pass (an upper bound of their union)."""
    byname = {f.name: f for f in fields}
    ids = [pass_block_ids(byname, p, n_e)[:2] for p in passes]
    per_pass = pass_pair_counts([e for e, _ in ids], [a for _, a in ids])
    return sum(per_pass), per_pass


def _per_target(linker, table, k):
    """Per-target aggregates and tied top candidates, computed in the backend by SQL.

    Only one row per target plus its tied top candidates come back to the client, so the
    candidate pairs stay in DuckDB / Spark.
    """
    gam = " AND ".join(f"gamma_k{j} >= 1" for j in range(k))
    base = (f"SELECT p.unique_id_l AS a, p.unique_id_r AS e, p.match_weight AS w, "
            f"p.match_probability AS mp, CASE WHEN {gam} THEN 1 ELSE 0 END AS fa, "
            f"CASE WHEN p.tr_l = p.tr_r THEN 1 ELSE 0 END AS tt, m.wmax AS wmax "
            f"FROM {table} p JOIN (SELECT unique_id_l AS a, MAX(match_weight) AS wmax FROM {table} "
            f"GROUP BY unique_id_l) m ON p.unique_id_l = m.a")
    agg = linker.misc.query_sql(
        f"SELECT a, COUNT(*) AS n, SUM(POWER(2.0, w - wmax)) AS s, MAX(wmax) AS wmax, SUM(fa) AS nfull, "
        f"MAX(CASE WHEN fa = 1 THEN e END) AS fe, MAX(tt) AS has_true FROM ({base}) q GROUP BY a",
        output_type="pandas")
    tops = linker.misc.query_sql(
        f"SELECT a, e, mp FROM ({base}) q WHERE w >= wmax - {TIE_TOL} * GREATEST(1.0, ABS(wmax))",
        output_type="pandas")
    mk = linker.misc.query_sql(f"SELECT CAST(match_key AS INTEGER) AS mk, COUNT(*) AS n FROM {table} GROUP BY 1",
                               output_type="pandas")
    return agg, tops, dict(zip(mk["mk"].astype(int), mk["n"].astype(int)))


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


def _check_bound(fields, scenario, n_e, max_pairs) -> int:
    bound, _ = _pair_bound(fields, scenario.blocking, n_e)
    if bound == 0:
        raise DataValidationError(
            f"the blocking passes {scenario.blocking} give no candidate pairs: no auxiliary record agrees "
            "with any extract record on every variable of a pass; block on fewer or coarser variables"
        )
    if bound > max_pairs:
        raise DataValidationError(
            f"the blocking passes {scenario.blocking} give up to {bound:,} candidate pairs, more than "
            f"max_pairs={max_pairs:,}; block on more variables or raise max_pairs"
        )
    return bound


def _prior_odds(scenario, n_e):
    """``(prior, rest, odds)``: the membership prior, the non-member term (0 or 1) and
    ``lambda / (1 - lambda)`` (with response knowledge the prior cancels: one match among n)."""
    prior = membership_prior(scenario)
    rest = 0.0 if prior >= 1.0 else 1.0
    odds = (1.0 / max(n_e - 1, 1)) if rest == 0.0 else prior / ((1 - prior) * n_e)
    return prior, rest, odds


def _register(backend, spark_session, opts, e_df, a_df, memory_budget=None, pair_bound=0):
    """``(db, own_con, e_in, a_in)``: the Splink database API, what to close after the run, the input tables."""
    if backend == "spark":  # the run's settings on the user's session, restored by own_con.close()
        from .splink_spark import SparkLinkage
        own_con = SparkLinkage(spark_session, e_df, a_df, pair_bound)
        return own_con.db, own_con, own_con.e_in, own_con.a_in
    import duckdb
    from splink.backends.duckdb import DuckDBAPI
    con, own_con = opts.get("duckdb_connection"), None
    if con is None:  # the memory budget bounds DuckDB's memory (it spills to disk beyond it)
        budget = default_memory_budget() if memory_budget is None else int(memory_budget)
        con = own_con = duckdb.connect(config={"threads": max(os.cpu_count() or 1, 1),
                                               "memory_limit": f"{max(budget // 1024, 1)}KiB"})
    return DuckDBAPI(connection=con), own_con, e_df, a_df


def _train_and_predict(scenario, fields, settings, db, e_in, a_in, seed, opts, names, block_on, own=None):
    """Train u and m, predict, and bring back the per-target aggregates and the model (on Spark,
    ``own`` trains u on the driver: :mod:`idrisk.intruder.splink_spark`)."""
    from splink import Linker

    qi = list(scenario.quasi_identifiers)
    tag = next(_counter)
    if (on_driver := getattr(own, "train_u", None)) is not None:
        with _quiet_splink():
            on_driver(settings, opts["u_max_pairs"], seed)
    # dataset names sort the auxiliary table to the left of every pair
    sdf_a = db.register(a_in, dataset_display_name="a_aux", table_name=f"idrisk_aux_{os.getpid()}_{tag}")
    sdf_e = db.register(e_in, dataset_display_name="b_ext", table_name=f"idrisk_ext_{os.getpid()}_{tag}")
    em_sessions = []
    with _quiet_splink():
        linker = Linker([sdf_a, sdf_e], settings, log_level=logging.ERROR)
        if on_driver is None:
            linker.training.estimate_u_using_random_sampling(max_pairs=opts["u_max_pairs"], seed=int(seed))
        for p in scenario.blocking:
            if set(p) >= set(qi):
                em_sessions.append({"pass": list(p), "status": "skipped: the pass blocks on every field"})
                continue
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(  # on Spark: pattern counts
                    block_on(*[names[v] for v in p]), fix_probability_two_random_records_match=True,
                    estimate_without_term_frequencies=on_driver is not None and not scenario.term_frequency)
                em_sessions.append({"pass": list(p), "status": "fitted"})
            except Exception as exc:  # noqa: BLE001 - e.g. a pass with no pairs; m keeps its start value
                em_sessions.append({"pass": list(p), "status": f"failed: {type(exc).__name__}"})
        pred = linker.inference.predict()
        agg, tops, per_pass = _per_target(linker, pred.physical_name, len(fields))
        model = linker.misc.save_model_to_json()
        with contextlib.suppress(Exception):
            linker.misc.delete_tables_created_by_splink_from_db()
    return agg, tops, per_pass, model, em_sessions


def _per_target_arrays(agg, n_a):
    """Per target: candidate count, full-agreement count and record, true record present."""
    t = agg["a"].to_numpy(dtype=np.int64)
    n_cand = np.zeros(n_a, dtype=np.int64)
    n_cand[t] = agg["n"].to_numpy(dtype=np.int64)
    n_full = np.zeros(n_a, dtype=np.int64)
    n_full[t] = agg["nfull"].to_numpy(dtype=np.int64)
    full_e = np.full(n_a, -1, dtype=np.int64)
    full_e[t] = agg["fe"].fillna(-1).to_numpy(dtype=np.int64)
    true_in = np.zeros(n_a, dtype=bool)
    true_in[t] = agg["has_true"].to_numpy(dtype=np.int64) > 0
    return t, n_cand, n_full, full_e, true_in


def _top_candidates(tops, n_a, seed):
    """The top candidate per target, uniformly at random among the ties (in a fixed order, from
    ``seed``), and Splink's ``match_probability`` of it."""
    ta = tops["a"].to_numpy(dtype=np.int64)
    te = tops["e"].to_numpy(dtype=np.int64)
    order = np.lexsort((te, ta))
    ta, te = ta[order], te[order]
    tmp = tops["mp"].to_numpy(dtype=np.float64)[order]
    key = np.random.default_rng(seed).random(ta.shape[0])
    pick = np.lexsort((key, ta))
    first = np.ones(pick.shape[0], dtype=bool)
    first[1:] = ta[pick][1:] != ta[pick][:-1]
    pick = pick[first]
    best = np.full(n_a, -1, dtype=np.int64)
    best[ta[pick]] = te[pick]
    mp = np.zeros(n_a)
    mp[ta[pick]] = tmp[pick]
    return best, mp


def _normalised(fields, scenario, model, agg, t, n_cand, n_e, n_a, odds, rest):
    """Block-normalised P of the top candidate, with the blocking's missed matches (as in idrisk's
    engine, the same function): Splink's ``w = log2 LR + log2 odds``, so the likelihood ratios are
    ``w - log2 odds``. Returns ``(prob, rho, always, c, m_exact)``."""
    s_rel = agg["s"].to_numpy(dtype=np.float64)
    wmax = agg["wmax"].to_numpy(dtype=np.float64)
    log2_odds = math.log2(odds)
    m_exact = np.array([_exact_m(model, j) for j in range(len(fields))])
    log2_sums = np.full(n_a, -np.inf)
    log2_sums[t] = wmax + np.log2(s_rel) - log2_odds
    nonmember = 0.0 if rest == 0.0 else 1.0 / odds
    rho, always, miss, c = blocking_recall(fields, scenario.blocking, m_exact, None, None, n_e, nonmember,
                                           n_cand=n_cand, log2_sums=log2_sums)
    # every candidate agrees on the fields of every pass: replacing their configured m by
    # rho (as idrisk's engine does) shifts every weight by the same delta
    delta = (math.log2(rho) - float(np.sum(np.log2(m_exact[always])))) if always else 0.0
    # 2^w'max / (sum 2^w' + odds n* (1 - r_a) [+ 1 without response knowledge]), w' = w + delta
    extra = odds * miss[t] + rest
    with np.errstate(over="ignore"):
        prob = np.zeros(n_a)
        prob[t] = 1.0 / (s_rel + extra * np.exp2(-(wmax + delta)))
    return prob, rho, always, c, m_exact


def simulate_splink(ext, aux, scenario, truth, seed, pi, max_pairs, *, backend="duckdb", spark_session=None,
                    options=None, memory_budget=None) -> IntruderResult:
    """The Splink engine behind :func:`idrisk.simulate_intruder` (inputs already validated there).

    ``memory_budget`` (bytes, ``None``: the default) is the ``memory_limit`` of the DuckDB connection
    this engine opens (it spills to disk beyond it); a ``duckdb_connection`` keeps its own."""
    opts = check_splink_options(backend, spark_session, options)
    splink, _, SettingsCreator, block_on, cl, cll = _import_splink()
    n_e, n_a = len(ext), len(aux)
    fields = prepare_fields(ext, aux, scenario)  # the same type checks and keys as idrisk's engine
    bound = _check_bound(fields, scenario, n_e, max_pairs)
    prior, rest, odds = _prior_odds(scenario, n_e)
    lam = odds / (1 + odds)
    names = {f.name: f"k{j}" for j, f in enumerate(fields)}
    e_df, a_df = _columns(fields, n_e, truth)
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[_comparison(f, j, scenario, cl, cll) for j, f in enumerate(fields)],
        blocking_rules_to_generate_predictions=[block_on(*[names[v] for v in p]) for p in scenario.blocking],
        probability_two_random_records_match=lam,
        additional_columns_to_retain=["tr"],
        retain_matching_columns=True,  # Splink 5 keeps the gamma_ columns only with these
        retain_intermediate_calculation_columns=False,
    )
    db, own_con, e_in, a_in = _register(backend, spark_session, opts, e_df, a_df, memory_budget, bound)
    try:
        agg, tops, per_pass, model, em_sessions = _train_and_predict(scenario, fields, settings, db, e_in, a_in,
                                                                     seed, opts, names, block_on, own_con)
    finally:
        if own_con is not None:
            own_con.close()
    n_pairs = int(agg["n"].sum()) if len(agg) else 0
    if n_pairs == 0:
        raise DataValidationError(f"the blocking passes {scenario.blocking} give no candidate pairs")
    t, n_cand, n_full, full_e, true_in = _per_target_arrays(agg, n_a)
    em_info = _model_info(model, fields, splink, backend, opts, lam, em_sessions)
    prob, rho, always, c, m_exact = _normalised(fields, scenario, model, agg, t, n_cand, n_e, n_a, odds, rest)
    best, mp = _top_candidates(tops, n_a, seed)
    if opts["probability"] == "match_probability":
        prob = mp
    per_pass = [int(per_pass.get(i, 0)) for i in range(len(scenario.blocking))]
    n1, n2 = class_size_counts(ext, scenario.quasi_identifiers)
    if opts["probability"] == "normalised":
        for j in always:  # the m the claims used (Splink's model keeps its configured m)
            em_info["levels"][str(fields[j].name)][0]["m"] = float(rho ** (1.0 / len(always)))
    em_info["blocking_recall"] = {
        **recall_summary(fields, scenario, n_a, always, rho, c),
        "m_blocking": {f.name: float(x) for f, x in zip(fields, m_exact)},
    }
    return score_claims(best=best, prob=prob, truth=truth, n_full=n_full, full_e=full_e, n_cand=n_cand,
                        true_in_candidates=true_in, scenario=scenario, seed=seed, n_extract=n_e,
                        n_pairs=n_pairs, pairs_per_pass=per_pass, n1=n1, n2=n2, pi=pi,
                        membership_prior=prior, em=em_info, fields=fields)


def _exact_m(model, j) -> float:
    """m of field ``j``'s exact-match level (the first non-null level) in Splink's model:
    the probability that a match agrees on the key, i.e. passes an equality block on it."""
    for lv in model["comparisons"][j]["comparison_levels"]:
        if not lv.get("is_null_level"):
            m = lv.get("m_probability")
            return float(min(max(DEFAULT_M if m is None else m, 1e-6), 1 - 1e-6))
    return DEFAULT_M


def _model_info(model, fields, splink, backend, opts, lam, sessions) -> dict:
    """m and u per field and level (plain floats; no record values: the levels are labels)."""
    comps = {}
    for j, c in enumerate(model.get("comparisons", [])):
        name = fields[j].name if j < len(fields) else c.get("output_column_name")
        levels = []
        for lv in c.get("comparison_levels", []):
            if lv.get("is_null_level"):
                continue
            cond = lv.get("sql_condition", "")
            label = ("else" if cond == "ELSE" else "exact" if " = " in cond and "ABS" not in cond
                     and "jaro" not in cond else "similar")
            m, u = lv.get("m_probability"), lv.get("u_probability")
            levels.append({"level": label, "m": None if m is None else float(m),
                           "u": None if u is None else float(u)})
        comps[str(name)] = levels
    return {"engine": "splink", "splink_version": getattr(splink, "__version__", "?"), "backend": backend,
            "probability": opts["probability"], "u_max_pairs": opts["u_max_pairs"],
            "probability_two_random_records_match": float(lam), "em_sessions": sessions,
            "levels": comps}
