"""Fellegi-Sunter weights: m/u by EM, term-frequency u, block-normalised probabilities.

Model (Fellegi & Sunter 1969; docs/methods.md#fellegi-sunter). For field ``v`` with binary
agreement ``gamma_v``: ``m_v = P(agree | same person)``, ``u_v = P(agree | different
persons)``; field weight ``log2(m_v/u_v)`` on agreement, ``log2((1-m_v)/(1-u_v))`` on
disagreement, 0 when either value is missing; total ``W = sum_v w_v``. With term-frequency
adjustment, agreement on value ``a`` weighs ``log2(m_v / p_v(a))`` where ``p_v(a)`` is the
value's share in the extract (Splink's tf adjustment; docs/methods.md#term-frequency).

EM (:func:`fit_em_patterns`) collapses the pairs into distinct comparison patterns and iterates
over those (numba, :func:`idrisk._kernels.linkage.em_fit`), so its cost does not grow with
the number of pairs. With ``fix_u=False`` and recordlinkage's "jaro" start
(``lambda = 0.1, m = 0.9, u = 0.1``) it is the same algorithm as recordlinkage's
``ECMClassifier`` (binary features, stop when no parameter moves more than ``atol``);
the tests check equal m/u and equal classification. ``monotone=True`` maximises under
``m_v >= u_v`` (agreement never counts against a match), which the simulated intruder
uses: without it a class of similar non-matches can out-fit the matches (docs/methods.md#em-estimation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels import linkage as K

__all__ = ["EMResult", "fit_em_patterns", "patterns_of", "pattern_table"]


@dataclass
class EMResult:
    m: np.ndarray
    u: np.ndarray
    lam: float
    n_iter: int
    converged: bool
    n_patterns: int
    loglik: float = float("nan")
    monotone: bool = False

    def to_dict(self, names=None) -> dict:
        names = list(names) if names is not None else [str(i) for i in range(len(self.m))]
        return {
            "m": {n: float(x) for n, x in zip(names, self.m)},
            "u": {n: float(x) for n, x in zip(names, self.u)},
            "lambda": float(self.lam),
            "n_iter": int(self.n_iter),
            "converged": bool(self.converged),
            "n_patterns": int(self.n_patterns),
            "loglik": float(self.loglik),
            "constraint": "m >= u" if self.monotone else None,
        }


def pattern_table(gamma: np.ndarray):
    """Distinct comparison patterns and their counts.

    Returns ``(patterns int8 (n_pat, k), counts float64 (n_pat,), pid int64 (n_pairs,),
    pattern_index int64 (n_pairs,))`` where ``pattern_index`` maps every pair to its row of
    ``patterns``.
    """
    gamma = np.ascontiguousarray(gamma, dtype=np.int8)
    k, n = gamma.shape
    pid = K.pattern_ids(gamma)
    if k <= 12:
        cnt = np.bincount(pid, minlength=3 ** k)
        present = np.flatnonzero(cnt)
        counts = cnt[present].astype(np.float64)
        lookup = np.full(3 ** k, -1, dtype=np.int64)
        lookup[present] = np.arange(present.shape[0])
        index = lookup[pid]
    else:
        present, index, cnt = np.unique(pid, return_inverse=True, return_counts=True)
        counts = cnt.astype(np.float64)
    pats = np.empty((present.shape[0], k), dtype=np.int8)
    rest = present.copy()
    for v in range(k - 1, -1, -1):
        pats[:, v] = (rest % 3) - 1
        rest //= 3
    return pats, counts, pid, index


def patterns_of(gamma: np.ndarray, rows=None, use=None):
    """Distinct patterns (int8 (n_pat, r)) and counts over fields ``rows`` of pairs ``use``."""
    gamma = np.ascontiguousarray(gamma, dtype=np.int8)
    k = gamma.shape[0]
    rows = np.arange(k, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    r = rows.shape[0]
    if r <= 12:
        use_arr = np.zeros(0, dtype=np.bool_) if use is None else np.asarray(use, dtype=np.bool_)
        cnt = K.pattern_counts(gamma, rows, use_arr)
        present = np.flatnonzero(cnt)
        counts = cnt[present]
    else:
        sub = gamma[rows] if use is None else gamma[rows][:, use]
        pats, counts, _, _ = pattern_table(sub)
        return pats, counts
    pats = np.empty((present.shape[0], r), dtype=np.int8)
    rest = present.copy()
    for v in range(r - 1, -1, -1):
        pats[:, v] = (rest % 3) - 1
        rest //= 3
    return pats, counts


def fit_em_patterns(pats, counts, *, m0=0.9, u0=0.1, lam0=0.1, fix_u=False, fix_lam=False,
                    max_iter=100, atol=1e-4, monotone=False) -> EMResult:
    """:func:`fit_em` on already counted patterns (see :func:`patterns_of`)."""
    k = pats.shape[1]
    m0 = np.broadcast_to(np.asarray(m0, dtype=np.float64), (k,)).copy()
    u0 = np.clip(np.broadcast_to(np.asarray(u0, dtype=np.float64), (k,)).copy(), 1e-9, 1 - 1e-9)
    pats = np.ascontiguousarray(pats)
    counts = np.ascontiguousarray(counts, dtype=np.float64)
    m, u, lam, it, conv, _ = K.em_fit_monotone(pats, counts, m0, u0, float(lam0), int(max_iter), float(atol),
                                               bool(fix_u), bool(fix_lam), bool(monotone))
    ll = float(K.em_loglik(pats, counts, m, u, float(lam)))
    return EMResult(m, u, float(lam), int(it), bool(conv), int(pats.shape[0]), ll, bool(monotone))
