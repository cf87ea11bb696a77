"""Splink's own model, for the Splink engine's ``probability="match_probability"`` option.

docs/methods.md#splink-engine. The Splink engine's default claims use idrisk's estimators on
Splink's candidate pairs (:func:`idrisk.intruder.numba_engine.link_joint`). This module keeps
the option of Splink as it comes, a baseline: u by Splink's random sampling (seeded), m by
Splink's EM, one session per blocking pass with the prior fixed (a field that blocks every
pass keeps its configured m, 0.95), and each target's claim at Splink's per-pair
``match_probability`` of its top candidate. That posterior ignores the competing candidates
(two records sharing a key both get ``P ~ 1`` with zero divergence) and Splink's EM
under-estimates the m of the fields that separate true matches where non-matches alike on
several fields form a cluster, so these claims are not calibrated; the option exists to
compare with Splink as a user would run it.

The per-target step runs as SQL in the backend: only one row per target and its tied top
candidates come back to the client.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os

import numpy as np

from ..exceptions import DataValidationError
from .engine import TIE_TOL, class_size_counts, membership_prior
from .score import IntruderResult, score_claims

__all__ = ["quiet_splink", "prior_lambda", "own_model_claims", "table_names"]

_counter = itertools.count()


@contextlib.contextmanager
def quiet_splink():
    """Splink logs at INFO (training progress, warnings about untrained levels): silence it."""
    lg = logging.getLogger("splink")
    before = lg.level
    lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        lg.setLevel(before)


def table_names() -> tuple[str, str]:
    """Fresh names for the auxiliary and extract tables of one run (a connection can be reused)."""
    tag = next(_counter)
    return f"idrisk_aux_{os.getpid()}_{tag}", f"idrisk_ext_{os.getpid()}_{tag}"


def prior_lambda(scenario, n_e: int) -> float:
    """Splink's ``probability_two_random_records_match``: with response knowledge one match per
    target among the ``n`` extract records (``lambda / (1 - lambda) = 1 / (n - 1)``); without it
    ``lambda / (1 - lambda) = pi / ((1 - pi) n)`` with ``pi`` the membership prior."""
    prior = membership_prior(scenario)
    odds = (1.0 / max(n_e - 1, 1)) if prior >= 1.0 else prior / ((1 - prior) * n_e)
    return odds / (1 + odds)


def _per_target(linker, table, k):
    """Per-target aggregates and tied top candidates, computed in the backend by SQL."""
    gam = " AND ".join(f"gamma_k{j} >= 1" for j in range(k))
    base = (f"SELECT p.unique_id_l AS a, p.unique_id_r AS e, p.match_weight AS w, "
            f"p.match_probability AS mp, CASE WHEN {gam} THEN 1 ELSE 0 END AS fa, "
            f"CASE WHEN p.tr_l = p.tr_r THEN 1 ELSE 0 END AS tt, m.wmax AS wmax "
            f"FROM {table} p JOIN (SELECT unique_id_l AS a, MAX(match_weight) AS wmax FROM {table} "
            f"GROUP BY unique_id_l) m ON p.unique_id_l = m.a")
    agg = linker.misc.query_sql(
        f"SELECT a, COUNT(*) AS n, SUM(fa) AS nfull, "
        f"MAX(CASE WHEN fa = 1 THEN e END) AS fe, MAX(tt) AS has_true FROM ({base}) q GROUP BY a",
        output_type="pandas")
    tops = linker.misc.query_sql(
        f"SELECT a, e, mp FROM ({base}) q WHERE w >= wmax - {TIE_TOL} * GREATEST(1.0, ABS(wmax))",
        output_type="pandas")
    mk = linker.misc.query_sql(f"SELECT CAST(match_key AS INTEGER) AS mk, COUNT(*) AS n FROM {table} GROUP BY 1",
                               output_type="pandas")
    return agg, tops, dict(zip(mk["mk"].astype(int), mk["n"].astype(int)))


def _train_and_predict(scenario, n_fields, settings, db, e_in, a_in, seed, opts, names, own=None):
    """Train u and m, predict, and bring back the per-target aggregates and the model (on Spark,
    ``own`` trains u on the driver: :mod:`idrisk.intruder.splink_spark`)."""
    from splink import Linker, block_on

    qi = list(scenario.quasi_identifiers)
    if (on_driver := getattr(own, "train_u", None)) is not None:
        with quiet_splink():
            on_driver(settings, opts["u_max_pairs"], seed)
    name_a, name_e = table_names()  # dataset names sort the auxiliary table to the left of every pair
    sdf_a = db.register(a_in, dataset_display_name="a_aux", table_name=name_a)
    sdf_e = db.register(e_in, dataset_display_name="b_ext", table_name=name_e)
    em_sessions = []
    with quiet_splink():
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
        agg, tops, per_rule = _per_target(linker, pred.physical_name, n_fields)
        model = linker.misc.save_model_to_json()
        with contextlib.suppress(Exception):
            linker.misc.delete_tables_created_by_splink_from_db()
    return agg, tops, per_rule, model, em_sessions


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
    return n_cand, n_full, full_e, true_in


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


def own_model_claims(run, settings, db, e_in, a_in, own) -> IntruderResult:
    """Claims at Splink's ``match_probability`` with Splink's own u and m (``run``: the engine's
    :class:`~idrisk.intruder.splink_engine.SplinkRun` of this linkage)."""
    import splink

    fields, scenario, n_e, n_a = run.fields, run.scenario, run.n_e, run.n_a
    agg, tops, per_rule, model, em_sessions = _train_and_predict(scenario, len(fields), settings, db, e_in,
                                                                 a_in, run.seed, run.opts, run.names, own)
    n_pairs = int(agg["n"].sum()) if len(agg) else 0
    if n_pairs == 0:
        raise_no_pairs(scenario)
    n_cand, n_full, full_e, true_in = _per_target_arrays(agg, n_a)
    best, prob = _top_candidates(tops, n_a, run.seed)
    per_pass = [0] * len(run.passes)
    for i, origin in enumerate(run.origin):
        per_pass[origin] += int(per_rule.get(i, 0))
    n1, n2 = class_size_counts(run.ext, scenario.quasi_identifiers)
    em_info = {**_model_info(model, fields), "engine": "splink", "backend": run.backend,
               "splink_version": getattr(splink, "__version__", "?"), "probability": "match_probability",
               "u_max_pairs": run.opts["u_max_pairs"], "em_sessions": em_sessions,
               "probability_two_random_records_match": float(prior_lambda(scenario, n_e))}
    return score_claims(best=best, prob=prob, truth=run.truth, n_full=n_full, full_e=full_e, n_cand=n_cand,
                        true_in_candidates=true_in, scenario=scenario, seed=run.seed, n_extract=n_e,
                        n_pairs=n_pairs, pairs_per_pass=per_pass, n1=n1, n2=n2, pi=run.pi,
                        membership_prior=membership_prior(scenario), em=em_info, fields=fields)


def raise_no_pairs(scenario):
    """The error of a blocking that gives no candidate pairs (both of the Splink engine's paths)."""
    raise DataValidationError(f"the blocking passes {scenario.blocking} give no candidate pairs: no auxiliary "
                              "record agrees with any extract record on every variable of a pass; block on "
                              "fewer or coarser variables")


def _model_info(model, fields) -> dict:
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
    return {"levels": comps}
