"""Slow, obviously-correct reference implementations for idrisk.intruder (no numba, no idrisk internals).

Also a small seeded pupil-like population generator used by the intruder tests and
benchmarks until/unless ``idrisk.datasets`` is used.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

# ---------------------------------------------------------------- synthetic pupils

_ETH = {  # minor -> major, with rough shares
    "WBRI": ("WHIT", 0.66), "WOTH": ("WHIT", 0.07), "WIRI": ("WHIT", 0.01),
    "AIND": ("ASIA", 0.04), "APKN": ("ASIA", 0.05), "ABAN": ("ASIA", 0.02),
    "BAFR": ("BLAC", 0.04), "BCRB": ("BLAC", 0.01), "MWBC": ("MIXD", 0.03),
    "MOTH": ("MIXD", 0.03), "CHNE": ("CHIN", 0.01), "OOTH": ("OTHR", 0.03),
}


def make_pupils(n: int, seed: int = 0, *, pupils_per_la: int = 700, school_size: int = 300) -> pd.DataFrame:
    """Pupil-like records with the column names of ``idrisk.datasets.make_population``."""
    rng = np.random.default_rng(seed)
    n_la = max(1, n // pupils_per_la)
    n_school = max(1, n // school_size)
    school_la = rng.integers(0, n_la, size=n_school)
    school = rng.integers(0, n_school, size=n)
    la = school_la[school]
    # each LA has ~15 postcode districts; pupils mostly live in the LA
    pcd = la * 15 + rng.integers(0, 15, size=n)
    year_group = rng.integers(0, 14, size=n)  # reception .. 13
    birth_year = 2020 - year_group - 5
    dob = (pd.to_datetime(pd.Series(birth_year).astype(str) + "-09-01")
           + pd.to_timedelta(rng.integers(0, 365, size=n), unit="D"))
    minor = np.array(list(_ETH))
    p = np.array([v[1] for v in _ETH.values()])
    eth_minor = minor[rng.choice(len(minor), size=n, p=p / p.sum())]
    eth_major = np.array([_ETH[m][0] for m in eth_minor])
    return pd.DataFrame({
        "pupil_id": np.arange(n, dtype=np.int64) + 1_000_000,
        "urn": (100000 + school).astype(np.int64),
        "la_code": np.char.add("E", (1000 + la).astype(str)),
        "year_group": year_group.astype(np.int64),
        "date_of_birth": dob.to_numpy(),
        "sex": np.where(rng.random(n) < 0.5, "F", "M"),
        "ethnicity_minor": eth_minor,
        "ethnicity_major": eth_major,
        "fsm": rng.random(n) < 0.22,
        "sen_provision": rng.choice(np.array(["N", "K", "E"]), size=n, p=[0.83, 0.13, 0.04]),
        "eal": rng.random(n) < 0.2,
        "postcode_district": np.char.add("PD", pcd.astype(str)),
    })


# ---------------------------------------------------------------- references


def _key(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT or pd.isna(v) else v


def candidate_pairs(extract: pd.DataFrame, aux: pd.DataFrame, passes) -> set:
    """{(aux_row, extract_row)} agreeing (non-missing) on every variable of some pass."""
    out = set()
    E = extract.reset_index(drop=True)
    A = aux.reset_index(drop=True)
    for p in passes:
        for a in range(len(A)):
            ka = [_key(A.at[a, v]) for v in p]
            if any(x is None for x in ka):
                continue
            for e in range(len(E)):
                ke = [_key(E.at[e, v]) for v in p]
                if ka == ke:
                    out.add((a, e))
    return out


def compare_exact(x, y) -> int:
    x, y = _key(x), _key(y)
    if x is None or y is None:
        return -1
    return int(x == y)


def _pair_terms(gamma_i, m, u, lam):
    """``(lam P(gamma | match), (1 - lam) P(gamma | non-match))`` of one pair; -1 = missing."""
    pm, pu = lam, 1 - lam
    for v, gv in enumerate(gamma_i):
        if gv == 1:
            pm *= m[v]
            pu *= u[v]
        elif gv == 0:
            pm *= 1 - m[v]
            pu *= 1 - u[v]
    return pm, pu


def loglik(gamma: np.ndarray, m, u, lam) -> float:
    """Observed-data log-likelihood of the two-class mixture, pair by pair."""
    n = gamma.shape[1]
    total = 0.0
    for i in range(n):
        pm, pu = _pair_terms(gamma[:, i], m, u, lam)
        total += np.log(pm + pu)
    return float(total)


def em(gamma: np.ndarray, m0, u0, lam0, *, fix_u=False, fix_lam=False, max_iter=100, atol=1e-4,
       monotone=False):
    """Plain EM over every pair (no pattern collapsing); gamma (k, n) with -1 missing.

    ``monotone``: M-step under ``m_v >= u_v``: when the free update has ``m_v < u_v``, both
    become the pooled agreement share (with ``fix_u``, ``m_v = u_v``).
    """
    k, n = gamma.shape
    m = np.array(m0, dtype=float) * np.ones(k)
    u = np.array(u0, dtype=float) * np.ones(k)
    lam = float(lam0)
    for _ in range(max_iter):
        g = np.empty(n)
        for i in range(n):
            pm, pu = _pair_terms(gamma[:, i], m, u, lam)
            g[i] = pm / (pm + pu)
        nm, nu = m.copy(), u.copy()
        for v in range(k):
            ok = gamma[v] >= 0
            agree = gamma[v] == 1
            nm[v] = (g * agree).sum() / (g * ok).sum()
            if not fix_u:
                nu[v] = ((1 - g) * agree).sum() / ((1 - g) * ok).sum()
            if monotone and nm[v] < nu[v]:
                if fix_u:
                    nm[v] = nu[v]
                else:
                    nm[v] = nu[v] = agree.sum() / ok.sum()
        nm = np.clip(nm, 1e-9, 1 - 1e-9)
        nu = np.clip(nu, 1e-9, 1 - 1e-9)
        nl = lam if fix_lam else g.mean()
        delta = max(abs(nl - lam), np.abs(nm - m).max(), np.abs(nu - u).max())
        m, u, lam = nm, nu, nl
        if delta <= atol:
            break
    return m, u, lam


def exact_link_probabilities(extract: pd.DataFrame, aux: pd.DataFrame, keys):
    """Zero-divergence, exact full-key linkage with block-normalised P (domain 5.3 step 6).

    Every candidate agrees on every key, so P = 1/f for each of the f candidates. Returns
    per auxiliary row (f, expected correct = 1/f when the truth is a candidate).
    """
    E = extract.reset_index(drop=True)
    out = []
    for a in range(len(aux)):
        ka = tuple(_key(aux.iloc[a][v]) for v in keys)
        f = sum(tuple(_key(E.iloc[e][v]) for v in keys) == ka for e in range(len(E)))
        out.append(f)
    return np.array(out)


def claim_summary(f: np.ndarray, tau: float):
    """Claims and expected TP for exact linkage with P = 1/f and threshold tau."""
    p = 1.0 / f
    claimed = p >= tau - 1e-12
    return int(claimed.sum()), float(p[claimed].sum())


def jaro_winkler(s1: str, s2: str, p: float = 0.1) -> float:
    """Textbook Jaro-Winkler similarity (prefix up to 4)."""
    if s1 == s2:
        return 1.0
    l1, l2 = len(s1), len(s2)
    if l1 == 0 or l2 == 0:
        return 0.0
    rng = max(l1, l2) // 2 - 1
    m1 = [False] * l1
    m2 = [False] * l2
    matches = 0
    for i in range(l1):
        lo, hi = max(0, i - rng), min(i + rng + 1, l2)
        for j in range(lo, hi):
            if not m2[j] and s1[i] == s2[j]:
                m1[i] = m2[j] = True
                matches += 1
                break
    if matches == 0:
        return 0.0
    t = 0
    k = 0
    for i in range(l1):
        if m1[i]:
            while not m2[k]:
                k += 1
            if s1[i] != s2[k]:
                t += 1
            k += 1
    t /= 2
    jaro = (matches / l1 + matches / l2 + (matches - t) / matches) / 3
    prefix = 0
    for a, b in zip(s1[:4], s2[:4]):
        if a != b:
            break
        prefix += 1
    return jaro + prefix * p * (1 - jaro)


def link_probabilities(gamma_by_pair, weights_agree, weights_dis, rest=0.0):
    """Block-normalised P for one target: gamma_by_pair list of per-field agreement lists."""
    W = []
    for g in gamma_by_pair:
        w = 0.0
        for v, x in enumerate(g):
            if x == 1:
                w += weights_agree[v]
            elif x == 0:
                w += weights_dis[v]
        W.append(w)
    W = np.array(W)
    return 2.0 ** W / ((2.0 ** W).sum() + rest)


# ---------------------------------------------------------------- joint-frequency model (docs/methods.md#joint-frequencies)

def subset_counts(codes_e, codes_a, weights):
    """For every target and field subset (bit mask), the extract records agreeing on the whole
    subset (missing never agrees) and the sum of their weights: plain loops."""
    k, n_e = codes_e.shape
    n_a = codes_a.shape[1]
    N = np.zeros((n_a, 1 << k))
    W = np.zeros((n_a, 1 << k))
    for a in range(n_a):
        for mask in range(1 << k):
            fields = [v for v in range(k) if mask >> v & 1]
            if any(codes_a[v, a] < 0 for v in fields):
                continue
            for b in range(n_e):
                if all(codes_e[v, b] >= 0 and codes_e[v, b] == codes_a[v, a] for v in fields):
                    N[a, mask] += 1
                    W[a, mask] += weights[b]
    return N, W


def disagreement_scale(column, a):
    """``c(a)``: the mean of ``r(b)`` over the records whose value ``b`` is not ``a``, where
    ``r(b) = 1 / (1 - p(b))`` for a recorded value (``p`` the share of all records, ``1 - p`` at
    least ``1 / (2 n)``) and ``r = 1`` for a missing one; 1 when there are none."""
    n = len(column)
    share = {}
    for x in column:
        share[x] = share.get(x, 0) + 1 / n
    others = [1.0 if x is None else 1 / max(1 - share[x], 0.5 / n) for x in column if x != a]
    return sum(others) / len(others) if others else 1.0


def _error_distribution(column, lam, levels):
    """``(p, e)``: ``p(x)`` the share of all records holding ``x`` (``1 / (2 n)`` for a value no
    record holds) and the error distribution ``e(x) = lam p(x) + (1 - lam) / L`` over the ``levels``."""
    n = len(column)
    count = {}
    for x in column:
        if x is not None:
            count[x] = count.get(x, 0) + 1

    def p(x):
        return count[x] / n if x in count else 0.5 / n

    def e(x):
        return lam * p(x) + (1 - lam) / len(levels)

    return p, e


def mixed_scale(column, a, lam, levels):
    """``s(a) = e(a) c(a) / p(a)`` with the error distribution ``e(x) = lam p(x) + (1 - lam) / L``
    over the ``levels`` (``L`` of them; ``p`` the share of all records, ``1 / (2 n)`` for a value
    no record holds) and ``c(a)`` the mean of ``1 / (1 - e(b))`` (at least ``1 / (2 n)`` below) over
    the records whose value ``b`` is not ``a``, ``1`` for a missing one; ``c = 1`` when there are none."""
    n = len(column)
    p, e = _error_distribution(column, lam, levels)
    others = [1.0 if x is None else 1 / max(1 - e(x), 0.5 / n) for x in column if x != a]
    c = sum(others) / len(others) if others else 1.0
    return e(a) * c / p(a)


def expected_wrong_values(column, lam, levels, n_wrong):
    """Per value ``a`` of ``levels``: the expected number of ``n_wrong`` wrong values equal to
    ``a`` when the record is drawn from ``column`` and the wrong value from ``e`` without the
    record's own value: ``P(a | b) = e(a) / (1 - e(b))``, ``P(a | missing) = e(a)``."""
    n = len(column)
    _, e = _error_distribution(column, lam, levels)
    out = []
    for a in levels:
        total = 0.0
        for b in column:
            if b is None:
                total += e(a)
            elif b != a:
                total += e(a) / (1 - e(b))
        out.append(n_wrong * total / n)
    return out


