"""The numba linking engine (``engine="idrisk"``), the default of :func:`simulate_intruder`.

docs/methods.md#joint-frequencies: blocking passes (union; by default one pass per exactly
compared field left out, each target blocked on the values it holds) -> field comparisons ->
``m`` by EM on a sample of targets against the whole extract, from the joint frequencies of
the key in the extract (:mod:`.joint`) -> each candidate's likelihood ratio, normalised over
*every* extract record (the candidates' own ratios plus the exact sum over the others) and,
without response knowledge, the non-member alternative -> a claim per target -> scoring
against the hidden truth beside the exact-match intruder (:mod:`.baseline`,
docs/methods.md#intruder-scoring).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numba
import numpy as np

from .._kernels import linkage as K
from .blocking import candidate_pairs, selective_passes
from .compare import compare_pairs, prepare_fields
from .engine import TIE_TOL, class_size_counts, membership_prior
from .estimation import frequency_u
from .joint import (M_FLOOR, SNAP_LOGLIK, JointModel, em_sample_size, fit_joint_m, nonmember_ratio, value_scales,
                    value_shares)
from .score import IntruderResult, score_claims
from .weights import likelihood_tables, target_offsets

__all__ = ["NumbaEngine", "threads_for", "link_joint", "PARALLEL_MIN"]

#: below this many records (extract + auxiliary) the kernels run on one thread
PARALLEL_MIN = 50_000


@contextlib.contextmanager
def threads_for(size: int):
    """One numba thread for small inputs: waking the thread pool costs more than the work."""
    if size >= PARALLEL_MIN:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


@dataclass(frozen=True)
class NumbaEngine:
    """idrisk's own engine: every step in numba kernels (:mod:`idrisk._kernels.linkage`)."""

    name: str = "idrisk"

    def link(self, extract, auxiliary, scenario, truth, *, seed, sampling_fraction, max_pairs,
             memory_budget=None) -> IntruderResult:
        with threads_for(len(extract) + len(auxiliary)):
            return link_joint(extract, auxiliary, scenario, truth, seed, sampling_fraction, (max_pairs, memory_budget))


#: the start of every field's m
M_START = 0.999


class _Linkage:
    """The pairs, comparisons and joint counts of one linkage."""

    def __init__(self, ext, aux, scenario, limits, rng, pairs=None):
        self.n_e, self.n_a = len(ext), len(aux)
        self.fields = fields = prepare_fields(ext, aux, scenario)
        held = scenario.block_on_held
        self.passes = selective_passes(fields, scenario.blocking, self.n_e) if held else scenario.blocking
        if pairs is None:
            self.ptr, self.pe, _, self.per_pass = candidate_pairs(fields, self.passes, self.n_e, self.n_a,
                                                                  max_pairs=limits[0], memory_budget=limits[1],
                                                                  held=held)
            self.pa = K.expand_targets(self.ptr)
            self.gamma = compare_pairs(fields, self.pe, self.pa)
        else:  # another engine's pairs and comparison vectors (the Splink engine)
            self.ptr, self.pe, self.gamma, self.per_pass = pairs(fields, self.passes, held)
            self.pa = K.expand_targets(self.ptr)
        self.u, _ = frequency_u(fields, rng, self.n_e, self.n_a)
        self.shares = value_shares(fields, self.n_e)
        self.scales = value_scales(fields, self.n_e)
        self.joint = JointModel.build(fields, self.shares, self.scales, self.n_e)
        self.off = target_offsets(fields, self.scales)
        self.off_joint = target_offsets(fields, self.scales, self.joint.cols)
        cols = self.joint.cols
        for j in cols:  # a value the intruder holds and the record lacks disagrees (the joint counts' rule)
            f = fields[j]
            if (f.codes_e < 0).any():
                fix = (self.gamma[j] < 0) & (f.codes_a[self.pa] >= 0)
                self.gamma[j][fix] = 0
        self.others = [j for j in range(len(fields)) if j not in cols]
        self.codes_e_t = np.ascontiguousarray(np.vstack([f.codes_e for f in fields]).T, dtype=np.int32)
        self.chance = _chance_adjustments(fields, self.u)

    def refresh_offsets(self):
        """Take the joint fields' scales after their error distributions were fitted (:func:`fit_joint_m`)."""
        for i, j in enumerate(self.joint.cols):
            self.scales[j] = self.joint.scales[i]
        self.off = target_offsets(self.fields, self.scales)
        self.off_joint = target_offsets(self.fields, self.scales, self.joint.cols)

    def weights(self, m, only=None, sel=None):
        tab, offs, use_tf, dis = likelihood_tables(self.fields, m, self.u, self.shares, self.scales, only)
        off = self.off if only is None else self.off_joint
        if sel is None:
            W = K.pair_weights(self.gamma, self.pe, self.codes_e_t, tab, offs, use_tf, dis)
            pa, gamma = self.pa, self.gamma
        else:
            W = K.pair_weights(np.ascontiguousarray(self.gamma[:, sel]), np.ascontiguousarray(self.pe[sel]),
                               self.codes_e_t, tab, offs, use_tf, dis)
            pa, gamma = self.pa[sel], self.gamma[:, sel]
        W += off[pa]
        for j, table in self.chance:
            if only is None or j in only:
                # one gather: column 0 a missing comparison, 1 disagreement, 2 agreement
                W += table.ravel()[pa * 3 + (gamma[j].astype(np.int64) + 1)]
        return W

    def rest(self, m, ratio, rows, ptr, sel):
        """Per target of ``rows``: the mass outside its candidates (and the non-member mass)."""
        W = self.weights(m, sel=sel)
        s_full = s_j = _block_sum(ptr, W)
        if self.others:
            Wj = self.weights(m, only=self.joint.cols, sel=sel)
            s_j = _block_sum(ptr, Wj)
        t_full = t_j = np.zeros(rows.shape[0])
        if ratio > 0 and self.others:
            # the non-members of a candidate's class weigh with the candidate's full weight
            wb = self.joint.w[self.pe if sel is None else self.pe[sel]]
            t_full = _block_sum(ptr, W, wb)
            t_j = _block_sum(ptr, Wj, wb)
        S = np.empty(rows.shape[0])
        T = np.empty(rows.shape[0])
        for c in self.joint.chunk_rows(rows.shape[0]):
            H, HW = self.joint.tables(rows[c], weighted=ratio > 0)
            logp, logc, held = self.joint.log_shares(rows[c])
            S[c], T[c], _, _ = self.joint.masses(H, HW, logp, logc, held, m, weighted=ratio > 0)
        rest = np.maximum(S - s_j, 0.0) + ratio * (np.maximum(T - t_j, 0.0) + t_full)
        recall = (s_j, S, S + ratio * T)
        return W, rest, s_full, recall

    def subset(self, rows):
        """``(ptr, sel)``: the pairs of target ``rows`` (sorted) as their own CSR."""
        lens = self.ptr[rows + 1] - self.ptr[rows]
        ptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(lens, out=ptr[1:])
        sel = np.repeat(self.ptr[rows], lens) + (np.arange(ptr[-1]) - np.repeat(ptr[:-1], lens))
        return ptr, sel


