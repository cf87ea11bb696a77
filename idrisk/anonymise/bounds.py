"""Bounds that let the search skip nodes without evaluating them.

* :func:`lower_bound` of a metric: the Loss (or precision) of a node computed without
  suppression. A record's share only grows when a level rises and a suppressed record's
  share is 1, the largest, so the bound is monotone along the lattice and never exceeds
  the measure with suppression (the 10-decimal floors and the geometric mean are monotone).
* :class:`PairBound`: records suppressed on a pair (or a triple) of quasi-identifiers, a
  lower bound on a node's suppressed records (every class of a node lies inside a class of
  each projection, and a class that fails k or distinct l in the projection fails in the node).
* :class:`SuppressionBound`: the Loss bound raised by at least that many suppressions.

``docs/methods.md#anonymisation``.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._kernels.anonymise import projection_bound, projection_suppressed
from .lattice import Problem, geometric

__all__ = ["PairBound", "SuppressionBound", "lower_bound", "all_nodes", "triples"]


def all_nodes(heights) -> np.ndarray:
    """Every node of the lattice, lexicographic order."""
    grids = np.indices([int(h) + 1 for h in heights]).reshape(len(heights), -1).T
    return np.ascontiguousarray(grids, dtype=np.int64)


def lower_bound(problem: Problem, nodes: np.ndarray, metric: str) -> np.ndarray:
    """Monotone lower bound of ``metric`` (zero where none is known)."""
    if metric == "loss":
        return problem.lower_bound_loss(nodes)
    if metric == "precision":
        return (nodes / np.maximum(problem.heights, 1)).mean(axis=1)
    return np.zeros(len(nodes))


class PairBound:
    """Records suppressed on projections of the problem onto two (or, with ``size=3``, three)
    quasi-identifiers: the largest over them is a lower bound on a node's suppressed records (a
    node's classes refine each projection's, and a class failing k or distinct l in a
    projection fails in the node). Pairs: every pair (with three or more quasi-identifiers).
    Triples (:func:`triples`): those of the quasi-identifiers with at least two levels above
    their values (a column generalised in one step adds little to its pairs: on adult, 20 such
    triples tag about as many nodes as all 84); a triple's nodes are evaluated on at most
    ``TRIPLE_ROWS`` times the distinct rows in all, the rest left without information (the
    lowest triple nodes of nearly unique data cost the most)."""

    TRIPLE_ROWS = 4

    def __init__(self, problem: Problem, size: int = 2):
        m = problem.m
        sizes = [int(h) + 1 for h in problem.heights]
        if size == 3:
            subsets = triples(problem)
        else:
            subsets = list(itertools.combinations(range(m), 2)) if m >= 3 else []
        self.subsets = subsets
        p = problem
        budgets = [-1 if len(c) == 2 else self.TRIPLE_ROWS * p.rows.shape[1] for c in subsets]
        self.flat, self.offsets = projection_suppressed(subsets, p.rows, p.counts, p.sens, p.scards, p.lreq,
                                                        np.int64(p.k), p.maps, p.moff, p.cards, p.heights, budgets)
        t = 3  # pairs and triples (the kernel reads three columns, a pair's third with stride 0)
        self.cols = np.zeros((len(subsets), t), dtype=np.int64)
        self.strides = np.zeros((len(subsets), t), dtype=np.int64)
        self.sizes = np.array([len(c) for c in subsets], dtype=np.int64)
        for q, cols in enumerate(subsets):
            stride = 1
            for a in range(len(cols) - 1, -1, -1):
                self.cols[q, a] = cols[a]
                self.strides[q, a] = stride
                stride *= sizes[cols[a]]

    def suppressed(self, nodes: np.ndarray) -> np.ndarray:
        nodes = np.ascontiguousarray(nodes, dtype=np.int64)
        return projection_bound(nodes, self.cols, self.sizes, self.offsets, self.strides, self.flat)


def triples(problem: Problem) -> list:
    """The triples :class:`PairBound` projects on with ``size=3`` (none below four
    quasi-identifiers: with three, a triple is the node itself)."""
    if problem.m < 4:
        return []
    return list(itertools.combinations([j for j in range(problem.m) if problem.heights[j] >= 2], 3))


class SuppressionBound:
    """Loss lower bound given at least ``t`` suppressed records: a suppressed record's share
    rises from ``cnt / D`` to 1, so the Loss numerator grows at least by the ``t`` smallest
    rises ``D - cnt`` (records of the largest generalised groups). Not monotone along the
    lattice, so it only skips evaluations; the queue keeps the monotone bound."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.tables = []
        for j, h in enumerate(problem.hierarchies):
            per_level = []
            per_row = np.bincount(problem.rows[j], weights=problem.counts, minlength=h.size)  # records per table row
            for lv in range(h.height + 1):
                lo = problem.moff[j, lv]
                codes = problem.maps[lo:lo + h.size]
                card = int(problem.cards[j, lv])
                cnt = np.bincount(codes, minlength=card)  # table rows per generalised value
                recs = np.bincount(codes, weights=per_row, minlength=card).astype(np.int64)
                order = np.argsort(-cnt, kind="stable")
                order = order[recs[order] > 0]
                mult = np.cumsum(recs[order])
                rise = np.cumsum(recs[order] * (h.size - cnt[order]))
                per_level.append((mult, rise, h.size - cnt[order]))
            self.tables.append(per_level)

        # per QI, the levels' tables end to end, each level's counts shifted by level * (n + 1)
        # so one sorted search serves every level (a count is at most n)
        self.flat = []
        for per_level in self.tables:
            shift = [np.full(len(mult), lv * (problem.n + 1), dtype=np.int64)
                     for lv, (mult, _, _) in enumerate(per_level)]
            starts = np.cumsum([0] + [len(mult) for mult, _, _ in per_level])
            self.flat.append((np.concatenate([mult for mult, _, _ in per_level]) + np.concatenate(shift),
                              np.concatenate([rise for _, rise, _ in per_level]),
                              np.concatenate([unit for _, _, unit in per_level]), starts))

    def _rise(self, j, lv, t):
        """The least rise of the Loss numerator of QI ``j`` at levels ``lv`` (an array) given
        ``t`` suppressed records: the first ``t`` records of the largest groups, the group that
        reaches ``t`` in part."""
        mult, rise, unit, starts = self.flat[j]
        lo, hi = starts[lv], starts[lv + 1]
        i = np.searchsorted(mult, t + lv * (self.problem.n + 1), side="left")  # first group reaching t records
        i = np.minimum(i, hi - 1)
        before = i > lo
        before_m = np.where(before, mult[i - 1] - lv * (self.problem.n + 1), 0)
        before_r = np.where(before, rise[i - 1], 0)
        return np.where(t > 0, before_r + (t - before_m) * unit[i], 0)

    def loss(self, nodes: np.ndarray, t: np.ndarray) -> np.ndarray:
        p = self.problem
        per = np.empty(nodes.shape, dtype=np.float64)
        for j in range(p.m):
            lv = nodes[:, j]
            num = np.asarray(p.gen_share[j], dtype=np.int64)[lv] + self._rise(j, lv, t)
            per[:, j] = p.loss_i_array(j, num)
        return geometric(per)