def record_factor(a_vals, b_vals, m, shares, scales):
    """``Phi_ab``: per held field, ``m / p(a)`` on agreement, ``(1 - m) c(a)`` otherwise (a
    missing extract value disagrees); ``shares[v]`` / ``scales[v]`` map a value to ``p`` / ``c``."""
    phi = 1.0
    for v, (x, y) in enumerate(zip(a_vals, b_vals)):
        if x is None:
            continue
        if y is not None and x == y:
            phi *= m[v] / shares[v][x]
        else:
            phi *= (1.0 - m[v]) * scales[v][x]
    return phi


def joint_posterior(ext_rows, target, m, shares, scales, nonmember=0.0):
    """``P(b | a)`` for every extract record: ``Phi_ab / (sum_b' Phi_ab' + nonmember)``."""
    phi = np.array([record_factor(target, r, m, shares, scales) for r in ext_rows])
    return phi / (phi.sum() + nonmember)


def joint_loglik(ext_rows, targets, m, shares, scales):
    """``sum_a log sum_b Phi_ab`` (response knowledge): the likelihood ``m`` maximises."""
    return float(sum(math.log(sum(record_factor(t, r, m, shares, scales) for r in ext_rows)) for t in targets))


def exact_match_claims(ext_rows, targets, truth):
    """The exact-match intruder: claim when the held values match exactly one extract record."""
    claims = correct = 0
    for t, tr in zip(targets, truth):
        held = [v for v, x in enumerate(t) if x is not None]
        if not held:
            continue
        hits = [b for b, r in enumerate(ext_rows) if all(r[v] is not None and r[v] == t[v] for v in held)]
        if len(hits) == 1:
            claims += 1
            correct += int(hits[0] == tr)
    return claims, correct


