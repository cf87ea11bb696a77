"""m and u estimation for the simulated intruder.

docs/methods.md#em-estimation, docs/methods.md#term-frequency: u from value shares (exact
fields) or random pairs, m by a constrained EM per blocking pass from several data-driven
starts, then refined by an EM whose E-step is the scored one-match-per-target posterior.
"""

from __future__ import annotations

import numpy as np

from .._kernels import linkage as K
from .compare import compare_field
from .engine import DEFAULT_M, M_CLIP
from .fellegi_sunter import fit_em_patterns, patterns_of
from .weights import weight_tables

__all__ = ["frequency_u", "em_starts", "fit_pass", "estimate_m", "refine_m", "U_SAMPLE"]

#: random pairs used to estimate u of a tolerance or string comparison
U_SAMPLE = 200_000
#: targets sampled for the one-match-per-target refinement of m, and its iteration cap
REFINE_TARGETS = 1500
REFINE_MAX_ITER = 100
REFINE_TOL = 1e-4


def frequency_u(fields, rng, n_e, n_a):
    """u_v for scoring: exact fields from value shares, other comparisons by random pairs."""
    u = np.empty(len(fields))
    tf_tabs = []
    for j, f in enumerate(fields):
        nl = max(f.n_levels, 1)
        ce = f.codes_e[f.codes_e >= 0]
        ca = f.codes_a[f.codes_a >= 0]
        pe = np.bincount(ce, minlength=nl) / max(ce.shape[0], 1)
        tf_tabs.append(pe)
        if f.kind == "exact":
            pa = np.bincount(ca, minlength=nl) / max(ca.shape[0], 1)
            u[j] = float(pe @ pa)
        else:
            ns = int(min(U_SAMPLE, n_e * n_a))
            se = rng.integers(0, n_e, size=ns).astype(np.int64)
            sa = rng.integers(0, n_a, size=ns).astype(np.int64)
            g = compare_field(f, se, sa)
            ok = g >= 0
            u[j] = float((g[ok] == 1).mean()) if ok.any() else 0.5
    # a field on which random pairs never (or always) agree still needs a finite weight
    lo = 1.0 / (4.0 * max(n_e, 1) * max(n_a, 1))
    return np.clip(u, lo, 1 - 1e-9), tf_tabs


def em_starts(u0):
    """Data-driven EM starts for one pass: ``m0`` per start, from the pass's agreement shares.

    u starts at the agreement share of all the pass's pairs (nearly all non-matches); m at
    ``max(0.9, u + 0.1)`` (the original start), near 1 (matches agree on nearly everything)
    and half-way between u and 1 (the least committal start that still has ``m > u``).
    """
    return {
        "u+0.1": np.maximum(0.9, np.minimum(u0 + 0.1, 0.99)),
        "0.99": np.full(u0.shape, 0.99),
        "(1+u)/2": (1.0 + u0) / 2.0,
    }


def fit_pass(pats, counts, lam0):
    """Constrained (m >= u) EM from several data-driven starts; the highest likelihood wins.

    Without the constraint the fixed-lambda mixture can prefer a class of *similar
    non-matches* to the matches: in LA x sex x year blocks, pairs that disagree on postcode
    district but agree on ethnicity form a compact group of about the matches' size, and
    "m(postcode) ~ 0 < u(postcode)" then fits the counts better than the true matches do
    (measured on the synthetic population: log-likelihood -35955 for that swapped solution vs -35990 for the
    constrained one). Such a solution says that agreeing on a field is evidence *against*
    a match, which is never what an intruder's key variable means, so it is excluded by
    the model rather than by a start. Returns the chosen fit and per-start diagnostics.
    """
    ok = (pats >= 0) * counts[:, None]
    agree = ((pats == 1) * counts[:, None]).sum(0) / np.maximum(ok.sum(0), 1)
    u0 = np.clip(agree, 1e-4, 0.8)
    best, best_name, starts = None, None, []
    for name, m0 in em_starts(u0).items():
        em = fit_em_patterns(pats, counts, m0=m0, u0=u0, lam0=lam0, fix_u=False, fix_lam=True,
                             max_iter=500, atol=1e-6, monotone=True)
        starts.append({"start": name, "loglik": em.loglik, "n_iter": em.n_iter, "converged": em.converged})
        # a later start must beat the incumbent clearly: the likelihood can be flat along a ridge
        if best is None or em.loglik > best.loglik + 1e-7 * abs(best.loglik):
            best, best_name = em, name
    free = fit_em_patterns(pats, counts, m0=em_starts(u0)["u+0.1"], u0=u0, lam0=lam0, fix_u=False,
                           fix_lam=True, max_iter=500, atol=1e-6, monotone=False)
    return best, best_name, starts, free


