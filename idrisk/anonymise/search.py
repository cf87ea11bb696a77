"""Optimal full-domain generalisation: exact pruned search over the lattice.

ARX's Loss with record suppression is not monotone along the lattice (a coarser node may
suppress fewer records and lose less), so "every successor of an anonymous node is worse"
does not hold. Two monotone facts do (``bounds``): anonymity (k-anonymity and distinct
l-diversity with whole-class suppression: a node that is anonymous stays so when a level
rises, one that is not has no anonymous predecessor) and a lower bound on the measure.

Exact search (lattices up to ``lattice_limit`` nodes):

1. a greedy descent from the top node (anonymous unless the conditions cannot be met) to a
   first solution: from the current node, the anonymous direct predecessor of least measure,
   until none is anonymous;
2. the candidates are the nodes whose bound does not exceed the best measure found and that
   are not known to be non-anonymous (pair projections tag many at once). They are evaluated
   in batches, highest total level first, so that each non-anonymous node tags all its
   predecessors (predictive tagging, as in Flash) and each anonymous one may lower the best
   measure and drop candidates.

It ends when no candidate is left, so the result is ARX's optimum: the anonymous node of
least measure (ties: lower total level, then lexicographically smaller levels). Past the
lattice limit, a best-first search in increasing bound from the bottom (same stopping rule)
runs until ``max_evaluations`` nodes have been evaluated; if it stops early it returns the
best anonymous node found, marked not proven optimal. ``docs/methods.md#anonymisation``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .._kernels.anonymise import close_below
from .bounds import PairBound, SuppressionBound, all_nodes, lower_bound, triples
from .lattice import Problem

__all__ = ["SearchOutcome", "optimal_node", "all_nodes"]

LATTICE_LIMIT = 100_000
#: triple projections are computed when at least this many candidates per triple are left
TRIPLE_CANDIDATES = 20


@dataclass(frozen=True)
class SearchOutcome:
    node: tuple | None        # best anonymous node (None when none was found)
    value: float
    evaluated: int
    exact: bool
    closest: tuple | None     # when no node is anonymous: a node that suppresses fewest records
    closest_suppressed: int
    rejected: tuple = ()      # anonymous nodes that would have been best but failed ``accept``
    trace: tuple = ()         # (nodes, measure, suppressed, anonymous) of every evaluated node


class _Scorer:
    """Evaluates nodes, keeps the best anonymous one and the closest non-anonymous one."""

    KEEP = 8

    def __init__(self, problem: Problem, metric: str, accept=None):
        self.problem, self.metric, self.accept = problem, metric, accept
        self.best_key = None
        self.closest = None
        self.evaluated = 0
        self.rejected: list = []
        self.trace: list = []
        self.coarse: list = []  # (base, problem coarsened there)

    @property
    def best(self) -> float:
        return np.inf if self.best_key is None else self.best_key[0]

    def _coarse(self, base: np.ndarray) -> Problem:
        """The problem on the distinct rows at ``base`` (exact for every node at or above it),
        coarsened from the smallest kept table at or below ``base`` (tables of earlier batches,
        the last ``KEEP`` of them and at most as many rows in all as the problem: batches often
        share their lowest node)."""
        src = self.problem
        for b, p in self.coarse:
            if (b <= base).all() and p.rows.shape[1] < src.rows.shape[1]:
                if (b == base).all():
                    return p
                src = p
        p = src.coarsen(base)
        self.coarse = [*self.coarse[-(self.KEEP - 1):], (base, p)]
        while len(self.coarse) > 1 and sum(q.rows.shape[1] for _, q in self.coarse) > self.problem.rows.shape[1]:
            self.coarse.pop(0)  # at most as many rows kept as the problem has (memory)
        return p

    def score(self, nodes: np.ndarray):
        p = self.problem
        base = nodes.min(axis=0)
        if len(nodes) > 1 and base.any():
            p = self._coarse(base)  # fewer distinct rows, exact for every node of the batch
        ev = p.evaluate(nodes, full=self.metric == "entropy")
        values = ev.loss() if self.metric == "loss" else ev.metrics()[self.metric]
        self.evaluated += len(nodes)
        self.trace.append((np.array(nodes, dtype=np.int64), np.asarray(values, dtype=np.float64),
                           np.asarray(ev.suppressed, dtype=np.int64), np.asarray(ev.anonymous, dtype=bool)))
        good = []
        anon, supp, vals = ev.anonymous.tolist(), ev.suppressed.tolist(), np.asarray(values, dtype=np.float64).tolist()
        for i, lv in enumerate(np.asarray(nodes).tolist()):
            node = tuple(lv)
            if anon[i]:
                good.append((vals[i], sum(node), node))
            else:
                key = (supp[i], sum(node), node)
                if self.closest is None or key < self.closest:
                    self.closest = key
        for key in sorted(good):  # lazily: the extra condition only for a node about to be best
            if self.best_key is not None and key >= self.best_key:
                break
            if self.accept is not None and not self.accept(key[2]):
                self.rejected.append(key[2])
                continue
            self.best_key = key
        return ev.anonymous, values

    def outcome(self, exact: bool) -> SearchOutcome:
        trace = tuple(np.concatenate([t[i] for t in self.trace]) for i in range(4)) if self.trace else ()
        rejected = tuple(self.rejected)
        if self.best_key is not None:
            return SearchOutcome(self.best_key[2], self.best_key[0], self.evaluated, exact, None, 0, rejected, trace)
        c = self.closest
        if c is None:  # every node met k and l but failed the extra condition
            return SearchOutcome(None, float("nan"), self.evaluated, exact, rejected[0] if rejected else None, 0,
                                 rejected, trace)
        return SearchOutcome(None, float("nan"), self.evaluated, exact, c[2], c[0], rejected, trace)


def _descend(scorer: _Scorer, heights) -> None:
    """Greedy descent from the top to a first anonymous node with a low measure."""
    node = np.array(heights, dtype=np.int64)
    anon, _ = scorer.score(node[None, :])
    while anon[0]:
        preds = []
        for j in range(len(node)):
            if node[j] > 0:
                pr = node.copy()
                pr[j] -= 1
                preds.append(pr)
        if not preds:
            return
        preds = np.array(preds)
        anon_p, values = scorer.score(preds)
        if not anon_p.any():
            return
        order = np.lexsort((preds.sum(axis=1), np.where(anon_p, values, np.inf)))
        node = preds[order[0]]


def _candidates(problem: Problem, metric: str, nodes: np.ndarray, best: float) -> np.ndarray:
    """The nodes not known to be non-anonymous (pair projections, then triple projections when
    at least ``TRIPLE_CANDIDATES`` candidates per triple are left: triples cost about a pass over
    the distinct rows each, so they pay when the search would evaluate many nodes) and, for the
    Loss with suppression, not known to lose more than ``best``."""
    sb = SuppressionBound(problem) if metric == "loss" and problem.limit > 0 and np.isfinite(best) else None
    s_lb = np.zeros(len(nodes), dtype=np.int64)
    for size in (2, 3):
        if size == 3 and (problem.limit == 0 or len(nodes) < TRIPLE_CANDIDATES * len(triples(problem))):
            break
        s_lb = np.maximum(s_lb, PairBound(problem, size).suppressed(nodes))
        keep = s_lb <= problem.limit
        if sb is not None:
            keep[keep] = sb.loss(nodes[keep], s_lb[keep]) <= best
        nodes, s_lb = nodes[keep], s_lb[keep]
    return nodes


def _tagged(problem: Problem, metric: str, batch: int, accept=None) -> SearchOutcome:
    nodes = all_nodes(problem.heights)
    scorer = _Scorer(problem, metric, accept)
    _descend(scorer, problem.heights)
    nodes = _candidates(problem, metric, nodes, scorer.best)
    bound = lower_bound(problem, nodes, metric)
    order = np.lexsort((bound, -nodes.sum(axis=1)))  # highest level first, then lowest bound
    nodes, bound = np.ascontiguousarray(nodes[order]), bound[order]
    open_ = np.ones(len(nodes), dtype=bool)  # not yet evaluated nor tagged
    while True:
        take = np.flatnonzero(open_ & (bound <= scorer.best))[:batch]
        if len(take) == 0:
            break
        open_[take] = False
        anon, _ = scorer.score(nodes[take])
        if not anon.all():
            close_below(nodes, open_, np.ascontiguousarray(nodes[take[~anon]]))
    if scorer.best_key is None and scorer.closest is None:
        scorer.score(np.array([problem.heights], dtype=np.int64))
    return scorer.outcome(True)


def _best_first(problem: Problem, metric: str, batch: int, max_evaluations: int, accept=None) -> SearchOutcome:
    heights = [int(h) for h in problem.heights]
    m = len(heights)
    scorer = _Scorer(problem, metric, accept)
    pair = PairBound(problem)
    bottom = tuple([0] * m)
    heap, seen = [(0.0, 0, bottom)], {bottom}
    exact = True
    while heap and heap[0][0] <= scorer.best:
        if scorer.evaluated >= max_evaluations:
            exact = False
            break
        popped = np.array([heapq.heappop(heap)[2] for _ in range(min(batch, len(heap)))], dtype=np.int64)
        keep = pair.suppressed(popped) <= problem.limit
        if keep.any():
            scorer.score(popped[keep])
        succ = []
        for node in map(tuple, popped.tolist()):
            for j in range(m):
                if node[j] < heights[j]:
                    s = node[:j] + (node[j] + 1,) + node[j + 1:]
                    if s not in seen:
                        seen.add(s)
                        succ.append(s)
        if succ:
            arr = np.array(succ, dtype=np.int64)
            for b, s in zip(lower_bound(problem, arr, metric), succ):
                heapq.heappush(heap, (float(b), sum(s), s))
    if scorer.best_key is None:
        scorer.score(np.array([heights], dtype=np.int64))
    return scorer.outcome(exact)


def optimal_node(problem: Problem, *, metric: str = "loss", batch: int = 32, max_evaluations: int = 200_000,
                 lattice_limit: int = LATTICE_LIMIT, accept=None) -> SearchOutcome:
    """The anonymous node of least ``metric`` (see the module docstring).

    ``accept(node) -> bool`` is a further condition, checked only for an anonymous node about
    to become the best; a node it refuses is skipped (and listed in ``rejected``) but still
    counts as anonymous for tagging, so the search stays exact whether or not the condition is
    monotone: the result is the node of least measure among those anonymous and accepted."""
    size = int(np.prod([int(h) + 1 for h in problem.heights], dtype=np.float64))
    if size <= lattice_limit:
        return _tagged(problem, metric, batch, accept)
    return _best_first(problem, metric, batch, max_evaluations, accept)