def robbins_nonmembers(codes_e, codes_a, n_levels, shares, min_n=1, n_groups=8):
    """Per target and field subset (bit mask): Robbins' estimate of the population records
    outside the extract sharing the target's values on the subset, by plain loops
    (docs/methods.md#joint-frequencies): the extract's classes on the subset (records with
    every field of it), grouped by quantiles of the log of their leave-one-field-out expected
    size, ``g(f) = (f + 1) n_{f+1} / n_f`` over the narrowest window of groups with ``n_{f+1} >=
    min_n`` (else ``f``), ``g(0) = n_1 / n_0`` (0 when ``n_1 < min_n``); the empty subset: ``n``."""
    k, n = codes_e.shape
    n_a = codes_a.shape[1]

    def agree(vals, fields):
        return sum(all(codes_e[v, b] >= 0 and codes_e[v, b] == vals[v] for v in fields) for b in range(n))

    def log_expected(vals, fields, own):
        loo = 0.0
        for v in fields:
            p = shares[v][vals[v]]
            loo += (agree(vals, [u for u in fields if u != v]) - own) * p / max(1.0 - p, 0.5 / n)
        indep = n * math.prod(shares[v][vals[v]] for v in fields)
        return math.log(max(loo / len(fields) + indep, 1e-300))

    G = np.zeros((n_a, 1 << k))
    G[:, 0] = n
    for mask in range(1, 1 << k):
        fields = [v for v in range(k) if mask >> v & 1]
        classes = {}
        for b in range(n):
            if all(codes_e[v, b] >= 0 for v in fields):
                key = tuple(int(codes_e[v, b]) if v in fields else -1 for v in range(k))
                classes[key] = classes.get(key, 0) + 1
        if not classes:
            continue
        keys = list(classes)
        lx = [log_expected(c, fields, classes[c]) for c in keys]
        edges = np.quantile(lx, np.linspace(0, 1, n_groups + 1)[1:-1])
        group = {c: int(np.searchsorted(edges, x, side="right")) for c, x in zip(keys, lx)}

        def g(f, s):
            for w in range(n_groups):
                win = [c for c in keys if abs(group[c] - s) <= w]
                nf = sum(classes[c] == f for c in win)
                nf1 = sum(classes[c] == f + 1 for c in win)
                if nf1 >= min_n and nf > 0:
                    return (f + 1) * nf1 / nf
            return float(f)

        cells = math.prod(max(n_levels[v], 1 + max(c[v] for c in keys)) for v in fields)
        n1 = sum(s == 1 for s in classes.values())
        g0 = n1 / (cells - len(keys)) if (n1 >= min_n and cells > len(keys)) else 0.0
        for a in range(n_a):
            if any(codes_a[v, a] < 0 for v in fields):
                continue
            own = agree(codes_a[:, a], fields)
            if own == 0:
                G[a, mask] = g0
                continue
            s = int(np.searchsorted(edges, log_expected(codes_a[:, a], fields, own), side="right"))
            G[a, mask] = g(own, s)
    return G
