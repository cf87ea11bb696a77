"""Bounds that let the search skip nodes without evaluating them.

* :func:`lower_bound` of a metric: the Loss (or precision) of a node computed without
  suppression. A record's share only grows when a level rises and a suppressed record's
  share is 1, the largest, so the bound is monotone along the lattice and never exceeds
  the measure with suppression (the 10-decimal floors and the geometric mean are monotone).
* :class:`PairBound`: records suppressed on a pair of quasi-identifiers, a lower bound on a
  node's suppressed records (every class of a node lies inside a class of each projection,
  and a class that fails k or distinct l in the projection fails in the node).
* :class:`SuppressionBound`: the Loss bound raised by at least that many suppressions.

``docs/methods.md#anonymisation``.
"""

from __future__ import annotations

import numpy as np

from .lattice import Problem, geometric

__all__ = ["PairBound", "SuppressionBound", "lower_bound", "all_nodes"]


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
    """Records suppressed on every pair of quasi-identifiers: ``max`` over pairs is a lower
    bound on a node's suppressed records (a node's classes refine each projection's)."""

    def __init__(self, problem: Problem):
        m = problem.m
        self.pairs = []
        if m < 3:
            return
        for a in range(m):
            for b in range(a + 1, m):
                sub = problem.project([a, b])
                nodes = all_nodes(sub.heights)
                s = sub.evaluate(nodes).suppressed.reshape(int(sub.heights[0]) + 1, int(sub.heights[1]) + 1)
                self.pairs.append((a, b, s))

    def suppressed(self, nodes: np.ndarray) -> np.ndarray:
        out = np.zeros(len(nodes), dtype=np.int64)
        for a, b, s in self.pairs:
            np.maximum(out, s[nodes[:, a], nodes[:, b]], out=out)
        return out


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
            for lv in range(h.height + 1):
                lo = problem.moff[j, lv]
                codes = problem.maps[lo:lo + h.size]
                card = int(problem.cards[j, lv])
                cnt = np.bincount(codes, minlength=card)  # table rows per generalised value
                recs = np.bincount(codes[problem.rows[j]], weights=problem.counts, minlength=card).astype(np.int64)
                order = np.argsort(-cnt, kind="stable")
                order = order[recs[order] > 0]
                mult = np.cumsum(recs[order])
                rise = np.cumsum(recs[order] * (h.size - cnt[order]))
                per_level.append((mult, rise, h.size - cnt[order]))
            self.tables.append(per_level)

    def _rise(self, j, lv, t):
        mult, rise, unit = self.tables[j][lv]
        i = np.searchsorted(mult, t, side="left")  # first group reaching t records
        i = np.minimum(i, len(mult) - 1)
        before_m = np.where(i > 0, mult[i - 1], 0)
        before_r = np.where(i > 0, rise[i - 1], 0)
        return np.where(t > 0, before_r + (t - before_m) * unit[i], 0)

    def loss(self, nodes: np.ndarray, t: np.ndarray) -> np.ndarray:
        p = self.problem
        per = np.empty(nodes.shape, dtype=np.float64)
        for j in range(p.m):
            num = np.asarray(p.gen_share[j], dtype=np.int64)[nodes[:, j]]
            for lv in np.unique(nodes[:, j]):
                sel = nodes[:, j] == lv
                num[sel] += self._rise(j, int(lv), t[sel])
            per[:, j] = p.loss_i_array(j, num)
        return geometric(per)