def _chance_adjustments(fields, u):
    """Per tolerance-compared field (numeric, month, date): each target's own chance agreement
    ``u_a`` = the share of extract records within the tolerance of its value, as ``(j, table)``
    with per target the columns ``0`` (missing comparison), ``log2((1 - u) / (1 - u_a))`` and
    ``log2(u / u_a)``, turning the field's weights
    ``log2(m / u)`` and ``log2((1 - m) / (1 - u))`` into ``log2(m / u_a)`` and
    ``log2((1 - m) / (1 - u_a))``. With one ``u`` for every target, a value at the edge of the
    distribution (a pupil born in the first month of the school year: about 2 months of 12 within
    one month, against 3 in the middle) gets the wrong agreement weight, and the fitted ``m``
    falls below 1 to make up for it (docs/methods.md#joint-frequencies). The intruder counts
    ``u_a`` from the extract it holds."""
    out = []
    for j, f in enumerate(fields):
        if f.kind not in ("numeric", "month", "date") or f.values_e is None:
            continue
        ve = np.sort(f.values_e[~np.isnan(f.values_e)])
        va = f.values_a
        if ve.shape[0] == 0:
            continue
        tol = float(f.tolerance)
        have = ~np.isnan(va)
        x = np.where(have, va, 0.0)
        within = np.searchsorted(ve, x + tol, side="right") - np.searchsorted(ve, x - tol, side="left")
        lo = 1.0 / (4.0 * ve.shape[0])
        ua = np.clip(within / ve.shape[0], lo, 1.0 - 1e-9)
        uj = float(u[j])
        table = np.zeros((va.shape[0], 3))
        table[:, 1] = np.where(have, np.log2((1.0 - uj) / (1.0 - ua)), 0.0)
        table[:, 2] = np.where(have, np.log2(uj / ua), 0.0)
        out.append((j, table))
    return out


def _block_sum(ptr, W, scale=None):
    """``sum_b scale_b 2^W_ab`` over each target's candidates (0 without candidates)."""
    x = np.exp2(np.clip(W, -1000.0, 1000.0))
    if scale is not None:
        x = x * scale
    out = np.zeros(ptr.shape[0] - 1)
    has = np.flatnonzero(np.diff(ptr) > 0)
    if has.size:
        out[has] = np.add.reduceat(x, ptr[has])
    return out


def _shifted(W, rest, pa):
    """The kernels take one scalar rest term: carry each target's own as a shift of its weights."""
    if not (rest > 0).any():
        return W, -np.inf
    top = float(rest.max())
    shift = np.log2(np.maximum(rest, top * 2.0 ** -900)) - math.log2(top)
    return W - shift[pa], math.log2(top)


