"""The generalisation lattice over the table of distinct records, and ARX's five loss measures.

A node gives every quasi-identifier one level of its hierarchy (full-domain recoding). Its
records are grouped by their generalised key; a class fails when it has fewer than ``k``
records or fewer than ``l`` distinct values of a sensitive column, and every record of every
failing class is suppressed. The node is anonymous when at most ``floor(s n)`` records are
suppressed (ARX's record suppression, Prasser et al. 2014; ``docs/methods.md#anonymisation``).

The measures follow ARX 3.9 exactly (``docs/methods.md#anonymisation``):

* Loss: per QI ``(sum_r share(r) - n/D) / (n - n/D)`` floored to 10 decimals, where share is
  (rows of the hierarchy table sharing the record's generalised value) / D, 1 for a suppressed
  record, D the rows of the table; aggregate ``prod (1 + loss_i)^(1/m) - 1``.
* non-uniform entropy: per QI ``-sum_v a_v log2(a_v / b_g(v)) - sum_w c_w log2(c_w / S)``
  floored to 10 decimals, summed.
* precision: mean over QIs of ``((n - S) L/h + S) / n``.
* discernibility: ``sum |E|^2`` over surviving classes ``+ n S``.
* AECS: ``n / (surviving classes + [S > 0])``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .._kernels.anonymise import coarsen_rows, evaluate_nodes, node_classes
from .._kernels.groups import group_ids
from .hierarchy import Hierarchy

__all__ = ["Problem", "prepare", "Evaluation", "floor10", "METRICS"]

METRICS = ("loss", "entropy", "precision", "discernibility", "aecs")


def floor10(x: float) -> float:
    """ARX's rounding of per-attribute values: ``floor(x * 1e10) / 1e10``."""
    return math.floor(x * 1e10) / 1e10


@dataclass(frozen=True)
class Problem:
    """Everything a node evaluation needs, on the distinct records (``u`` of them)."""

    qis: tuple
    hierarchies: tuple
    n: int
    rows: np.ndarray      # (m, u) int32 hierarchy row index per QI
    counts: np.ndarray    # (u,) int64
    inverse: np.ndarray   # (n,) int64 distinct row of every record
    sens: np.ndarray      # (s, u) int32 sensitive codes
    scards: np.ndarray    # (s,) int64
    lreq: np.ndarray      # (s,) int64 distinct l per sensitive column
    k: int
    limit: int            # absolute suppression limit floor(s n)
    maps: np.ndarray      # flat generalised codes of hierarchy rows
    shares: np.ndarray    # flat Loss share numerators (table rows sharing the generalised value)
    moff: np.ndarray      # (m, hmax + 1) offsets into maps / shares
    cards: np.ndarray     # (m, hmax + 1) generalised cardinalities
    heights: np.ndarray   # (m,)
    gen_share: tuple      # per QI, per level: share numerators summed over records (no suppression)
    gen_entropy: tuple    # per QI, per level: first entropy term (no suppression)

    @property
    def m(self) -> int:
        return len(self.qis)

    def evaluate(self, nodes: np.ndarray, full: bool = True) -> "Evaluation":
        """Evaluate ``nodes``; ``full=False`` skips the entropy term (Loss, suppression, classes only)."""
        nodes = np.ascontiguousarray(nodes, dtype=np.int64).reshape(-1, self.m)
        out = evaluate_nodes(nodes, self.rows, self.counts, self.sens, self.scards, self.lreq, np.int64(self.k),
                             self.maps, self.moff, self.cards, self.shares, np.int64(self.cards.max()), bool(full))
        return Evaluation(self, nodes, *out)

    def classes(self, node):
        """Class id of every distinct row, class sizes and failing flags at ``node``."""
        return node_classes(np.asarray(node, dtype=np.int64), self.rows, self.counts, self.sens, self.scards,
                            self.lreq, np.int64(self.k), self.maps, self.moff, self.cards)

    def project(self, cols) -> "Problem":
        """The problem on the quasi-identifiers ``cols`` only (same records, same conditions).

        Every class of a node is contained in a class of its projection, so the records the
        projection suppresses are a lower bound on the node's."""
        cols = list(cols)
        moff, cards = np.ascontiguousarray(self.moff[cols]), np.ascontiguousarray(self.cards[cols])
        sub = np.ascontiguousarray(self.rows[cols])
        # level 0 codes a hierarchy row one to one, so the distinct rows at the bottom node
        first, counts, gid = coarsen_rows(np.zeros(len(cols), dtype=np.int64), sub, self.counts, self.sens,
                                          self.scards, self.maps, moff, cards)
        rows = np.ascontiguousarray(sub[:, first])
        sens = np.ascontiguousarray(self.sens[:, first])
        return Problem(tuple(self.qis[c] for c in cols), tuple(self.hierarchies[c] for c in cols), self.n, rows,
                       counts, gid, sens, self.scards, self.lreq, self.k, self.limit, self.maps, self.shares,
                       moff, cards,
                       self.heights[cols], tuple(self.gen_share[c] for c in cols),
                       tuple(self.gen_entropy[c] for c in cols))

    def coarsen(self, base) -> "Problem":
        """The same problem on the distinct rows of the generalisation at node ``base``:
        exact for every node at or above ``base`` (their classes are unions of its rows)."""
        first, counts, gid = coarsen_rows(np.ascontiguousarray(base, dtype=np.int64), self.rows, self.counts,
                                          self.sens, self.scards, self.maps, self.moff, self.cards)
        return dataclasses.replace(self, rows=np.ascontiguousarray(self.rows[:, first]), counts=counts, inverse=gid,
                                   sens=np.ascontiguousarray(self.sens[:, first]))

    def lower_bound_loss(self, nodes: np.ndarray) -> np.ndarray:
        """ARX Loss without suppression: a lower bound, monotone along the lattice."""
        per = np.empty(nodes.shape, dtype=np.float64)
        for j, h in enumerate(self.hierarchies):
            table = self.loss_i_array(j, np.asarray(self.gen_share[j], dtype=np.int64))
            per[:, j] = table[nodes[:, j]]
        return geometric(per)

    def loss_i_array(self, j: int, numerator: np.ndarray) -> np.ndarray:
        """:meth:`loss_i` for an array of numerators (the same floating-point operations)."""
        n, d = self.n, self.hierarchies[j].size
        if d <= 1 or n == 0:
            return np.zeros(len(numerator))
        x = np.maximum(0.0, (numerator - n) / float(n * d - n))
        return np.floor(x * 1e10) / 1e10

    def loss_i(self, j: int, numerator: int) -> float:
        """Per-attribute Loss from ``numerator`` = D * (sum of the records' shares)."""
        n, d = self.n, self.hierarchies[j].size
        if d <= 1 or n == 0:
            return 0.0
        return floor10(max(0.0, (numerator - n) / (n * d - n)))