def estimate_m(fields, passes, gamma, pe, pa, ptr, codes_e, codes_a):
    """m_v by EM, one fit per blocking pass with that pass's variables left out.

    The pairs of a pass (every candidate agreeing on its blocking keys, whichever pass
    found it first) agree on its blocking variables by construction, so those fields
    carry no information there (Splink trains the same way). On the other fields, m and
    the within-block u are fitted by EM with the match share fixed at one match per
    target (``lambda = targets / pairs``): with rare matches and fields correlated among
    non-matches (postcode and ethnicity within an LA), a free lambda lets EM settle on a
    "similar non-matches" class instead of the matches. The fit is constrained to
    ``m_v >= u_v`` and restarted from several data-driven starts, keeping the highest
    likelihood (:func:`fit_pass`). A field's m is the pair-weighted mean over the
    passes that could estimate it, leaving out passes where the constraint binds
    (``m_v = u_v``: that pass says nothing about m_v) unless every pass binds; a field
    that blocks every pass keeps ``DEFAULT_M``. The within-block u only serves to fit m:
    scoring uses the extract-wide u.
    """
    k = len(fields)
    n_a = ptr.shape[0] - 1
    m_sum = np.zeros(k)
    m_w = np.zeros(k)
    b_sum = np.zeros(k)
    b_w = np.zeros(k)
    runs = []
    names = [f.name for f in fields]
    for p, pvars in enumerate(passes):
        if len(passes) == 1:
            use = None
            n_sel = int(pe.shape[0])
            n_t = int((np.diff(ptr) > 0).sum())
        else:
            rows = np.array([names.index(v) for v in pvars], dtype=np.int64)
            use = K.in_pass(codes_e, codes_a, pe, pa, rows)
            n_sel = int(use.sum())
            n_t = int(np.count_nonzero(np.bincount(pa[use], minlength=n_a))) if n_sel else 0
        free = [j for j, f in enumerate(fields) if f.name not in pvars]
        if n_sel == 0 or not free:
            continue
        pats, counts = patterns_of(gamma, free, use)
        em, start, starts, unconstrained = fit_pass(pats, counts, min(0.5, n_t / n_sel))
        binding = []
        for i, j in enumerate(free):
            if em.m[i] <= em.u[i] + 1e-6:
                binding.append(names[j])
                b_sum[j] += em.m[i] * n_sel
                b_w[j] += n_sel
            else:
                m_sum[j] += em.m[i] * n_sel
                m_w[j] += n_sel
        free_names = [names[j] for j in free]
        runs.append({
            "pass": list(pvars), "n_pairs": n_sel, **em.to_dict(free_names),
            "start": start, "starts": starts, "constraint_binding": binding,
            "unconstrained_m_below_u": [n for n, a, b in zip(free_names, unconstrained.m, unconstrained.u) if a < b],
            "unconstrained_loglik": unconstrained.loglik,
        })
    only_bound = (m_w == 0) & (b_w > 0)
    m_sum = np.where(only_bound, b_sum, m_sum)
    m_w = np.where(only_bound, b_w, m_w)
    m = np.where(m_w > 0, m_sum / np.maximum(m_w, 1), DEFAULT_M)
    m = np.clip(m, M_CLIP, 1 - M_CLIP)
    info = {
        "m": {f.name: float(x) for f, x in zip(fields, m)},
        "m_fixed_default": [f.name for f, w in zip(fields, m_w) if w == 0],
        "constraint": "m >= u",
        "passes": runs,
    }
    return m, info


def refine_m(fields, scenario, m, u, tf_tabs, ptr, pe, gamma, codes_e_t, log2_rest, rng, shift=None):
    """Refine m by EM whose E-step is the one-match-per-target posterior (what is scored).

    The mixture EM of :func:`estimate_m` treats pairs as independent; when non-matches
    agree on correlated fields (same school, postcode and ethnicity) it pushes m of such
    fields towards 1, which makes one wrong value rule a true match out. Here the E-step
    is ``P(b | a)`` over each target's candidates (with the "not in the extract" term
    without response knowledge) and the M-step ``m_v = sum P [agree] / sum P [observed]``,
    on up to ``REFINE_TARGETS`` targets drawn with the seed, kept at ``m_v >= u_v`` (the
    extract-wide u used for scoring). Fields that block any pass keep their estimate
    (agreement on them is selected by the blocking). ``shift`` (per target, or None)
    is subtracted from the target's pair weights: it carries the target's own "true record
    outside the candidates" term (:func:`idrisk.intruder.recall.blocking_recall`) into the scalar ``log2_rest``.
    """
    blocked = {v for p in scenario.blocking for v in p}
    free = np.array([f.name not in blocked for f in fields])
    info = {"n_targets": 0, "n_iter": 0, "converged": False, "constraint": "m >= u", "constraint_binding": []}
    if not free.any():
        return m, info
    n_a = ptr.shape[0] - 1
    has = np.flatnonzero(np.diff(ptr) > 0)
    if has.size == 0:
        return m, info
    take = np.sort(rng.choice(has, size=min(has.size, REFINE_TARGETS), replace=False))
    lens = ptr[take + 1] - ptr[take]
    sub_ptr = np.zeros(take.size + 1, dtype=np.int64)
    np.cumsum(lens, out=sub_ptr[1:])
    idx = np.concatenate([np.arange(ptr[a], ptr[a + 1]) for a in take]) if take.size < n_a else np.arange(pe.shape[0])
    sub_pe = np.ascontiguousarray(pe[idx])
    sub_gamma = np.ascontiguousarray(gamma[:, idx])
    sub_shift = None if shift is None else np.repeat(shift[take], lens)
    m = m.copy()
    for it in range(1, REFINE_MAX_ITER + 1):
        agree_tab, offs, use_tf, dis_w = weight_tables(fields, scenario, m, u, tf_tabs, codes_e_t.shape[0])
        W = K.pair_weights(sub_gamma, sub_pe, codes_e_t, agree_tab, offs, use_tf, dis_w)
        if sub_shift is not None:
            W = W - sub_shift
        agree, seen = K.posterior_agreement(sub_ptr, W, sub_gamma, float(log2_rest))
        new = np.where(free & (seen > 0), agree / np.maximum(seen, 1e-300), m)
        # the same constraint as the mixture EM: agreement is never evidence against a match
        new = np.clip(np.maximum(new, u), M_CLIP, 1 - M_CLIP)
        delta = float(np.abs(new - m).max())
        m = new
        info.update(n_targets=int(take.size), n_iter=it)
        if delta < REFINE_TOL:
            info["converged"] = True
            break
    info["constraint_binding"] = [f.name for f, fr, a, b in zip(fields, free, m, u) if fr and a <= b + 1e-12]
    return m, info

