"""Benedetti-Franconi individual risk and household aggregation (numba only).

Arrays in, arrays out; no validation here (the public wrappers in
``idrisk.metrics.individual_risk`` validate first).

Model (Benedetti & Franconi 1998; Franconi & Polettini 2004; sdcMicro ``indivRisk``):
given the sample frequency ``f`` of a record's key and the estimated population
frequency ``F`` (sum of weights), the unknown population count is ``f + Y`` with
``Y ~ NegBin(f, p)``, ``p = f / F``, ``q = 1 - p``. The individual risk is

    r = E[1 / (f + Y)] = sum_{h >= f} (1/h) C(h-1, f-1) p^f q^(h-f)
      = p * integral_0^1 u^(f-1) / (p + q u) du                          (*)

(*) follows from 1/h = int_0^1 t^(h-1) dt and the substitution u = p t / (1 - q t).
For integer f <= 2 the integral has sdcMicro's closed forms; for f > 2 sdcMicro's
"approx" method uses ``p / (f - q)``. (*) holds for any real f > 0, which is how
idrisk evaluates fractional ``f`` (alpha < 1) and the "exact" method.

Numerical method for (*): with u = 1 / (1 + e^y) the integral becomes
``p * int_R u^f (1-u) / (p + q u) dy``, a positive, smooth, exponentially decaying
integrand that is analytic in the strip |Im y| < pi/2; the trapezoid rule with step
h then converges like exp(-pi^2 / h) (h = 0.2: ~1e-21), with no cancellation.

Definitions: ``docs/methods.md#individual-risk``, ``docs/methods.md#household-risk``,
``docs/methods.md#global-risk`` and ``docs/methods.md#population-uniqueness``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .threads import n_workers, run_chunks

_STEP = 0.2


@numba.njit(**NUMBA_OPTS)
def _softplus(y):
    """log(1 + e^y) without overflow."""
    if y > 0.0:
        return y + math.log1p(math.exp(-y))
    return math.log1p(math.exp(y))


@numba.njit(**NUMBA_OPTS)
def bf_integral(f, p, q):
    """E[1/F] of the Benedetti-Franconi model for real ``f > 0``, ``0 < p < 1``, ``q = 1 - p``.

    Trapezoid rule on ``p * int u^f (1-u) / (p + q u) dy`` with ``u = 1/(1+e^y)``.
    """
    h = _STEP
    ystar = -math.log(f)                      # the mode of u^f (1 - u)
    lo = ystar - 46.0                         # left tail decays like e^y
    hi = max(ystar, 0.0) + (-math.log(p) + 46.0 + math.log(f + 1.0)) / f  # right tail ~ e^{-f y}/p
    n = int((hi - lo) / h) + 1
    s = 0.0
    for i in range(n + 1):
        y = lo + i * h
        lu = -_softplus(y)                    # log u
        l1u = -_softplus(-y)                  # log(1 - u)
        u = math.exp(lu)
        s += math.exp(f * lu + l1u) / (p + q * u)
    return p * s * h


@numba.njit(**NUMBA_OPTS)
def _closed_f1(p, q):
    # (p/q) ln(1/p); -log1p(-q) is accurate when q is small
    if q < 0.5:
        return p / q * (-math.log1p(-q))
    return p / q * (-math.log(p))


@numba.njit(**NUMBA_OPTS)
def _closed_f2(p, q):
    # p/q - (p/q)^2 ln(1/p); for small q the difference cancels, so use the
    # equivalent series p - p^2 * sum_k q^k / (k + 2)
    if q < 0.05:
        s = 0.0
        qk = 1.0
        for k in range(60):
            t = qk / (k + 2.0)
            s += t
            if t < 1e-18 * s:
                break
            qk *= q
        return p - p * p * s
    r = p / q
    return r - r * r * (-math.log(p))


@numba.njit(**NUMBA_OPTS)
def bf_risk_one(f, F, exact):
    """Individual risk of one record with sample frequency ``f`` and population estimate ``F``.

    ``F <= f`` (no sampling, or weights below 1) gives ``1 / f``.
    """
    if F <= f:
        return 1.0 / f
    p = f / F
    q = (F - f) / F
    if f == 1.0:
        return _closed_f1(p, q)
    if f == 2.0:
        return _closed_f2(p, q)
    if f > 2.0 and not exact:
        return p / (f - q)
    return bf_integral(f, p, q)


def bf_risk(fk, Fk, exact, qual):
    """Per-record Benedetti-Franconi risk; ``fk``, ``Fk`` float64 (n,) -> float64 (n,).

    Records are split into chunks run on threads (:mod:`.threads`) when there are many.
    """
    n = fk.shape[0]
    out = np.empty(n, dtype=np.float64)
    n_chunks = 4 * n_workers(n) if n >= 100_000 else 1
    exact, qual = bool(exact), np.float64(qual)
    run_chunks(lambda ch: _bf_risk_rows(fk, Fk, exact, qual, np.int64(ch * n // n_chunks),
                                        np.int64((ch + 1) * n // n_chunks), out), n_chunks)
    return out


@numba.njit(**NUMBA_OPTS)
def _bf_risk_rows(fk, Fk, exact, qual, lo, hi, out):
    """Records ``lo .. hi-1`` of :func:`bf_risk`, written into ``out``."""
    for i in range(lo, hi):
        out[i] = qual * bf_risk_one(fk[i], Fk[i], exact)


@numba.njit(**NUMBA_OPTS)
def inverse(fk):
    """``1 / fk`` (float64)."""
    n = fk.shape[0]
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = 1.0 / fk[i]
    return out


@numba.njit(**NUMBA_OPTS)
def household_risk(hgid, n_households, risk):
    """Household risk ``1 - prod_{s in h}(1 - r_s)`` for every record.

    ``hgid`` int64 (n,) dense household ids ``0 .. n_households-1``; ``risk`` float64 (n,).
    The product is accumulated as a sum of ``log1p(-r)`` (no underflow for large
    households); a member with ``r >= 1`` makes the household risk exactly 1.
    Returns float64 (n,).
    """
    n = hgid.shape[0]
    logsum = np.zeros(n_households, dtype=np.float64)
    certain = np.zeros(n_households, dtype=np.bool_)
    for i in range(n):
        r = risk[i]
        g = hgid[i]
        if r >= 1.0:
            certain[g] = True
        else:
            logsum[g] += math.log1p(-r)
    per = np.empty(n_households, dtype=np.float64)
    for g in range(n_households):
        per[g] = 1.0 if certain[g] else -math.expm1(logsum[g])
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = per[hgid[i]]
    return out


@numba.njit(**NUMBA_OPTS)
def global_threshold(risk_desc, max_global_risk):
    """sdcMicro ``measure_threshold`` on risks sorted in decreasing order.

    Returns ``(threshold, unsafe)``: scanning the distinct risk levels from the top,
    the first level ``x`` at position ``j`` with ``sum_{i >= j} r_i + j * x < ER*``
    (``ER* = max_global_risk * n``); ``threshold = 0`` if none passes and
    ``threshold = unsafe = r_0`` when the total is already below ``ER*``.

    Differs from sdcMicro on purpose at ties: the tail sums are summed from the smallest
    risk up (not by subtracting from the total, whose rounding error can push an exact tie
    below ``ER*``), and a level passes only when its capped total is below ``ER*`` by more
    than ``1e-12`` relative. A tie within rounding does not pass: the cautious reading, which
    never raises the threshold.
    """
    n = risk_desc.shape[0]
    tail = np.empty(n + 1)
    tail[n] = 0.0
    for i in range(n - 1, -1, -1):
        tail[i] = tail[i + 1] + risk_desc[i]
    total = tail[0]
    er = max_global_risk * n
    bound = er * (1.0 - 1e-12)
    current = risk_desc[0]
    if total < er:
        return current, current
    threshold = 0.0
    for j in range(n):
        r = risk_desc[j]
        if r != current:
            if tail[j] + r * j < bound:
                threshold = r
                break
            current = r
    return threshold, current


@numba.njit(**NUMBA_OPTS)
def pitman_system(theta, alpha, u, n, surv):
    """Pitman ML estimating equations (Hoshino 2001) and their Jacobian, by direct sums.

    e1 = sum_{i=1}^{u-1} 1/(theta + i alpha) - sum_{i=1}^{n-1} 1/(theta + i)
    e2 = sum_{i=1}^{u-1} i/(theta + i alpha) - sum_{l>=1} surv[l-1] / (l - alpha)
    (``surv[l-1]`` = number of classes larger than l). Returns (e1, e2, j11, j12, j22) and the
    scales s1 = sum 1/(theta+i), s2 = sum surv/(l-alpha) for relative convergence tests.
    """
    s0 = 0.0
    si = 0.0
    d0 = 0.0
    di = 0.0
    dii = 0.0
    for i in range(1, u):
        d = theta + i * alpha
        inv = 1.0 / d
        s0 += inv
        si += i * inv
        inv2 = inv * inv
        d0 += inv2
        di += i * inv2
        dii += i * i * inv2
    t0 = 0.0
    t2 = 0.0
    for k in range(1, n):
        inv = 1.0 / (theta + k)
        t0 += inv
        t2 += inv * inv
    c0 = 0.0
    c2 = 0.0
    for l in range(1, surv.shape[0] + 1):
        inv = 1.0 / (l - alpha)
        c0 += surv[l - 1] * inv
        c2 += surv[l - 1] * inv * inv
    e1 = s0 - t0
    e2 = si - c0
    return e1, e2, -d0 + t2, -di, -dii - c2, t0, c0
