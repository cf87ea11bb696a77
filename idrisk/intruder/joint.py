"""The intruder's likelihoods from the joint frequencies of its key in the released extract.

docs/methods.md#joint-frequencies. The intruder holds the extract, so it can count, for
each target and each subset of the exactly compared fields it holds, how many extract
records share the target's values on that subset (class sizes). With a recording model
per field (the intruder's value is right with probability ``m_v``, else a value drawn
from the field's distribution ``p_v``), a record ``b`` explains target ``a`` with the
likelihood ratio (against a value drawn at random)

    ``Phi_ab = prod_{v held} (m_v / p_v(a_v) + 1 - m_v)^[a_v = b_v] (1 - m_v)^[a_v != b_v]``

and the sum of ``Phi_ab`` over *every* extract record follows exactly from the counts of
records agreeing with ``a`` on exactly each subset (Moebius inversion of the class sizes):
no blocking recall and no independence between fields is needed for it. The same sums
weighted by ``w_b = g(f_b) / f_b`` (Robbins' estimate of the population records outside the
extract sharing a class of extract size ``f``, ``g(f) = (f + 1) n_{f+1} / n_f``) give the
non-member alternative; the classes the extract does not show hold ``n_1`` such records,
their values drawn from the fields' distributions (expected ``Phi`` = 1).

``m`` is fitted on a sample of targets against the whole extract by EM (one match per
target; the non-member hypothesis without response knowledge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._kernels.groups import group_ids
from .._kernels.joint import subset_counts

__all__ = ["JOINT_MAX_FIELDS", "EM_TARGETS", "M_FLOOR", "JointModel", "joint_fields", "robbins_weights",
           "nonmember_ratio", "moebius", "fit_joint_m", "value_shares", "agreement_probability"]

#: at most this many exactly compared fields enter the joint counts (``2^k`` subsets); the
#: others weigh as independent Fellegi-Sunter fields
JOINT_MAX_FIELDS = 10
#: targets sampled (with the seed) to fit ``m`` against the whole extract
EM_TARGETS = 2000
EM_MAX_ITER = 300
EM_TOL = 1e-9
#: ``m`` is kept in ``[M_FLOOR, 1 - M_FLOOR]`` (finite weights)
M_FLOOR = 1e-15
#: target rows x subsets per chunk of the joint counts
CHUNK_CELLS = 2_000_000
#: Robbins' ratio ``n_{f+1} / n_f`` is used while ``n_{f+1}`` is at least this; beyond, ``g(f) = f``
ROBBINS_MIN = 5


def joint_fields(fields) -> list[int]:
    """Indices of the exactly compared fields in the joint counts (at most ``JOINT_MAX_FIELDS``)."""
    return [j for j, f in enumerate(fields) if f.kind == "exact" and f.n_levels > 0][:JOINT_MAX_FIELDS]


def robbins_weights(fields, n_e: int):
    """``(w, n1)``: per extract record ``g(f)/f`` on the class of all quasi-identifiers, and ``n_1``.

    Missing values are one more category. Under Bernoulli sampling of population classes the
    expected number of population records outside the extract in a class of extract size
    ``f`` is ``(1 - pi)/pi * g(f)`` with ``g(f) = (f + 1) n_{f+1} / n_f`` whatever the class
    sizes of the population (Robbins 1956; for ``f = 1`` it is Skinner and Elliot's
    ``theta``); the unseen classes hold ``(1 - pi)/pi * n_1``. Where ``n_{f+1} < ROBBINS_MIN``
    the naive ``g(f) = f`` is used.
    """
    mat = np.vstack([f.codes_e.astype(np.int64) + 1 for f in fields]).astype(np.int32)
    cards = np.array([f.n_levels + 1 for f in fields], dtype=np.int64)
    gid, sizes = group_ids(mat, cards)
    fb = sizes[gid].astype(np.int64)
    nf = np.bincount(sizes, minlength=int(sizes.max()) + 2).astype(np.float64)
    fmax = nf.shape[0] - 1
    g = np.arange(fmax + 1, dtype=np.float64)
    ok = np.zeros(fmax + 1, dtype=bool)
    ok[1:fmax] = (nf[2:] >= ROBBINS_MIN) & (nf[1:fmax] > 0)
    idx = np.flatnonzero(ok)
    g[idx] = (idx + 1) * nf[idx + 1] / nf[idx]
    return g[fb] / fb, float(nf[1]) if nf.shape[0] > 1 else 0.0


def nonmember_ratio(prior: float, n_e: int, w, n1: float) -> float:
    """``(1 - prior)/prior * n / n'``: the weight of the non-member mass ``T_a + n_1`` (0 when prior is 1)."""
    if prior >= 1.0:
        return 0.0
    n_prime = float(np.sum(w)) + n1
    return (1.0 - prior) / prior * n_e / max(n_prime, 1.0)


