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
no blocking recall and no independence between fields is needed for it. The same inversion
of Robbins' estimates of the population records outside the extract sharing the target's
values on each subset (:mod:`.nonmember`) gives the non-member alternative.

``m`` is fitted on a sample of targets against the whole extract by EM (one match per
target; the non-member hypothesis without response knowledge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._kernels.joint import subset_counts
from .nonmember import nonmember_counts, subset_tables

__all__ = ["JOINT_MAX_FIELDS", "EM_TARGETS", "M_FLOOR", "JointModel", "joint_fields", "nonmember_ratio", "moebius", "fit_joint_m", "value_shares", "value_scales", "SNAP_LOGLIK"]

#: at most this many exactly compared fields enter the joint counts (``2^k`` subsets); the
#: others weigh as independent Fellegi-Sunter fields
JOINT_MAX_FIELDS = 10
#: targets sampled (with the seed) to fit ``m`` against the whole extract
EM_TARGETS = 2000
EM_MAX_ITER = 300
EM_TOL = 1e-7
#: m = 1 is kept unless the data reject it: a likelihood-ratio test at 5 % (chi-square, 1 df,
#: 3.84 / 2 nats) against the EM's end point
SNAP_LOGLIK = 1.92
#: ``m`` is kept in ``[M_FLOOR, 1 - M_FLOOR]`` (finite weights)
M_FLOOR = 1e-15
#: target rows x subsets per chunk of the joint counts (each chunk scans the extract once per
#: subset, so fewer, larger chunks: 20,000 targets x 256 subsets in one)
CHUNK_CELLS = 6_000_000


def joint_fields(fields) -> list[int]:
    """Indices of the exactly compared fields in the joint counts (at most ``JOINT_MAX_FIELDS``)."""
    return [j for j, f in enumerate(fields) if f.kind == "exact" and f.n_levels > 0][:JOINT_MAX_FIELDS]


def nonmember_ratio(prior: float) -> float:
    """``(1 - prior)/prior``: the weight of the non-member mass ``T_a`` (0 when prior is 1)."""
    if prior >= 1.0:
        return 0.0
    return (1.0 - prior) / prior


def moebius(N: np.ndarray) -> np.ndarray:
    """Counts of agreement on *at least* each subset -> on *exactly* each subset (per row)."""
    H = np.array(N, dtype=np.float64, copy=True)
    n, size = H.shape
    k = int(round(math.log2(size)))
    for v in range(k):
        view = H.reshape(n, size >> (v + 1), 2, 1 << v)  # axis 2: bit v of the subset
        view[:, :, 0, :] -= view[:, :, 1, :]
    return np.maximum(H, 0.0)


def value_shares(fields, n_e: int) -> list:
    """Per field, each code's share of *all* extract records (a missing value is a value no
    intruder's value agrees with); a value the extract lacks gets ``1 / (2 n)``."""
    out = []
    for f in fields:
        p = np.bincount(f.codes_e[f.codes_e >= 0], minlength=max(f.n_levels, 1)) / max(n_e, 1)
        out.append(np.where(p > 0, p, 0.5 / max(n_e, 1)))
    return out


def value_scales(fields, n_e: int) -> list:
    """Per field and code ``a``: ``c(a)``, the mean of ``r(b)`` over the extract records whose
    value ``b`` is not ``a``: ``r(b) = 1 / (1 - p(b))`` for a recorded value, ``1`` for a missing one.

    A wrong value is another value drawn from the field's distribution, ``P(a | b) = e p(a) /
    (1 - p(b))`` for ``a != b``; its ratio to ``p(a)``, ``e / (1 - p(b))``, is taken at the mean
    over the records that disagree, ``e c(a)``, so that it depends on the target only. A record
    whose value is missing is not a value the intruder could have held instead: the intruder
    holds ``a`` for it only by a wrong value drawn from the whole distribution, ``P(a | missing)
    = e p(a)`` (else it holds nothing), ratio ``e``. Scaling it by ``1 / (1 - p(missing))`` would
    let the records lacking a value explain every target holding one (on an extract missing a
    field on most records, the fitted ``m`` of that field fell to 0)."""
    out = []
    for f in fields:
        nl = max(f.n_levels, 1)
        cnt = np.bincount(f.codes_e[f.codes_e >= 0], minlength=nl).astype(np.float64)
        n_miss = float((f.codes_e < 0).sum())
        n = max(float(n_e), 1.0)
        floor = 0.5 / n  # a value held by every record: 1 - p floored at 1 / (2 n)
        inv = 1.0 / np.maximum(1.0 - cnt / n, floor)
        total = float((cnt * inv).sum()) + n_miss
        rest = n - cnt
        out.append(np.where(rest > 0, (total - cnt * inv) / np.maximum(rest, 1.0), 1.0))
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
    """The joint fields of one linkage: codes, value shares and (without response knowledge,
    after :meth:`prepare_nonmembers`) Robbins' tables of the non-member counts."""

    cols: list            # field indices in the joint part
    codes_e: np.ndarray   # int32 (k, n_e)
    codes_a: np.ndarray   # int32 (k, n_a)
    shares: list          # per joint field, share of each code in the extract
    scales: list          # per joint field and code a, mean of 1 / (1 - p(b)) over records b != a
    bits: np.ndarray      # (2^k, k) 0/1
    n_levels: list        # per joint field, the number of values
    w: np.ndarray = None  # per extract record, Robbins' g(f) / f of its class (prepare_nonmembers)
    robbins: list = None  # per subset, Robbins' tables (prepare_nonmembers)

    @classmethod
    def build(cls, fields, shares, scales, n_e):
        cols = joint_fields(fields)
        ce = np.ascontiguousarray(np.vstack([fields[j].codes_e for j in cols]).astype(np.int32)) if cols \
            else np.zeros((0, n_e), dtype=np.int32)
        ca = np.ascontiguousarray(np.vstack([fields[j].codes_a for j in cols]).astype(np.int32)) if cols \
            else np.zeros((0, fields[0].codes_a.shape[0]), dtype=np.int32)
        masks = np.arange(1 << len(cols))
        bits = ((masks[:, None] >> np.arange(len(cols))[None, :]) & 1).astype(np.float64)
        return cls(cols, ce, ca, [shares[j] for j in cols], [scales[j] for j in cols], bits,
                   [fields[j].n_levels for j in cols])

    def prepare_nonmembers(self):
        """Robbins' tables on every subset of the joint fields (:mod:`.nonmember`); once."""
        if self.robbins is None:
            self.robbins, self.w = subset_tables(self.codes_e, self.n_levels, self.shares)

    @property
    def k(self) -> int:
        return len(self.cols)

    def log_shares(self, rows):
        """``(log p_v(a_v), log c_v(a_v), held)`` per target row and joint field (0 where not held)."""
        logp = np.zeros((rows.shape[0], self.k))
        logc = np.zeros((rows.shape[0], self.k))
        held = np.zeros((rows.shape[0], self.k), dtype=bool)
        for i in range(self.k):
            c = self.codes_a[i, rows]
            held[:, i] = c >= 0
            cc = np.clip(c, 0, None)
            logp[:, i] = np.where(c >= 0, np.log(self.shares[i][cc]), 0.0)
            logc[:, i] = np.where(c >= 0, np.log(self.scales[i][cc]), 0.0)
        return logp, logc, held

    def tables(self, rows, weighted=True):
        """Exact-agreement-pattern counts ``H`` of target ``rows`` and the estimated population
        records outside the extract ``HW`` (``weighted=False``: ``HW`` is None)."""
        ca = np.ascontiguousarray(self.codes_a[:, rows])
        cards = [int(max(self.codes_e[i].max(initial=-1), ca[i].max(initial=-1))) + 1 for i in range(self.k)]
        strides = _strides(cards)
        if strides is None:  # pragma: no cover - needs cardinalities whose product passes 2^62
            raise OverflowError("joint key space too large")
        N, _ = subset_counts(self.codes_e, ca, strides, np.zeros(self.codes_e.shape[1]))
        if not weighted:
            return moebius(N), None
        self.prepare_nonmembers()
        return moebius(N), moebius(nonmember_counts(self.robbins, N, ca, self.shares, self.bits))

    def masses(self, H, HW, logp, logc, held, m, weighted=True):
        """``S``, ``T`` per target and the agreement masses ``AG``, ``AGW`` per target and field
        (``weighted=False``: ``T`` and ``AGW`` are not needed, zeros)."""
        mj = m[self.cols]
        ly = np.where(held, np.log(mj)[None, :] - logp, 0.0)
        lz = np.where(held, np.log(1.0 - mj)[None, :] + logc, 0.0)
        # no BLAS products: their rounding depends on the threads, and results must not
        L = np.repeat(lz.sum(1)[:, None], self.bits.shape[0], axis=1)
        for v in range(self.k):
            L += (ly - lz)[:, v:v + 1] * self.bits[None, :, v]
        e = np.exp(np.minimum(L, 700.0))
        He = H * e
        AG = np.zeros((H.shape[0], self.k))
        for v in range(self.k):
            AG[:, v] = He[:, self.bits[:, v] > 0].sum(1)
        if not weighted:
            return He.sum(1), np.zeros(H.shape[0]), AG, np.zeros((H.shape[0], self.k))
        HWe = HW * e
        AGW = np.zeros((H.shape[0], self.k))
        for v in range(self.k):
            AGW[:, v] = HWe[:, self.bits[:, v] > 0].sum(1)
        return He.sum(1), HWe.sum(1), AG, AGW

    def chunk_rows(self, n_a: int):
        """Target row chunks keeping ``rows x 2^k`` at most ``CHUNK_CELLS``."""
        step = max(1, CHUNK_CELLS // max(1 << self.k, 1))
        return [np.arange(s, min(s + step, n_a)) for s in range(0, n_a, step)]


def _em_step(model, H, HW, logp, logc, held, m, ratio):
    """One EM step: ``m_v`` = the posterior expected agreement of the target's own record on ``v``."""
    S, T, AG, _ = model.masses(H, HW, logp, logc, held, m, weighted=ratio > 0)
    D = np.maximum(S + ratio * T, 1e-300)
    mj = m[model.cols]
    # members only: the non-members' own records are outside the extract, modelled coarsely
    num = np.where(held, AG, 0.0) / D[:, None]
    den = (np.where(held, 1.0, 0.0) * (S / D)[:, None]).sum(0)
    new = np.where(den > 1e-12, num.sum(0) / np.maximum(den, 1e-300), mj)
    return np.clip(new, M_FLOOR, 1.0 - M_FLOOR), float(np.log(D).sum())


def fit_joint_m(model: JointModel, rows, m, ratio: float):
    """EM for the joint fields' ``m`` on target ``rows`` against the whole extract.

    E-step: each target's posterior over every extract record as its own (one match per
    target) and, without response knowledge (``ratio > 0``), over the population records
    outside the extract (Robbins' estimates on every subset, :mod:`.nonmember`). M-step:
    ``m_v = P(agree | same person)``, the expected agreement of the target's own record on
    ``v`` over the targets holding ``v``. EM converges linearly, and slowly when ``m_v``
    tends to 1 (an error-free field), so every third step is extrapolated (Aitken's delta
    squared on ``1 - m_v``, kept when it raises the likelihood). Returns ``(m, info)``.
    """
    m = m.copy()
    info = {"n_targets": int(rows.shape[0]), "n_iter": 0, "converged": False}
    if model.k == 0 or rows.shape[0] == 0:
        return m, info
    H, HW = model.tables(rows, weighted=ratio > 0)
    logp, logc, held = model.log_shares(rows)
    hist = []
    ll = -np.inf
    for it in range(1, EM_MAX_ITER + 1):
        q = 1.0 - m[model.cols]
        new, ll = _em_step(model, H, HW, logp, logc, held, m, ratio)
        hist.append(q)
        m[model.cols] = new
        info["n_iter"] = it
        if float(np.max(np.abs(new - (1.0 - q)))) < EM_TOL:
            info["converged"] = True
            break
        if len(hist) >= 2 and it % 3 == 0:
            q0, q1, q2 = hist[-2], hist[-1], 1.0 - new
            den = q2 - 2 * q1 + q0
            with np.errstate(divide="ignore", invalid="ignore"):
                jump = np.where(np.abs(den) > 1e-300, q0 - (q1 - q0) ** 2 / den, q2)
            trial = m.copy()
            trial[model.cols] = np.clip(1.0 - jump, M_FLOOR, 1.0 - M_FLOOR)
            _, ll_new = _em_step(model, H, HW, logp, logc, held, m, ratio)
            _, ll_jump = _em_step(model, H, HW, logp, logc, held, trial, ratio)
            if ll_jump >= ll_new:
                m = trial
            hist = []
    # where the data do not reject it (a likelihood-ratio test), the intruder trusts its value: m = 1
    _, ll = _em_step(model, H, HW, logp, logc, held, m, ratio)
    for i, j in enumerate(model.cols):
        trial = m.copy()
        trial[j] = 1.0 - M_FLOOR
        _, ll_edge = _em_step(model, H, HW, logp, logc, held, trial, ratio)
        if ll_edge >= ll - SNAP_LOGLIK:
            m, ll = trial, max(ll, ll_edge)
    info["loglik"] = ll
    return m, info
