"""Optimal full-domain generalisation: best-first search on a monotone lower bound.

ARX's Loss with record suppression is not monotone along the lattice (a coarser node may
suppress fewer records and lose less), so the usual pruning "every successor of an
anonymous node is worse" does not hold. What does hold is a lower bound: the Loss of a
node computed without suppression (every record keeps its generalised value). Each
record's share can only grow when a level rises, and a suppressed record's share is 1, the
largest possible, so the bound is monotone along the lattice and never exceeds the Loss
with suppression (the 10-decimal floors and the geometric mean are monotone too).

Search: nodes are taken from a priority queue in increasing lower bound, starting from the
bottom and adding the direct successors of every node taken (a node with bound b is reached
through predecessors whose bounds are at most b). Nodes are evaluated in batches on the table
of distinct records. The search stops when the smallest bound left exceeds the best Loss
found among anonymous nodes: every unseen node is then worse. It is therefore exact, and
returns ARX's optimum (the anonymous node of least Loss; ties go to the lower total level,
then to the lexicographically smaller levels). Past ``max_evaluations`` nodes the search
stops early and returns the best anonymous node found so far, or the top node if none was,
and says it is not proven optimal. ``docs/methods.md#anonymisation``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .lattice import Problem, geometric

__all__ = ["SearchOutcome", "optimal_node", "exhaustive"]


@dataclass(frozen=True)
class SearchOutcome:
    node: tuple | None        # best anonymous node (None when none was found)
    loss: float
    evaluated: int
    exact: bool
    closest: tuple | None     # when no node is anonymous: the node that suppresses fewest records
    closest_suppressed: int


def _score(problem: Problem, nodes: np.ndarray, metric: str):
    ev = problem.evaluate(nodes)
    values = ev.metrics()[metric] if metric != "loss" else ev.loss()
    return ev, values


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
                cnt = problem.shares[problem.moff[j, lv] + problem.rows[j]]
                order = np.argsort(-cnt, kind="stable")
                mult = np.cumsum(problem.counts[order])
                rise = np.cumsum(problem.counts[order] * (h.size - cnt[order]))
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
            per[:, j] = [p.loss_i(j, int(x)) for x in num]
        return geometric(per)


def _key(value: float, node: tuple):
    return (value, sum(node), node)


def optimal_node(problem: Problem, *, metric: str = "loss", batch: int = 64,
                 max_evaluations: int = 200_000) -> SearchOutcome:
    """The anonymous node of least ``metric`` (see the module docstring)."""
    heights = [int(h) for h in problem.heights]
    m = len(heights)
    bottom = tuple([0] * m)
    use_bound = metric in ("loss", "precision")
    bound = (lambda arr: problem.lower_bound_loss(arr)) if metric == "loss" else \
        (lambda arr: (arr / np.maximum(problem.heights, 1)).mean(axis=1))
    pair = PairBound(problem)
    sup_bound = SuppressionBound(problem) if metric == "loss" else None
    heap = [(0.0, 0, bottom)]
    seen = {bottom}
    best, best_key = None, None
    closest, closest_s = None, None
    evaluated = 0
    exact = True
    while heap:
        if use_bound and best_key is not None and heap[0][0] > best_key[0]:
            break
        if evaluated >= max_evaluations:
            exact = False
            break
        popped = [heapq.heappop(heap)[2] for _ in range(min(batch, len(heap)))]
        arr = np.array(popped, dtype=np.int64)
        s_lb = pair.suppressed(arr)
        keep = s_lb <= problem.limit
        if metric == "loss" and best_key is not None and keep.any():
            keep &= sup_bound.loss(arr, s_lb) <= best_key[0]
        take = [nd for nd, kp in zip(popped, keep) if kp]
        ev, values = _score(problem, arr[keep], metric)
        evaluated += len(take)
        for i, node in enumerate(take):
            if ev.anonymous[i]:
                key = _key(float(values[i]), node)
                if best_key is None or key < best_key:
                    best, best_key = node, key
            elif closest_s is None or (int(ev.suppressed[i]), sum(node), node) < (closest_s, sum(closest), closest):
                closest, closest_s = node, int(ev.suppressed[i])
        succ = []
        for node in popped:
            for j in range(m):
                if node[j] < heights[j]:
                    s = node[:j] + (node[j] + 1,) + node[j + 1:]
                    if s not in seen:
                        seen.add(s)
                        succ.append(s)
        if succ:
            sb = bound(np.array(succ, dtype=np.int64)) if use_bound else np.zeros(len(succ))
            for b, s in zip(sb, succ):
                heapq.heappush(heap, (float(b), sum(s), s))
    if best is None:
        top = tuple(heights)
        s_top = int(problem.evaluate(np.array([top])).suppressed[0])
        if closest is None or (s_top, sum(top), top) < (closest_s, sum(closest), closest):
            closest, closest_s = top, s_top
        return SearchOutcome(None, float("nan"), evaluated, exact, closest, closest_s)
    return SearchOutcome(best, best_key[0], evaluated, exact, None, 0)


def all_nodes(heights) -> np.ndarray:
    """Every node of the lattice, lexicographic order."""
    grids = np.indices([int(h) + 1 for h in heights]).reshape(len(heights), -1).T
    return np.ascontiguousarray(grids, dtype=np.int64)


def exhaustive(problem: Problem, *, metric: str = "loss") -> SearchOutcome:
    """Evaluate every node (the reference the search is tested against)."""
    nodes = all_nodes(problem.heights)
    ev = problem.evaluate(nodes)
    values = ev.metrics()[metric]
    best_key = None
    for i in np.nonzero(ev.anonymous)[0]:
        key = _key(float(values[i]), tuple(int(x) for x in nodes[i]))
        if best_key is None or key < best_key:
            best_key = key
    if best_key is None:
        i = int(np.lexsort((nodes.sum(axis=1), ev.suppressed))[0])
        return SearchOutcome(None, float("nan"), len(nodes), True, tuple(int(x) for x in nodes[i]),
                             int(ev.suppressed[i]))
    return SearchOutcome(best_key[2], best_key[0], len(nodes), True, None, 0)