def _fit_others(lk, m, ratio, rows):
    """m of the fields outside the joint counts: each maximises ``sum_a log D_a`` over target
    ``rows`` in turn (``D_a`` the target's candidates with their full weights plus the joint
    mass outside them and the non-member mass), on ``[u_v, 1]`` (agreement is never evidence
    against a match); two rounds. A bounded one-dimensional search on ``log(1 - m_v)``
    reaches an ``m_v`` near 1 where an EM crawls."""
    from scipy.optimize import minimize_scalar

    info = {"fields": [lk.fields[j].name for j in lk.others], "rounds": 0}
    if not lk.others or rows.shape[0] == 0:
        return m, info
    ptr, sel = lk.subset(rows)
    m = m.copy()
    for _ in range(2):
        for j in lk.others:
            def nll(t, j=j):
                m[j] = 1.0 - math.exp(t)
                _, rest, s_full, _ = lk.rest(m, ratio, rows, ptr, sel)
                return -float(np.log(np.maximum(s_full + rest, 1e-300)).sum())

            lo, hi = math.log(M_FLOOR), math.log(max(1.0 - lk.u[j], 2 * M_FLOOR))
            res = minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
            # m = 1 unless a likelihood-ratio test rejects it (as for the joint fields)
            t = float(res.x) if nll(float(res.x)) < nll(lo) - SNAP_LOGLIK else lo
            m[j] = 1.0 - math.exp(t)
        info["rounds"] += 1
    return m, info


def link_joint(ext, aux, scenario, truth, seed, pi, limits, pairs=None, info=None) -> IntruderResult:
    """One linkage with the joint-frequency model (docs/methods.md#joint-frequencies), scored.

    ``limits`` is ``(max_pairs, memory_budget)``. ``pairs`` (None: this engine's blocking and
    comparisons) is a function ``(fields, passes, held) -> (ptr, pe, gamma, per_pass)`` giving
    the candidate pairs grouped by target (CSR ``ptr``, extract rows ``pe``, in the order of
    :func:`idrisk.intruder.blocking.candidate_pairs`), their agreement per field (``gamma``,
    int8 ``(fields, pairs)``: 1, 0, -1 missing) and the pairs each scenario pass added: the
    Splink engine passes Splink's. ``info`` is merged into ``result.em``. The estimators, the
    normalisation and the scoring are the same whoever made the pairs.
    """
    rng = np.random.default_rng(seed)
    lk = _Linkage(ext, aux, scenario, limits, rng, pairs)
    fields, n_a = lk.fields, lk.n_a
    prior = membership_prior(scenario)
    ratio = nonmember_ratio(prior)
    if ratio > 0:
        lk.joint.prepare_nonmembers()
    sample = np.sort(rng.choice(n_a, size=min(n_a, em_sample_size(ratio, lk.joint.k)), replace=False))
    m = np.full(len(fields), M_START)
    m, joint_info = fit_joint_m(lk.joint, sample, m, ratio)
    lk.refresh_offsets()
    m, other_info = _fit_others(lk, m, ratio, sample)
    if lk.others and lk.joint.k:
        m, joint_info = fit_joint_m(lk.joint, sample, m, ratio)
        lk.refresh_offsets()
    rows = np.arange(n_a)
    W, rest, _, (s_cand, S, D) = lk.rest(m, ratio, rows, lk.ptr, None)
    Ws, ref = _shifted(W, rest, lk.pa)
    tie_draw = rng.random(n_a)
    best, prob, n_tied, n_cand, n_full, full_e = K.score_targets(lk.ptr, lk.pe, Ws, lk.gamma, float(ref),
                                                                 tie_draw, TIE_TOL)
    true_in = K.true_candidate(lk.ptr, lk.pe, truth)
    n1, n2 = class_size_counts(ext, scenario.quasi_identifiers)
    member = np.where(D > 0, S / np.where(D > 0, D, 1.0), 0.0)
    em_info = {
        "engine": "idrisk", "model": "joint frequencies",
        "m": {f.name: float(x) for f, x in zip(fields, m)},
        "u": {f.name: float(x) for f, x in zip(fields, lk.u)},
        "joint_fields": [fields[j].name for j in lk.joint.cols],
        "error_mix": {fields[j].name: float(x) for j, x in zip(lk.joint.cols, lk.joint.mix)},
        "estimation": {"joint": joint_info, "other_fields": other_info, "targets": int(sample.shape[0]),
                       "against": "the whole extract"},
        "nonmember": {"ratio": float(ratio), "model": "Robbins on every subset of the joint fields"},
        "passes": [list(p) for p in lk.passes], **(info or {}),
        "blocking_recall": {"mean_recall": float(np.sum(np.where(S > 0, s_cand / np.where(S > 0, S, 1.0), 0.0)
                                                        * member) / max(float(member.sum()), 1e-300)),
                            "estimated_on": "every target, from its mass over the whole extract"},
    }
    return score_claims(best=best, prob=prob, truth=truth, n_full=n_full, full_e=full_e, n_cand=n_cand,
                        true_in_candidates=true_in, scenario=scenario, seed=seed, n_extract=lk.n_e,
                        n_pairs=int(lk.pe.shape[0]), pairs_per_pass=lk.per_pass, n1=n1, n2=n2, pi=pi,
                        membership_prior=prior, em=em_info, fields=fields)
