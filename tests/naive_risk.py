"""Slow, obviously-correct references for idrisk.individual_risk / population_uniqueness.

No numba and no idrisk internals: plain Python, Decimal arithmetic, pandas and scipy.stats.
"""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import numpy as np
import pandas as pd
from scipy import stats

getcontext().prec = 60


def wildcard_frequencies(df: pd.DataFrame, qis, weights=None):
    """fk, Fk by sdcMicro freqCalc's rule at alpha = 1 (pairwise, O(n^2)).

    Records are compatible when they are equal wherever neither is missing. With
    alpha = 1 every compatible s counts 1 (weight w_s), except that an all-missing s does
    not count for a complete r (unless there is a single key variable, where it does);
    an all-missing r gets fk = n (sdcmicro-definitions.md).
    """
    rows = [tuple(None if pd.isna(v) else v for v in r) for r in df[qis].itertuples(index=False)]
    w = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype=float)
    n = len(rows)
    fk = np.zeros(n)
    Fk = np.zeros(n)
    for i, r in enumerate(rows):
        if all(v is None for v in r):
            fk[i] = n
            Fk[i] = w.sum()
            continue
        r_complete = all(v is not None for v in r)
        for j, s in enumerate(rows):
            if r_complete and len(qis) > 1 and all(v is None for v in s):
                continue
            if all(a is None or b is None or a == b for a, b in zip(r, s)):
                fk[i] += 1
                Fk[i] += w[j]
    return fk, Fk


def bf_series(f, F):
    """E[1/F] of the Benedetti-Franconi model in 60-digit Decimal arithmetic.

    r = sum_{y>=0} Gamma(y+f)/(Gamma(f) y!) p^f q^y / (f+y) = p * I_f,
    I_f = int_0^1 u^(f-1) / (p + q u) du, p = f/F, q = 1 - p.

    * integer f: the exact recurrence q I_{k+1} + p I_k = 1/k from I_1 = ln(1/p)/q
      (forward when it is stable, otherwise backward from far above f);
    * real f: direct summation of the series (used only with p not tiny).
    Returns float.
    """
    fd = Decimal(repr(float(f)))
    Fd = Decimal(repr(float(F)))
    if Fd <= fd:
        return float(1 / fd)
    p = fd / Fd
    q = (Fd - fd) / Fd
    if float(f) == int(f):
        k_f = int(f)
        ratio = math.log(float(p) / float(q)) if float(q) > 0 else math.inf
        if k_f * ratio < 46:                       # forward: errors grow at most (p/q)^f
            ival = (1 / p).ln() / q
            for k in range(1, k_f):
                ival = (Decimal(1) / k - p * ival) / q
        else:                                      # backward: errors shrink like (q/p)^steps
            top = k_f + int(140 / ratio) + 10
            ival = Decimal(1) / top
            for k in range(top - 1, k_f - 1, -1):
                ival = (Decimal(1) / k - q * ival) / p
        return float(p * ival)
    coef = p ** fd                 # Gamma(y+f)/(Gamma(f) y!) p^f q^y at y = 0
    total = coef / fd
    y = 0
    while True:
        coef = coef * (y + fd) / (y + 1) * q
        y += 1
        term = coef / (fd + y)
        total += term
        if term < total * Decimal("1e-40") and y > 10 and Decimal(y) * p > 1:
            break
    return float(total)


def bf_risk(fk, Fk, method="approx", qual=1.0, weighted=True):
    """Per-record risk from fk, Fk with the closed forms written out as in sdcMicro."""
    out = []
    for f, F in zip(np.asarray(fk, float), np.asarray(Fk, float)):
        if not weighted or F <= f:
            r = 1.0 / f
        else:
            p = f / F
            q = 1 - p
            if f == 1:
                r = p / q * math.log(1 / p)
            elif f == 2:
                r = p / q - (p / q) ** 2 * math.log(1 / p)
            elif f > 2 and method == "approx":
                r = p / (f - q)
            else:
                r = bf_series(f, F)
        out.append(r if not weighted else r * qual)
    return np.array(out)


def household_risk(hid, risk):
    """1 - prod(1 - r) over each household, by pandas groupby."""
    s = pd.DataFrame({"h": list(hid), "r": risk})
    per = s.groupby("h")["r"].apply(lambda x: 1 - np.prod(1 - x.to_numpy()))
    return s["h"].map(per).to_numpy()


def global_threshold(risk, max_global_risk):
    """sdcMicro's threshold by brute force over candidate levels (None = NA).

    A level passes when the capped total (a correctly rounded ``math.fsum``) is below
    ``ER*`` by more than 1e-12 relative: ties within rounding do not pass (idrisk's
    documented cautious reading of sdcMicro's strict comparison).
    """
    r = sorted((float(v) for v in risk), reverse=True)
    er = max_global_risk * len(r)
    if math.fsum(r) < er:
        return None
    levels = sorted(set(r), reverse=True)
    for x in levels[1:]:
        # cap every risk above x at x: is the expected number of re-identifications below ER*?
        if math.fsum(min(v, x) for v in r) < er * (1 - 1e-12):
            return x
    return None if levels[-1] == 0 else 0.0


def zayatz(hist, N):
    """Zayatz estimate with scipy's hypergeometric pmf (population N, j successes, n draws)."""
    n = sum(j * c for j, c in hist.items())
    u = sum(hist.values())
    c1 = hist.get(1, 0)
    den = sum(c / u * stats.hypergeom.pmf(1, N, j, n) for j, c in hist.items())
    p = (c1 / u) * stats.hypergeom.pmf(1, N, 1, n) / den
    return c1 * p / (n / N)


def pitman_equations(theta, alpha, hist):
    """Pitman ML equations written as plain loops (ARX's iterative form)."""
    n = sum(j * c for j, c in hist.items())
    u = sum(hist.values())
    o1 = sum(1 / (theta + i * alpha) for i in range(1, u)) - sum(1 / (theta + i) for i in range(1, n))
    o3 = sum(i / (theta + i * alpha) for i in range(1, u))
    o4 = sum(c * sum(1 / (l - alpha) for l in range(1, j)) for j, c in hist.items() if j != 1)
    return o1, o3 - o4


def snb_equations(a, b, K, f, c1, c2):
    """ARX ModelSNB object function, transcribed."""
    dividend = (1 - f) * (1 - b)
    e1 = K * f * (b / (1 - dividend)) ** a * (((a * dividend) / (1 - dividend)) + 1) - c1
    e2 = K * a * b ** a * (f * f) * (1 - b) / 2 * (1 - dividend) ** (a + 2) * (2 - (1 - a) * dividend) - c2
    return e1, e2


def unique_match_probability(n1, n2, pi):
    return pi * n1 / (pi * n1 + 2 * (1 - pi) * n2)
