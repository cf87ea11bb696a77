"""Record-linkage kernels for the simulated intruder (numba only: arrays in, arrays out).

Layout conventions
------------------
* ``E`` = extract (``n_e`` rows), ``A`` = auxiliary / intruder data (``n_a`` rows, the targets).
* Candidate pairs are stored *grouped by target*: ``ptr`` (int64, ``n_a + 1``) delimits the
  pairs of target ``a`` as ``ptr[a]:ptr[a+1]``; ``pe`` (int64) holds the extract row of each
  pair. Pair order inside a target is deterministic (pass order, then block order).
* Comparison vectors ``gamma`` are int8 of shape ``(k, n_pairs)``: 1 agree, 0 disagree,
  -1 missing on either side (the field then contributes nothing, Fellegi-Sunter convention).

Reference implementations live in ``tests/naive_intruder.py``; the kernels are tested
against them on random frames.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS

# --------------------------------------------------------------------------- blocking


@numba.njit(**NUMBA_OPTS)
def block_index(block_ids, n_blocks):
    """Counting sort of extract rows by block id.

    block_ids : int64 (n_e,), ``-1`` = row takes no part in this pass.
    Returns ``(starts int64 (n_blocks + 1,), order int64 (n_in,))`` so that the rows of
    block ``b`` are ``order[starts[b]:starts[b+1]]`` in increasing row order.
    """
    counts = np.zeros(n_blocks + 1, dtype=np.int64)
    for i in range(block_ids.shape[0]):
        b = block_ids[i]
        if b >= 0:
            counts[b + 1] += 1
    for b in range(n_blocks):
        counts[b + 1] += counts[b]
    order = np.empty(counts[n_blocks], dtype=np.int64)
    fill = counts[:n_blocks].copy()
    for i in range(block_ids.shape[0]):
        b = block_ids[i]
        if b >= 0:
            order[fill[b]] = i
            fill[b] += 1
    return counts, order


@numba.njit(**NUMBA_OPTS)
def _seen_in_earlier_pass(eb, ab, p, a, e):
    for q in range(p):
        bq = ab[q, a]
        if bq >= 0 and eb[q, e] == bq:
            return True
    return False


@numba.njit(**NUMBA_OPTS)
def count_pairs(eb, ab, starts, order, pass_off):
    """Number of distinct candidate pairs per target over the union of blocking passes.

    eb : int64 (P, n_e) and ab : int64 (P, n_a) block ids per pass (shared id space per
    pass, ``-1`` = excluded); ``starts``/``order`` are the per-pass :func:`block_index`
    outputs concatenated, pass ``p`` occupying ``starts[pass_off[p, 0]:...]`` and
    ``order[pass_off[p, 1]:...]``. A pair found by an earlier pass is not counted again.
    """
    n_pass, n_a = ab.shape
    out = np.zeros(n_a, dtype=np.int64)
    for a in range(n_a):
        c = 0
        for p in range(n_pass):
            b = ab[p, a]
            if b < 0:
                continue
            s0 = pass_off[p, 0]
            o0 = pass_off[p, 1]
            for j in range(starts[s0 + b], starts[s0 + b + 1]):
                e = order[o0 + j]
                if p == 0 or not _seen_in_earlier_pass(eb, ab, p, a, e):
                    c += 1
        out[a] = c
    return out


@numba.njit(**NUMBA_OPTS)
def fill_pairs(eb, ab, starts, order, pass_off, ptr):
    """Extract row and blocking pass of every candidate pair, grouped by target.

    See :func:`count_pairs`. Returns ``(pe int64, pp int8)``; ``pp`` is the first pass
    that found the pair.
    """
    n_pass, n_a = ab.shape
    pe = np.empty(ptr[n_a], dtype=np.int64)
    pp = np.empty(ptr[n_a], dtype=np.int8)
    for a in range(n_a):
        k = ptr[a]
        for p in range(n_pass):
            b = ab[p, a]
            if b < 0:
                continue
            s0 = pass_off[p, 0]
            o0 = pass_off[p, 1]
            for j in range(starts[s0 + b], starts[s0 + b + 1]):
                e = order[o0 + j]
                if p == 0 or not _seen_in_earlier_pass(eb, ab, p, a, e):
                    pe[k] = e
                    pp[k] = p
                    k += 1
    return pe, pp


@numba.njit(**NUMBA_OPTS)
def expand_targets(ptr):
    """Target id of every pair (inverse of the CSR pointer)."""
    n_a = ptr.shape[0] - 1
    pa = np.empty(ptr[n_a], dtype=np.int64)
    for a in range(n_a):
        for k in range(ptr[a], ptr[a + 1]):
            pa[k] = a
    return pa


# --------------------------------------------------------------------------- comparison


@numba.njit(**NUMBA_OPTS)
def compare_codes(code_e, code_a, pe, pa, out):
    """Exact agreement of integer codes (``-1`` = missing) into ``out`` (int8, n_pairs)."""
    for k in range(pe.shape[0]):
        x = code_e[pe[k]]
        y = code_a[pa[k]]
        if x < 0 or y < 0:
            out[k] = -1
        elif x == y:
            out[k] = 1
        else:
            out[k] = 0


@numba.njit(**NUMBA_OPTS)
def compare_numeric(val_e, val_a, pe, pa, tol, out):
    """Agreement ``|x - y| <= tol`` on float64 values (NaN = missing) into ``out``."""
    for k in range(pe.shape[0]):
        x = val_e[pe[k]]
        y = val_a[pa[k]]
        if np.isnan(x) or np.isnan(y):
            out[k] = -1
        elif abs(x - y) <= tol:
            out[k] = 1
        else:
            out[k] = 0


@numba.njit(**NUMBA_OPTS)
def pair_code_keys(code_e, code_a, pe, pa, base):
    """``code_e * base + code_a`` per pair, ``-1`` when either side is missing."""
    out = np.empty(pe.shape[0], dtype=np.int64)
    for k in range(pe.shape[0]):
        x = code_e[pe[k]]
        y = code_a[pa[k]]
        if x < 0 or y < 0:
            out[k] = -1
        else:
            out[k] = np.int64(x) * base + y
    return out


# --------------------------------------------------------------------------- EM


@numba.njit(**NUMBA_OPTS)
def pattern_ids(gamma):
    """Base-3 pattern id of every comparison vector (digit 0 missing, 1 disagree, 2 agree)."""
    k, n = gamma.shape
    out = np.zeros(n, dtype=np.int64)
    for i in range(n):
        pid = np.int64(0)
        for v in range(k):
            pid = pid * 3 + (gamma[v, i] + 1)
        out[i] = pid
    return out


@numba.njit(**NUMBA_OPTS)
def pattern_counts(gamma, rows, use):
    """Counts of base-3 patterns over fields ``rows`` of the pairs flagged in ``use``.

    gamma int8 (k, n); rows int64 (r,) field indices; use bool (n,) or empty for all pairs.
    Returns float64 counts of length ``3**r`` (digit 0 missing, 1 disagree, 2 agree; first
    field most significant), without materialising a per-pair array.
    """
    r = rows.shape[0]
    n = gamma.shape[1]
    size = 1
    for _ in range(r):
        size *= 3
    counts = np.zeros(size)
    all_pairs = use.shape[0] == 0
    for i in range(n):
        if not all_pairs and not use[i]:
            continue
        pid = 0
        for j in range(r):
            pid = pid * 3 + (gamma[rows[j], i] + 1)
        counts[pid] += 1.0
    return counts


@numba.njit(**NUMBA_OPTS)
def true_candidate(ptr, pe, truth):
    """For each target, is its true extract row (``truth[a] >= 0``) among its candidates?"""
    n_a = ptr.shape[0] - 1
    out = np.zeros(n_a, dtype=np.bool_)
    for a in range(n_a):
        t = truth[a]
        if t < 0:
            continue
        for j in range(ptr[a], ptr[a + 1]):
            if pe[j] == t:
                out[a] = True
                break
    return out


@numba.njit(**NUMBA_OPTS)
def in_pass(codes_e, codes_a, pe, pa, rows):
    """Pairs agreeing with no missing value on every field in ``rows`` (codes: (k, n) int32)."""
    n = pe.shape[0]
    out = np.ones(n, dtype=np.bool_)
    for i in range(n):
        for j in range(rows.shape[0]):
            v = rows[j]
            x = codes_e[v, pe[i]]
            if x < 0 or x != codes_a[v, pa[i]]:
                out[i] = False
                break
    return out


@numba.njit(**NUMBA_OPTS)
def em_fit(patterns, counts, m0, u0, lam0, max_iter, atol, fix_u, fix_lam):
    """Unconstrained Fellegi-Sunter EM (recordlinkage's ECM); see :func:`em_fit_monotone`."""
    return em_fit_monotone(patterns, counts, m0, u0, lam0, max_iter, atol, fix_u, fix_lam, False)


@numba.njit(**NUMBA_OPTS)
def _pattern_logs(pattern, m, u, lam):
    """``(log lam P(g | M), log (1 - lam) P(g | U))`` of one comparison pattern (-1 = missing)."""
    lm = np.log(lam)
    lu = np.log(1.0 - lam)
    for v in range(pattern.shape[0]):
        gv = pattern[v]
        if gv == 1:
            lm += np.log(m[v])
            lu += np.log(u[v])
        elif gv == 0:
            lm += np.log(1.0 - m[v])
            lu += np.log(1.0 - u[v])
    return lm, lu


@numba.njit(**NUMBA_OPTS)
def em_loglik(patterns, counts, m, u, lam):
    """Observed-data log-likelihood ``sum_i c_i log(lam P(g_i | M) + (1 - lam) P(g_i | U))``."""
    ll = 0.0
    for i in range(patterns.shape[0]):
        lm, lu = _pattern_logs(patterns[i], m, u, lam)
        mx = max(lm, lu)
        ll += counts[i] * (mx + np.log(np.exp(lm - mx) + np.exp(lu - mx)))
    return ll


@numba.njit(**NUMBA_OPTS)
def em_fit_monotone(patterns, counts, m0, u0, lam0, max_iter, atol, fix_u, fix_lam, monotone):
    """Fellegi-Sunter EM over distinct comparison patterns (binary levels, missing ignored).

    patterns : int8 (n_pat, k) with 1 / 0 / -1; counts : float64 (n_pat,) pair counts.
    E-step ``g = lam*prod m^g(1-m)^(1-g) / (lam*prod(...m...) + (1-lam)*prod(...u...))``
    (a missing field contributes a factor 1 to both); M-step
    ``m_v = sum g [gamma_v = 1] / sum g [gamma_v != -1]``, the same with ``1 - g`` for
    ``u_v`` (skipped when ``fix_u``) and ``lam = sum g / n_pairs`` (skipped when ``fix_lam``). Stops when every
    parameter moves by at most ``atol`` (recordlinkage's ECM criterion).

    ``monotone``: maximise under ``m_v >= u_v`` for every field (agreement is never
    evidence *against* a match). The expected complete-data log-likelihood separates by
    field and is concave in ``(m_v, u_v)``; when its unconstrained maximiser has
    ``m_v < u_v`` the constrained one lies on ``m_v = u_v`` at the pooled agreement share
    ``(a_m + a_u) / (n_m + n_u)`` (with ``fix_u``: ``m_v = u_v``). Each step still
    maximises Q over the constraint set, so the likelihood does not decrease (a
    generalised EM).

    Returns ``(m, u, lam, n_iter, converged, g)`` with ``g`` the final per-pattern
    posterior match probability.
    """
    n_pat, k = patterns.shape
    m = m0.copy()
    u = u0.copy()
    lam = lam0
    total = 0.0
    for i in range(n_pat):
        total += counts[i]
    g = np.zeros(n_pat)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        # E-step
        for i in range(n_pat):
            lm, lu = _pattern_logs(patterns[i], m, u, lam)
            mx = max(lm, lu)
            g[i] = np.exp(lm - mx) / (np.exp(lm - mx) + np.exp(lu - mx))
        # M-step
        sg = 0.0
        for i in range(n_pat):
            sg += g[i] * counts[i]
        new_lam = sg / total
        new_m = np.empty(k)
        new_u = np.empty(k)
        for v in range(k):
            am = 0.0
            nm = 0.0
            au = 0.0
            nu = 0.0
            for i in range(n_pat):
                gv = patterns[i, v]
                if gv < 0:
                    continue
                w = g[i] * counts[i]
                wu = (1.0 - g[i]) * counts[i]
                nm += w
                nu += wu
                if gv == 1:
                    am += w
                    au += wu
            new_m[v] = am / nm if nm > 0 else m[v]
            new_u[v] = au / nu if nu > 0 else u[v]
            if monotone and nm > 0:
                if fix_u:
                    if new_m[v] < u[v]:
                        new_m[v] = u[v]
                elif nu > 0 and new_m[v] < new_u[v]:
                    pooled = (am + au) / (nm + nu)
                    new_m[v] = pooled
                    new_u[v] = pooled
        # keep parameters inside (0, 1) so logs stay finite
        for v in range(k):
            new_m[v] = min(max(new_m[v], 1e-9), 1.0 - 1e-9)
            if fix_u:
                new_u[v] = u[v]
            else:
                new_u[v] = min(max(new_u[v], 1e-9), 1.0 - 1e-9)
        new_lam = lam if fix_lam else min(max(new_lam, 1e-12), 1.0 - 1e-12)
        delta = abs(new_lam - lam)
        for v in range(k):
            delta = max(delta, abs(new_m[v] - m[v]))
            delta = max(delta, abs(new_u[v] - u[v]))
        m = new_m
        u = new_u
        lam = new_lam
        if delta <= atol:
            converged = True
            break
    return m, u, lam, it, converged, g


# --------------------------------------------------------------------------- scoring


@numba.njit(**NUMBA_OPTS)
def pair_weights(gamma, pe, codes_e, agree_tab, tab_off, use_tf, dis_w):
    """Total Fellegi-Sunter weight ``W = sum_v w_v`` (log2 Bayes factor) of every pair.

    Agreement on field ``v``: ``agree_tab[tab_off[v] + code]`` when ``use_tf[v]`` (the
    term-frequency weight ``log2(m_v / p_code)`` of the extract record's value), else
    ``agree_tab[tab_off[v]]``; disagreement ``dis_w[v]``; missing 0.
    codes_e : int32 (n_e, k) codes used for the term-frequency lookup (one record's codes
    contiguous, so a pair costs one cache line).
    """
    k, n = gamma.shape
    out = np.zeros(n)
    for i in range(n):
        w = 0.0
        e = pe[i]
        for v in range(k):
            gv = gamma[v, i]
            if gv == 1:
                if use_tf[v]:
                    w += agree_tab[tab_off[v] + codes_e[e, v]]
                else:
                    w += agree_tab[tab_off[v]]
            elif gv == 0:
                w += dis_w[v]
        out[i] = w
    return out


@numba.njit(**NUMBA_OPTS)
def _block_normaliser(weights, s, t, log2_rest):
    """``(wmax, denom)`` of one target's candidates ``weights[s:t]`` (non-empty): the largest
    weight and ``sum_j 2^(w_j - wmax) + 2^(log2_rest - wmax)``, so that
    ``P(b | a) = 2^(w_b - wmax) / denom`` without overflow."""
    wmax = -np.inf
    for j in range(s, t):
        if weights[j] > wmax:
            wmax = weights[j]
    denom = 0.0
    for j in range(s, t):
        denom += 2.0 ** (weights[j] - wmax)
    if log2_rest > -np.inf:
        denom += 2.0 ** (log2_rest - wmax)
    return wmax, denom


@numba.njit(**NUMBA_OPTS)
def score_targets(ptr, pe, weights, gamma, log2_rest, tie_draw, rel_tol):
    """Block-normalised match probabilities, top candidate and claim inputs per target.

    For target ``a`` with candidates ``b``: ``P(b | a) = 2^W_ab / (sum_b' 2^W_ab' + R)``,
    where ``R = 2^log2_rest`` is the weight of "the target is not in the extract"
    (``R = 0``, i.e. ``log2_rest = -inf``, under response knowledge). The top candidate is
    drawn uniformly among those whose probability is within ``rel_tol`` (relative) of the
    maximum, using ``tie_draw[a]`` in [0, 1).

    Returns per target: ``best`` (extract row, -1 without candidates), ``prob`` (its
    P), ``n_tied``, ``n_cand``, ``n_full`` (candidates agreeing on every field, missing
    counting as no agreement) and ``full_e`` (the extract row of the last such candidate).
    """
    n_a = ptr.shape[0] - 1
    k = gamma.shape[0]
    best = np.full(n_a, -1, dtype=np.int64)
    prob = np.zeros(n_a)
    n_tied = np.zeros(n_a, dtype=np.int64)
    n_cand = np.zeros(n_a, dtype=np.int64)
    n_full = np.zeros(n_a, dtype=np.int64)
    full_e = np.full(n_a, -1, dtype=np.int64)
    for a in range(n_a):
        s = ptr[a]
        t = ptr[a + 1]
        n_cand[a] = t - s
        nf = 0
        for j in range(s, t):
            ok = True
            for v in range(k):
                if gamma[v, j] != 1:
                    ok = False
                    break
            if ok:
                nf += 1
                full_e[a] = pe[j]
        n_full[a] = nf
        if t == s:
            continue
        wmax, denom = _block_normaliser(weights, s, t, log2_rest)
        pmax = 1.0 / denom
        # ties: weights within a relative tolerance of the maximum
        cut = wmax - rel_tol * max(1.0, abs(wmax))
        nt = 0
        for j in range(s, t):
            if weights[j] >= cut:
                nt += 1
        pick = int(tie_draw[a] * nt)
        if pick >= nt:
            pick = nt - 1
        c = 0
        for j in range(s, t):
            if weights[j] >= cut:
                if c == pick:
                    best[a] = pe[j]
                    break
                c += 1
        prob[a] = pmax
        n_tied[a] = nt
    return best, prob, n_tied, n_cand, n_full, full_e


@numba.njit(**NUMBA_OPTS)
def posterior_agreement(ptr, weights, gamma, log2_rest):
    """Posterior-weighted agreement per field under block-normalised probabilities.

    With ``P(b | a)`` as in :func:`score_targets`, returns ``(agree, seen)`` float64 (k,):
    ``agree[v] = sum_a sum_b P(b | a) [gamma_v = 1]`` and ``seen[v]`` the same over
    ``gamma_v >= 0``: the E-step sums of an EM whose E-step is the one-match-per-target
    posterior (the M-step is ``m_v = agree[v] / seen[v]``).
    """
    n_a = ptr.shape[0] - 1
    k = gamma.shape[0]
    acc = np.zeros((n_a, 2 * k))
    for a in range(n_a):
        s = ptr[a]
        t = ptr[a + 1]
        if t == s:
            continue
        wmax, denom = _block_normaliser(weights, s, t, log2_rest)
        for j in range(s, t):
            p = 2.0 ** (weights[j] - wmax) / denom
            for v in range(k):
                g = gamma[v, j]
                if g >= 0:
                    acc[a, k + v] += p
                    if g == 1:
                        acc[a, v] += p
    tot = np.zeros(2 * k)
    for a in range(n_a):
        for c in range(2 * k):
            tot[c] += acc[a, c]
    return tot[:k], tot[k:]
