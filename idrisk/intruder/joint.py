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
target; the non-member hypothesis without response knowledge), and beside it, per field, the
distribution the intruder's wrong values come from (:func:`fit_mix`): a mixture of the field's
own distribution and the uniform one, ``e_v(a) = lambda_v p_v(a) + (1 - lambda_v) / L_v``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._kernels.joint import subset_counts
from .nonmember import nonmember_counts, subset_tables

__all__ = ["JOINT_MAX_FIELDS", "EM_TARGETS", "EM_TARGETS_NONMEMBER", "M_FLOOR", "MIX_GRID", "JointModel",
           "joint_fields", "nonmember_ratio", "moebius", "fit_joint_m", "fit_mix", "em_sample_size",
           "value_shares", "value_scales", "SNAP_LOGLIK"]

#: at most this many exactly compared fields enter the joint counts (``2^k`` subsets); the
#: others weigh as independent Fellegi-Sunter fields
JOINT_MAX_FIELDS = 10
#: targets sampled (with the seed) to fit ``m`` against the whole extract
EM_TARGETS = 2000
#: without response knowledge, up to this many (see :func:`em_sample_size`)
EM_TARGETS_NONMEMBER = 20_000
#: the values of ``lambda_v`` :func:`fit_mix` chooses among
MIX_GRID = np.linspace(0.0, 1.0, 101)
#: rounds of (EM for ``m``, then ``lambda``) in :func:`fit_joint_m`
MIX_ROUNDS = 4
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
    return [_field_counts(f, n_e)[2] for f in fields]


def _field_counts(f, n_e: int):
    """``(cnt, n_miss, p)``: the extract's records per code, its records lacking the value, and
    the shares of :func:`value_shares`."""
    nl = max(f.n_levels, 1)
    cnt = np.bincount(f.codes_e[f.codes_e >= 0], minlength=nl).astype(np.float64)
    p = cnt / max(n_e, 1)
    return cnt, float((f.codes_e < 0).sum()), np.where(p > 0, p, 0.5 / max(n_e, 1))


def _scales(cnt, n_miss, n_e, p, lam):
    """``(s, e, c)`` for each ``lambda`` of ``lam`` (rows): the scale ``s(a) = e(a) c(a) / p(a)``
    of :func:`value_scales`, the error distribution ``e(a) = lambda p(a) + (1 - lambda) / L`` and
    ``c(a)``, the mean of ``r(b) = 1 / (1 - e(b))`` over the records whose value ``b`` is not
    ``a`` (``r = 1`` for a record lacking the value)."""
    lam = np.atleast_1d(np.asarray(lam, dtype=np.float64))[:, None]
    n = max(float(n_e), 1.0)
    e = lam * p[None, :] + (1.0 - lam) / p.shape[0]
    floor = 0.5 / n  # a value held by every record: 1 - e floored at 1 / (2 n)
    inv = 1.0 / np.maximum(1.0 - e, floor)
    total = (cnt[None, :] * inv).sum(1, keepdims=True) + n_miss
    rest = n - cnt[None, :]
    c = np.where(rest > 0, (total - cnt[None, :] * inv) / np.maximum(rest, 1.0), 1.0)
    return c * (e / p[None, :]), e, c


def value_scales(fields, n_e: int, mix=None) -> list:
    """Per field and code ``a``: ``s(a)``, the ratio of the chance that the intruder holds ``a``
    by a wrong value to ``p(a)``, at the mean over the extract records that disagree.

    A wrong value is another value drawn from the field's error distribution ``e(a) = lambda
    p(a) + (1 - lambda) / L`` (``mix``: ``lambda`` per field, default 1: the field's own
    distribution; ``L`` its number of values): ``P(a | b) = e(a) / (1 - e(b))`` for ``a != b``.
    Its ratio to ``p(a)`` is taken at the mean over the records that disagree, ``s(a) = e(a) c(a)
    / p(a)`` with ``c(a)`` the mean of ``1 / (1 - e(b))`` over them, so that it depends on the
    target only. A record whose value is missing is not a value the intruder could have held
    instead: the intruder holds ``a`` for it only by a wrong value drawn from the whole
    distribution, ``P(a | missing) = e(a)`` (else it holds nothing), so ``1`` enters the mean in
    its place. Scaling it by ``1 / (1 - p(missing))`` would let the records lacking a value
    explain every target holding one (on an extract missing a field on most records, the fitted
    ``m`` of that field fell to 0). With ``lambda = 1``, ``s = c``."""
    out = []
    for j, f in enumerate(fields):
        cnt, n_miss, p = _field_counts(f, n_e)
        lam = 1.0 if mix is None else float(mix[j])
        out.append(_scales(cnt, n_miss, n_e, p, lam)[0][0])
    return out