def geometric(per: np.ndarray) -> np.ndarray:
    """ARX's aggregate: ``prod (1 + loss_i)^(1/m) - 1`` along the last axis."""
    m = per.shape[-1]
    out = np.ones(per.shape[:-1])
    for j in range(m):
        out = out * (per[..., j] + 1.0) ** (1.0 / m)
    return out - 1.0


@dataclass(frozen=True)
class Evaluation:
    """Kernel outputs for a batch of nodes, with the measures derived from them."""

    problem: Problem
    nodes: np.ndarray
    suppressed: np.ndarray
    n_classes: np.ndarray
    sumsq: np.ndarray
    supshare: np.ndarray
    supent: np.ndarray

    @property
    def anonymous(self) -> np.ndarray:
        return self.suppressed <= self.problem.limit

    def reported(self):
        """Suppressed records and classes as ARX reports them: with a positive suppression limit,
        ARX flags every record of the top node (every QI at its top level) as suppressed and
        counts no class (observed on ARX 3.9.2; with a zero limit it reports one class)."""
        top = (self.nodes == self.problem.heights[None, :]).all(axis=1) & (self.problem.limit > 0)
        return (np.where(top, self.problem.n, self.suppressed), np.where(top, 0, self.n_classes))

    def loss_per_attribute(self) -> np.ndarray:
        """:meth:`Problem.loss_i_array` of every node and QI at once (the same operations)."""
        p = self.problem
        n = p.n
        d = np.array([h.size for h in p.hierarchies], dtype=np.int64)
        table = np.zeros(p.moff.shape, dtype=np.int64)
        for j, gs in enumerate(p.gen_share):
            table[j, :len(gs)] = gs
        num = table[np.arange(p.m), self.nodes] - self.supshare + self.suppressed[:, None] * d
        den = (n * d - n).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.maximum(0.0, (num - n) / den)
        per = np.floor(x * 1e10) / 1e10
        per[:, (d <= 1) | (n == 0)] = 0.0
        return per

    def loss(self) -> np.ndarray:
        return geometric(self.loss_per_attribute())

    def entropy_per_attribute(self) -> np.ndarray:
        p = self.problem
        per = np.empty(self.nodes.shape)
        for j in range(p.m):
            v = np.asarray(p.gen_entropy[j])[self.nodes[:, j]] + self.supent[:, j]
            per[:, j] = [floor10(-x) if x != 0 else 0.0 for x in v]
        return per

    def precision_per_attribute(self) -> np.ndarray:
        p = self.problem
        n, s = p.n, self.suppressed.astype(float)
        h = p.heights.astype(float)
        frac = np.where(h > 0, self.nodes / np.where(h > 0, h, 1.0), 0.0)
        return ((n - s)[:, None] * frac + s[:, None]) / n

    def metrics(self) -> dict:
        """The five measures per node (arrays)."""
        p = self.problem
        s = self.suppressed
        return {
            "loss": self.loss(),
            "entropy": self.entropy_per_attribute().sum(axis=1),
            "precision": self.precision_per_attribute().mean(axis=1),
            "discernibility": self.sumsq + float(p.n) * s,
            "aecs": p.n / (self.n_classes + (s > 0)),
        }