def moebius(N: np.ndarray) -> np.ndarray:
    """Counts of agreement on *at least* each subset -> on *exactly* each subset (per row)."""
    H = N.copy()
    k = int(round(math.log2(H.shape[1])))
    masks = np.arange(H.shape[1])
    for v in range(k):
        with_v = masks[(masks >> v) & 1 == 1]
        H[:, with_v ^ (1 << v)] -= H[:, with_v]
    return np.maximum(H, 0.0)


def value_shares(fields, n_e: int) -> list:
    """Per field, each code's share of *all* extract records (a missing value is a value no
    intruder's value agrees with), so that a field's factor averages 1 over the records."""
    return [np.bincount(f.codes_e[f.codes_e >= 0], minlength=max(f.n_levels, 1)) / max(n_e, 1) for f in fields]


def agreement_probability(fields, shares, m) -> dict:
    """Per field, ``P(agree | same person)`` averaged over the targets' held values:
    ``m_v + (1 - m_v) p_v(a)`` for an exact field (``m_v`` itself for the others)."""
    out = {}
    for j, f in enumerate(fields):
        c = f.codes_a[f.codes_a >= 0]
        if f.kind == "exact" and c.size:
            out[f.name] = float(m[j] + (1.0 - m[j]) * shares[j][c].mean())
        else:
            out[f.name] = float(m[j])
    return out


def _strides(cards):
    strides = np.ones(len(cards), dtype=np.int64)
    total = 1
    for i, c in enumerate(cards):
        strides[i] = total
        total *= max(int(c), 1)
        if total >= 2 ** 62:
            return None
    return strides