def fit_mix(wrong, cnt, n_miss, n_e, p) -> float:
    """``lambda`` of one field's error distribution from the expected wrong values ``wrong``
    (per code, the expected number of targets holding that code while their own record holds
    another or none: :func:`fit_joint_m`'s E-step).

    A wrong value ``a`` has the probability ``f(a)`` proportional to ``e(a) c(a) (1 - p(a))``
    (the error distribution over a record drawn from the extract, :func:`value_scales`;
    normalised over the values, since ``e`` sums to less than 1 where records lack the value):
    the expected log-likelihood ``sum_a wrong_a log f(a)`` is maximised over :data:`MIX_GRID`, and ``lambda = 1`` (the
    field's own distribution) is kept unless the maximum exceeds it by :data:`SNAP_LOGLIK`.
    Where the data cannot tell (no wrong values; a field of two values, whose wrong value is
    always the other one) ``lambda`` is 1. Errors that confuse alike values (an education level
    for the next) are spread more evenly over the values than the field's distribution: a rare
    value is held wrongly more often than its share says, and a claim on a rare held value is
    then less certain."""
    wrong = np.asarray(wrong, dtype=np.float64)
    use = wrong > 0
    if not use.any():
        return 1.0
    _, e, c = _scales(cnt, n_miss, n_e, p, MIX_GRID)
    f = e * c * (1.0 - cnt / max(n_e, 1))[None, :]
    f /= f.sum(1, keepdims=True)
    ll = (wrong[use][None, :] * np.log(f[:, use])).sum(1)
    best = int(np.argmax(ll))
    return float(MIX_GRID[best]) if ll[best] > ll[-1] + SNAP_LOGLIK else 1.0