def _level_tables(h: Hierarchy):
    """Per level: generalised code of every table row, its cardinality and its Loss share."""
    codes, cards, shares = [], [], []
    for col in h.levels:
        uniq, inv, cnt = np.unique(np.array(col, dtype=object).astype(str), return_inverse=True, return_counts=True)
        codes.append(inv.astype(np.int32))
        cards.append(len(uniq))
        shares.append(cnt[inv].astype(np.int64))
    return codes, cards, shares


def _distinct(records: np.ndarray):
    """Distinct rows of ``records`` (columns, records): ``(first index, counts, inverse)``."""
    cards = records.max(axis=1).astype(np.int64) + 1 if records.shape[1] else np.ones(len(records), np.int64)
    gid, sizes = group_ids(records, cards)
    first = np.full(len(sizes), -1, dtype=np.int64)
    order = np.arange(len(gid))[::-1]
    first[gid[order]] = order
    return first, sizes.astype(np.int64), gid


def prepare(qis, hierarchies, row_index, sens_codes, lreq, k, limit, weights=None) -> Problem:
    """A :class:`Problem` from per-QI hierarchy row indices and sensitive codes (one per record).

    With ``weights`` each row stands for ``weights[i]`` records (a table reduced to its
    distinct rows, e.g. on Spark): the problem is the one of those records, since counts
    add up under every generalisation; ``inverse`` then maps the given rows.
    """
    m = len(qis)
    n = len(row_index[0]) if m else 0
    records = np.vstack([np.asarray(c, dtype=np.int32) for c in list(row_index) + list(sens_codes)])
    first, counts, inverse = _distinct(records)
    if weights is not None:
        weights = np.asarray(weights, dtype=np.int64)
        counts = np.bincount(inverse, weights=weights, minlength=len(first)).astype(np.int64)
        n = int(weights.sum())
    rows = np.ascontiguousarray(records[:m, first])
    sens = np.ascontiguousarray(records[m:, first]).reshape(len(sens_codes), len(first))
    hmax = max(h.height for h in hierarchies)
    moff = np.zeros((m, hmax + 1), dtype=np.int64)
    cards = np.ones((m, hmax + 1), dtype=np.int64)
    maps, shares, gen_share, gen_ent = [], [], [], []
    off = 0
    for j, h in enumerate(hierarchies):
        codes, cds, shs = _level_tables(h)
        a = np.bincount(rows[j], weights=counts, minlength=h.size)  # records per level-0 row
        a_int = a.astype(np.int64)  # exact: whole numbers of records
        gs, ge = [], []
        for lv in range(h.height + 1):
            moff[j, lv] = off
            cards[j, lv] = cds[lv]
            maps.append(codes[lv])
            shares.append(shs[lv])
            off += h.size
            gs.append(int(np.dot(shs[lv], a_int)))
            b = np.bincount(codes[lv], weights=a, minlength=cds[lv])[codes[lv]]
            nz = a > 0
            ge.append(float(np.sum(a[nz] * np.log2(a[nz] / b[nz]))))
        gen_share.append(tuple(gs))
        gen_ent.append(tuple(ge))
    scards = np.array([int(c.max()) + 1 if len(c) else 1 for c in sens_codes], dtype=np.int64)
    return Problem(tuple(qis), tuple(hierarchies), int(n), rows, counts, inverse,
                   sens.astype(np.int32), scards, np.asarray(lreq, dtype=np.int64), int(k), int(limit),
                   np.concatenate(maps).astype(np.int32), np.concatenate(shares), moff, cards,
                   np.array([h.height for h in hierarchies], dtype=np.int64), tuple(gen_share), tuple(gen_ent))
