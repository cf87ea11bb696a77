"""The numba linking engine (``engine="idrisk"``), the default of :func:`simulate_intruder`.

docs/methods.md#fellegi-sunter: blocking passes (union) -> field comparisons -> m by EM
(:mod:`.estimation`, docs/methods.md#em-estimation) -> Fellegi-Sunter weights with
extract-wide, term-frequency-adjusted u (:mod:`.weights`, docs/methods.md#term-frequency)
-> block-normalised probability of each candidate, with the mass of the records blocking
missed (:mod:`.recall`, docs/methods.md#blocking-recall) -> a claim per target -> scoring
against the hidden truth (docs/methods.md#intruder-scoring).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numba
import numpy as np

from .._kernels import linkage as K
from .blocking import candidate_pairs
from .compare import compare_pairs, prepare_fields
from .engine import M_CLIP, TIE_TOL, class_size_counts, log2_nonmember, membership_prior
from .estimation import estimate_m, frequency_u, refine_m
from .recall import blocking_recall, recall_summary
from .score import IntruderResult, score_claims
from .weights import weight_tables

__all__ = ["NumbaEngine", "threads_for", "PARALLEL_MIN"]

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
            return _link(extract, auxiliary, scenario, truth, seed, sampling_fraction, (max_pairs, memory_budget))


class _Model:
    """The pairs, comparisons and u of one linkage, and the weights for a given m."""

    def __init__(self, ext, aux, scenario, limits, rng):
        n_e, n_a = len(ext), len(aux)
        self.scenario = scenario
        self.n_e = n_e
        self.fields = fields = prepare_fields(ext, aux, scenario)
        self.ptr, self.pe, _, self.per_pass = candidate_pairs(fields, scenario.blocking, n_e, n_a,
                                                               max_pairs=limits[0], memory_budget=limits[1])
        self.pa = K.expand_targets(self.ptr)
        self.gamma = compare_pairs(fields, self.pe, self.pa)
        self.u, self.tf_tabs = frequency_u(fields, rng, n_e, n_a)
        self.codes_e_t = np.ascontiguousarray(np.vstack([f.codes_e for f in fields]).T, dtype=np.int32)
        self.codes_e = np.ascontiguousarray(self.codes_e_t.T)
        self.codes_a = np.ascontiguousarray(np.vstack([f.codes_a for f in fields]), dtype=np.int32)

    def weights(self, m):
        agree_tab, offs, use_tf, dis_w = weight_tables(self.fields, self.scenario, m, self.u, self.tf_tabs, self.n_e)
        return K.pair_weights(self.gamma, self.pe, self.codes_e_t, agree_tab, offs, use_tf, dis_w)

    def with_recall(self, m, nonmember):
        """m with the every-pass fields set from ``rho``, and each target's missed-record term."""
        rho, always, rest, c = blocking_recall(self.fields, self.scenario.blocking, m, self.ptr, self.weights(m),
                                               self.n_e, nonmember)
        m = m.copy()
        if always:
            m[always] = np.clip(rho ** (1.0 / len(always)), M_CLIP, 1 - M_CLIP)
        total = rest + nonmember
        if not (total > 0).any():
            return m, rho, always, c, -np.inf, None
        top = float(total.max())
        ref = math.log2(top)
        # the kernels take one scalar term: carry each target's own term as a shift of its weights
        shift = np.log2(np.maximum(total, top * 2.0 ** -900)) - ref
        return m, rho, always, c, ref, shift


def _link(ext, aux, scenario, truth, seed, pi, limits) -> IntruderResult:
    n_e, n_a = len(ext), len(aux)
    rng = np.random.default_rng(seed)
    mod = _Model(ext, aux, scenario, limits, rng)
    fields = mod.fields
    m, em_info = estimate_m(fields, scenario.blocking, mod.gamma, mod.pe, mod.pa, mod.ptr, mod.codes_e,
                            mod.codes_a)
    prior = membership_prior(scenario)
    log2_rest = log2_nonmember(prior, n_e)
    nonmember = 0.0 if log2_rest == -np.inf else float(2.0 ** log2_rest)
    m, rho, always, c, log2_ref, shift = mod.with_recall(m, nonmember)
    m, refine_info = refine_m(fields, scenario, m, mod.u, mod.tf_tabs, mod.ptr, mod.pe, mod.gamma, mod.codes_e_t,
                              log2_ref, rng, shift)
    m, rho, always, c, log2_ref, shift = mod.with_recall(m, nonmember)
    em_info["m"] = {f.name: float(x) for f, x in zip(fields, m)}
    em_info["u"] = {f.name: float(x) for f, x in zip(fields, mod.u)}  # extract-wide u used for scoring
    em_info["refinement"] = refine_info
    em_info["blocking_recall"] = recall_summary(fields, scenario, n_a, always, rho, c)
    em_info["engine"] = "idrisk"
    W = mod.weights(m)
    if shift is not None:
        W = W - shift[mod.pa]
    tie_draw = rng.random(n_a)
    best, prob, n_tied, n_cand, n_full, full_e = K.score_targets(mod.ptr, mod.pe, W, mod.gamma, float(log2_ref),
                                                                 tie_draw, TIE_TOL)
    # blocking recall: is the true record among the target's candidates?
    true_in = K.true_candidate(mod.ptr, mod.pe, truth)
    n1, n2 = class_size_counts(ext, scenario.quasi_identifiers)
    return score_claims(best=best, prob=prob, truth=truth, n_full=n_full, full_e=full_e, n_cand=n_cand,
                        true_in_candidates=true_in, scenario=scenario, seed=seed, n_extract=n_e,
                        n_pairs=int(mod.pe.shape[0]), pairs_per_pass=mod.per_pass, n1=n1, n2=n2, pi=pi,
                        membership_prior=prior, em=em_info)