def em_sample_size(ratio: float, k: int) -> int:
    """Targets to fit ``m`` on: :data:`EM_TARGETS` with response knowledge; without it (``ratio
    > 0``) up to :data:`EM_TARGETS_NONMEMBER`, one chunk of the joint counts (``CHUNK_CELLS``
    over ``2^k`` subsets). Without response knowledge most targets are outside the extract and
    only the members inform ``m``: on 2,000 targets (a few hundred members at a sampling
    fraction of 0.15) the fitted ``m`` of adult's age moved between 0.69 and 0.96 from one
    sample to the next."""
    if ratio <= 0:
        return EM_TARGETS
    return max(EM_TARGETS, min(EM_TARGETS_NONMEMBER, CHUNK_CELLS >> k))


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
    counts: list = None   # per joint field, (cnt, n_miss, p) of the extract (_field_counts)
    mix: np.ndarray = None  # per joint field, lambda of its error distribution (fit_mix)
    n_e: int = 0

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
                   [fields[j].n_levels for j in cols], counts=[_field_counts(fields[j], n_e) for j in cols],
                   mix=np.ones(len(cols)), n_e=int(n_e))

    def set_mix(self, mix):
        """Take ``lambda`` per joint field (:func:`fit_mix`) and recompute the scales."""
        self.mix = np.asarray(mix, dtype=np.float64).copy()
        self.scales = [_scales(cnt, n_miss, self.n_e, p, lam)[0][0]
                       for (cnt, n_miss, p), lam in zip(self.counts, self.mix)]

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
        d = ly - lz
        n, size = H.shape
        # no BLAS products: their rounding depends on the threads, and results must not. The
        # subsets holding field v are, in a view (rows, 2^(k-v-1), 2, 2^v), those at 1 on axis 2.
        L = np.repeat(lz.sum(1)[:, None], size, axis=1)
        for v in range(self.k):
            L.reshape(n, size >> (v + 1), 2, 1 << v)[:, :, 1, :] += d[:, v, None, None]
        np.minimum(L, 700.0, out=L)
        e = np.exp(L, out=L)
        HWe = HW * e if weighted else None
        He = np.multiply(H, e, out=e)
        AG = self._field_sums(He)
        if not weighted:
            return He.sum(1), np.zeros(n), AG, np.zeros((n, self.k))
        return He.sum(1), HWe.sum(1), AG, self._field_sums(HWe)

    def _field_sums(self, X):
        """Per row and joint field ``v``: the sum of ``X`` over the subsets holding ``v``.

        From the highest field down: the subsets holding it are the upper half of the columns (a
        contiguous block), and the two halves added together leave the table of the fields below
        it, so the work halves at each field (two passes over ``X`` in all, instead of one strided
        pass a field)."""
        n = X.shape[0]
        out = np.empty((n, self.k))
        Y = X
        for v in range(self.k - 1, -1, -1):
            half = 1 << v
            out[:, v] = Y[:, half:].sum(1)
            if v:
                Y = Y[:, :half] + Y[:, half:]
        return out

    def chunk_rows(self, n_a: int):
        """Target row chunks keeping ``rows x 2^k`` at most ``CHUNK_CELLS``."""
        step = max(1, CHUNK_CELLS // max(1 << self.k, 1))
        return [np.arange(s, min(s + step, n_a)) for s in range(0, n_a, step)]


def _em_step(model, H, HW, logp, logc, held, m, ratio, rows=None):
    """One EM step: ``m_v`` = the posterior expected agreement of the target's own record on
    ``v``. Returns ``(m, loglik, wrong)``; with target ``rows``, ``wrong`` is per joint field the
    expected wrong values per code (:func:`fit_mix`), else None."""
    S, T, AG, _ = model.masses(H, HW, logp, logc, held, m, weighted=ratio > 0)
    D = np.maximum(S + ratio * T, 1e-300)
    mj = m[model.cols]
    # members only: the non-members' own records are outside the extract, modelled coarsely
    num = np.where(held, AG, 0.0) / D[:, None]
    den = (np.where(held, 1.0, 0.0) * (S / D)[:, None]).sum(0)
    new = np.where(den > 1e-12, num.sum(0) / np.maximum(den, 1e-300), mj)
    wrong = None
    if rows is not None:
        wrong = []
        for i in range(model.k):
            c = model.codes_a[i, rows]
            x = np.where(held[:, i], np.maximum(S - AG[:, i], 0.0) / D, 0.0)
            wrong.append(np.bincount(np.clip(c, 0, None), weights=x, minlength=model.counts[i][0].shape[0]))
    return np.clip(new, M_FLOOR, 1.0 - M_FLOOR), float(np.log(D).sum()), wrong


def _fit_m(model, H, HW, logp, logc, held, m, ratio, info):
    """EM for ``m`` at the model's current error distributions, then the snap to 1."""
    hist = []
    for it in range(1, EM_MAX_ITER + 1):
        q = 1.0 - m[model.cols]
        new, ll, _ = _em_step(model, H, HW, logp, logc, held, m, ratio)
        hist.append(q)
        m[model.cols] = new
        info["n_iter"] += 1
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
            _, ll_new, _ = _em_step(model, H, HW, logp, logc, held, m, ratio)
            _, ll_jump, _ = _em_step(model, H, HW, logp, logc, held, trial, ratio)
            if ll_jump >= ll_new:
                m = trial
            hist = []
    # where the data do not reject it (a likelihood-ratio test), the intruder trusts its value: m = 1
    _, ll, _ = _em_step(model, H, HW, logp, logc, held, m, ratio)
    for j in model.cols:
        trial = m.copy()
        trial[j] = 1.0 - M_FLOOR
        _, ll_edge, _ = _em_step(model, H, HW, logp, logc, held, trial, ratio)
        if ll_edge >= ll - SNAP_LOGLIK:
            m, ll = trial, max(ll, ll_edge)
    info["loglik"] = ll
    return m


def fit_joint_m(model: JointModel, rows, m, ratio: float):
    """EM for the joint fields' ``m`` and their error distributions on target ``rows`` against
    the whole extract.

    E-step: each target's posterior over every extract record as its own (one match per
    target) and, without response knowledge (``ratio > 0``), over the population records
    outside the extract (Robbins' estimates on every subset, :mod:`.nonmember`). M-step:
    ``m_v = P(agree | same person)``, the expected agreement of the target's own record on
    ``v`` over the targets holding ``v``. EM converges linearly, and slowly when ``m_v``
    tends to 1 (an error-free field), so every third step is extrapolated (Aitken's delta
    squared on ``1 - m_v``, kept when it raises the likelihood). Then each field's error
    distribution (:func:`fit_mix`) from the expected wrong values at the fitted ``m``, and
    ``m`` again, until ``lambda`` settles (at most :data:`MIX_ROUNDS` rounds); the model keeps
    the last ``lambda`` (:meth:`JointModel.set_mix`). Returns ``(m, info)``.
    """
    m = m.copy()
    info = {"n_targets": int(rows.shape[0]), "n_iter": 0, "converged": False, "mix_rounds": 0}
    if model.k == 0 or rows.shape[0] == 0:
        return m, info
    H, HW = model.tables(rows, weighted=ratio > 0)
    logp, logc, held = model.log_shares(rows)
    for r in range(MIX_ROUNDS):
        info["converged"] = False
        m = _fit_m(model, H, HW, logp, logc, held, m, ratio, info)
        info["mix_rounds"] += 1
        if r == MIX_ROUNDS - 1:  # m is always fitted at the model's last lambda
            break
        _, _, wrong = _em_step(model, H, HW, logp, logc, held, m, ratio, rows)
        mix = np.array([fit_mix(w, cnt, n_miss, model.n_e, p) for w, (cnt, n_miss, p) in zip(wrong, model.counts)])
        if np.array_equal(mix, model.mix):
            break
        model.set_mix(mix)
        logp, logc, held = model.log_shares(rows)
    info["mix"] = [float(x) for x in model.mix]
    return m, info
