"""Blocking recall: the probability that blocking keeps a target's own record.

docs/methods.md#blocking-recall. Both engines (:mod:`.numba_engine`, :mod:`.splink_engine`)
add the likelihood-ratio mass of the records blocking missed to each target's
normalisation, computed here from per-target candidate counts and weight sums.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["blocking_recall", "recall_summary", "pass_masks", "capture", "log2_block_sums",
           "MAX_EXACT_PASSES"]

#: at most this many blocking passes are combined exactly (inclusion-exclusion); beyond, the
#: passes are taken as independent
MAX_EXACT_PASSES = 10


def pass_masks(fields, passes, n_a):
    """Per target, a bit mask of the passes it can enter (its keys of the pass are all known)."""
    byname = {f.name: f for f in fields}
    mask = np.zeros(n_a, dtype=np.int64)
    for i, p in enumerate(passes):
        ok = np.ones(n_a, dtype=np.bool_)
        for v in p:
            ok &= byname[v].codes_a >= 0
        mask |= ok.astype(np.int64) << i
    return mask


def capture(mask: int, pass_sets, g) -> float:
    """P(a target's own record agrees, with known values, on every field of at least one pass of ``mask``).

    ``g[v]`` is the probability for one field (``m_v`` times the extract's share of known
    values); fields are independent given a match (the Fellegi-Sunter model), passes are
    not (they share fields), so the union is taken by inclusion-exclusion.
    """
    idx = [i for i in range(len(pass_sets)) if mask >> i & 1]
    if not idx:
        return 0.0
    if len(idx) > MAX_EXACT_PASSES:
        miss = 1.0
        for i in idx:
            miss *= 1.0 - float(np.prod([g[v] for v in pass_sets[i]]))
        return 1.0 - miss
    tot = 0.0
    for r in range(1, len(idx) + 1):
        for sub in itertools.combinations(idx, r):
            vs = set().union(*(pass_sets[i] for i in sub))
            tot += (-1) ** (r + 1) * float(np.prod([g[v] for v in vs]))
    return min(max(tot, 0.0), 1.0)


def log2_block_sums(ptr, W):
    """``log2 sum_b 2^W_ab`` over each target's candidates (``-inf`` without candidates)."""
    n_a = ptr.shape[0] - 1
    out = np.full(n_a, -np.inf)
    has = np.flatnonzero(np.diff(ptr) > 0)
    if has.size:
        st = ptr[has]
        wmax = np.maximum.reduceat(W, st)
        rep = np.repeat(wmax, ptr[has + 1] - st)
        out[has] = wmax + np.log2(np.add.reduceat(np.exp2(W - rep), st))
    return out


def recall_summary(fields, scenario, n_a, always, rho, c) -> dict:
    """Aggregate report of the blocking-recall estimate (both engines put it in ``em``)."""
    elig = pass_masks(fields, scenario.blocking, n_a) > 0
    return {
        "fields_in_every_pass": [fields[j].name for j in always],
        "rho": float(rho),
        "mean_recall": float((rho * c[elig]).mean()) if elig.any() else None,
        "targets_with_no_usable_pass": int((~elig).sum()),
    }


def blocking_recall(fields, passes, m, ptr, W, n_e, nonmember, *, n_cand=None, log2_sums=None):
    """The weight of "the target's record is in the extract but not among its candidates".

    Block-normalising over the candidates alone assumes that blocking never misses the
    target's own record. It does whenever a blocking field is wrong or jittered, and then
    the best wrong candidate is given the probability of the missed true record (the
    demo's nosy neighbour: stated 0.9+, 45% correct). Under the Fellegi-Sunter model the
    likelihood ratios of the extract's records that are *not* candidates sum to about
    ``n* (1 - r_a)`` (``E_U[2^W] = P_M(region)`` over non-matches), where ``r_a`` is the
    probability that a match is a candidate, so with a uniform prior over the extract

        ``P(b | a) = 2^W_ab / (sum_{b' candidate} 2^W_ab' + n* (1 - r_a) + (1 - pi) n / pi)``

    (the last term only without response knowledge, as before). ``n*`` counts the extract
    records with known values on the fields of every pass (the target's own record is one
    of them: the intruder's values derive from it), and the term is 0 for a target whose
    candidates are all of them. ``r_a`` is the union, over the passes target ``a`` can
    enter (its keys of the pass known), of ``prod_v m_v``, by inclusion-exclusion. The m
    of fields on which *every* pass blocks cannot be estimated from the candidate pairs
    (they all agree there); the probability ``rho`` that a match agrees on all of them is
    estimated by maximum likelihood over the targets, ``max_rho sum_a log(rho S_a +
    n* (1 - rho c_a) + NM)`` with ``S_a`` the target's candidate sum without those fields'
    ``m``: a concave problem, solved by bisection on its derivative, and each such field
    reports ``m = rho^(1/count)``. Under zero divergence every target finds its record and
    the derivative at ``rho = 1`` is ``>= 0`` (Cauchy-Schwarz over the classes), so
    ``rho = 1``, the added term is 0 and ``P = 1/f`` as before (docs/methods.md#intruder-scoring).
    For a field compared with a tolerance but blocked on equality ``m`` overstates the
    blocking agreement (the default blocking leaves such fields out).

    The candidates enter only through their count and ``log2 sum_b 2^W_ab`` per target:
    an engine that keeps its pairs elsewhere (the Splink engine) passes ``ptr=None, W=None``
    with ``n_cand`` and ``log2_sums`` (``-inf`` for no candidates) instead.

    Returns ``(rho, always, rest, c)``: ``always`` the indices of the fields in every pass,
    ``rest`` per target (``n* (1 - rho c_a)``, without the non-member term) and ``c`` per
    target (``r_a`` without the ``rho`` factor).
    """
    names = [f.name for f in fields]
    k = len(fields)
    if ptr is not None:
        n_cand = np.diff(ptr)
        log2_sums = None if W is None else log2_block_sums(ptr, W)
    n_cand = np.asarray(n_cand)
    n_a = n_cand.shape[0]
    always = [j for j in range(k) if all(names[j] in p for p in passes)]
    pass_sets = [{names.index(v) for v in p} for p in passes]
    g = np.where(np.isin(np.arange(k), always), 1.0, m)
    mask = pass_masks(fields, passes, n_a)
    uniq, inv = np.unique(mask, return_inverse=True)
    c = np.array([capture(int(x), pass_sets, g) for x in uniq])[inv.ravel()]
    # the target's own record has known values wherever the target does (the intruder's
    # values derive from it), so it is one of the records known on every always-field
    known = np.ones(n_e, dtype=np.bool_)
    for j in always:
        known &= fields[j].codes_e >= 0
    n_known = int(known.sum()) or n_e
    # a target whose candidates are all those records leaves no record for a miss
    room = (n_cand < n_known).astype(np.float64)
    rho = 1.0
    elig = (mask > 0) & (room > 0)
    if always and elig.any():
        log2_m_always = float(np.sum(np.log2(m[always])))
        s0 = np.exp2(np.minimum(np.asarray(log2_sums)[elig] - log2_m_always, 1000.0))
        ce = c[elig]

        def slope(r):
            with np.errstate(divide="ignore", invalid="ignore"):
                num = s0 - n_known * ce
                den = r * s0 + n_known * (1.0 - r * ce) + nonmember
                t = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num < 0, -np.inf, 0.0))
            return float(t.sum())

        if slope(1.0) < -1e-9 * elig.sum():
            lo, hi = 0.0, 1.0
            for _ in range(80):
                mid = 0.5 * (lo + hi)
                if slope(mid) > 0:
                    lo = mid
                else:
                    hi = mid
            rho = max(0.5 * (lo + hi), 1e-12)
    rest = n_known * room * np.clip(1.0 - rho * c, 0.0, 1.0)
    return rho, always, rest, c