@dataclass
class JointModel:
    """The joint fields of one linkage: codes, value shares and Robbins weights."""

    cols: list            # field indices in the joint part
    codes_e: np.ndarray   # int32 (k, n_e)
    codes_a: np.ndarray   # int32 (k, n_a)
    shares: list          # per joint field, share of each code in the extract
    w: np.ndarray         # Robbins weights per extract record
    n1: float
    bits: np.ndarray      # (2^k, k) 0/1

    @classmethod
    def build(cls, fields, shares, n_e):
        cols = joint_fields(fields)
        w, n1 = robbins_weights(fields, n_e)
        ce = np.ascontiguousarray(np.vstack([fields[j].codes_e for j in cols]).astype(np.int32)) if cols \
            else np.zeros((0, n_e), dtype=np.int32)
        ca = np.ascontiguousarray(np.vstack([fields[j].codes_a for j in cols]).astype(np.int32)) if cols \
            else np.zeros((0, fields[0].codes_a.shape[0]), dtype=np.int32)
        masks = np.arange(1 << len(cols))
        bits = ((masks[:, None] >> np.arange(len(cols))[None, :]) & 1).astype(np.float64)
        return cls(cols, ce, ca, [shares[j] for j in cols], w, n1, bits)

    @property
    def k(self) -> int:
        return len(self.cols)

    def log_shares(self, rows):
        """``log p_v(a_v)`` per target row and joint field (0 where the target does not hold it)."""
        out = np.zeros((rows.shape[0], self.k))
        held = np.zeros((rows.shape[0], self.k), dtype=bool)
        n_e = self.codes_e.shape[1]
        for i in range(self.k):
            c = self.codes_a[i, rows]
            held[:, i] = c >= 0
            tab = self.shares[i]
            p = np.where(c >= 0, tab[np.clip(c, 0, max(tab.shape[0] - 1, 0))] if tab.shape[0] else 0.0, 1.0)
            out[:, i] = np.log(np.where(p > 0, p, 0.5 / max(n_e, 1)))
        return out, held

    def tables(self, rows):
        """Exact-agreement-pattern counts ``H`` and weighted counts ``HW`` of target ``rows``."""
        ca = np.ascontiguousarray(self.codes_a[:, rows])
        cards = [int(max(self.codes_e[i].max(initial=-1), ca[i].max(initial=-1))) + 1 for i in range(self.k)]
        strides = _strides(cards)
        if strides is None:  # pragma: no cover - needs cardinalities whose product passes 2^62
            raise OverflowError("joint key space too large")
        N, W = subset_counts(self.codes_e, ca, strides, np.ascontiguousarray(self.w, dtype=np.float64))
        return moebius(N), moebius(W)

    def masses(self, H, HW, logp, held, m):
        """``S``, ``T`` per target and the agreement masses ``AG``, ``AGW`` per target and field."""
        mj = m[self.cols]
        ly = np.where(held, np.log(mj[None, :] / np.exp(logp) + 1.0 - mj[None, :]), 0.0)
        lz = np.where(held, np.log(1.0 - mj)[None, :], 0.0)
        L = ly @ self.bits.T + lz @ (1.0 - self.bits).T
        e = np.exp(np.minimum(L, 700.0))
        He = H * e
        HWe = HW * e
        return He.sum(1), HWe.sum(1), He @ self.bits, HWe @ self.bits, ly

    def chunk_rows(self, n_a: int):
        """Target row chunks keeping ``rows x 2^k`` at most ``CHUNK_CELLS``."""
        step = max(1, CHUNK_CELLS // max(1 << self.k, 1))
        return [np.arange(s, min(s + step, n_a)) for s in range(0, n_a, step)]


def fit_joint_m(model: JointModel, rows, m, ratio: float):
    """Maximum likelihood ``m`` of the joint fields on target ``rows`` against the whole extract.

    Each target's likelihood is ``D_a = S_a + ratio (T_a + n_1)`` (up to factors free of
    ``m``): a mixture over every extract record as the target's own (one match per target)
    and, without response knowledge (``ratio > 0``), the non-member alternative, the
    maximum of ``sum_a log D_a`` an EM would reach. EM crawls when ``m_v`` tends to 1
    (error-free fields), so the likelihood is maximised directly (L-BFGS-B on
    ``log(1 - m_v)``, with its exact gradient). Returns ``(m, info)``.
    """
    from scipy.optimize import minimize

    m = m.copy()
    info = {"n_targets": int(rows.shape[0]), "n_iter": 0, "converged": False}
    if model.k == 0 or rows.shape[0] == 0:
        return m, info
    H, HW = model.tables(rows)
    logp, held = model.log_shares(rows)
    inv_p1 = np.where(held, 1.0 / np.exp(logp) - 1.0, 0.0)

    def f(t):
        mj = 1.0 - np.exp(t)
        S, T, AG, AGW, ly = model.masses(H, HW, logp, held, np.put(m, model.cols, mj) or m)
        D = S + ratio * (T + model.n1)
        D = np.maximum(D, 1e-300)
        ag = AG + ratio * AGW
        y = np.exp(ly)
        z = 1.0 - mj
        dm = ((ag * inv_p1 / y) - np.where(held, (S + ratio * T)[:, None] - ag, 0.0) / z[None, :]) / D[:, None]
        grad_m = dm.sum(0)
        return -float(np.log(D).sum()), grad_m * z  # d/dt = d/dm * dm/dt, dm/dt = -(1 - m)

    t0 = np.log(np.clip(1.0 - m[model.cols], M_FLOOR, 1.0 - M_FLOOR))
    res = minimize(f, t0, jac=True, method="L-BFGS-B",
                   bounds=[(math.log(M_FLOOR), math.log(1.0 - M_FLOOR))] * model.k,
                   options={"maxiter": EM_MAX_ITER, "ftol": 1e-13, "gtol": 1e-9})
    t = res.x.copy()
    best = res.fun
    for i in range(model.k):  # the optimiser stops short of a bound the likelihood still rises to
        # where the data cannot tell (a flat likelihood) the intruder trusts its value: m = 1
        for edge, better in ((math.log(M_FLOOR), float.__le__), (math.log(1.0 - M_FLOOR), float.__lt__)):
            trial = t.copy()
            trial[i] = edge
            val = f(trial)[0]
            if better(val, float(best)):
                t, best = trial, val
    m[model.cols] = 1.0 - np.exp(t)
    info.update(n_iter=int(res.nit), converged=bool(res.success), loglik=-float(best))
    return m, info
