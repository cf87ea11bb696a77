"""Which combinations of quasi-identifiers create uniques: one row per QI subset.

See ``docs/methods.md#combination-sweep``.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pandas as pd

from .._kernels.combinations import _sweep_bin, cell_counts, decode_cells, first_rows, sweep_prefix
from .._kernels.groups import group_ids_columns
from .._validation import check_k_values, check_max_seconds, check_positive_int
from ..exceptions import InvalidParameterError, PerformanceWarning, ResourceLimitError
from ._classes import engine_for, resolve

__all__ = ["combination_sweep", "combination_sweep_of_counts"]

#: A PerformanceWarning is issued above this many subsets; above MAX_SUBSETS it is an error.
WARN_SUBSETS = 100_000
MAX_SUBSETS = 5_000_000
#: Full cross-classifications of at most this many cells are counted in a dense table.
DENSE_CELLS = 1 << 20


def combination_sweep(data, quasi_identifiers, *, max_size: int | None = None,
                      k=(2, 3, 5, 10), max_seconds: float | None = None) -> pd.DataFrame:
    """Equivalence-class statistics for every subset of the quasi-identifiers.

    For each subset ``S`` of at most ``max_size`` QIs (in ``itertools.combinations``
    order, smallest subsets first), records that agree on ``S`` form a class; with
    ``f(r)`` the size of record ``r``'s class the row reports the number of classes,
    the sample uniques (records with ``f(r) = 1``), the records below each ``k``
    (``f(r) < k``, i.e. not k-anonymous) and the smallest class. This is the table behind
    mitigation advice: the smallest subsets that already create uniques are the ones to
    coarsen. A missing value is one more category (``NA == NA``, as
    ``groupby(dropna=False)``).

    The QIs are read once (the encoding layer's fused columns: raw integer and
    categorical codes, other columns encoded) and reduced to the distinct full-key rows
    with their counts: by counting the cells of the cross-classification in one parallel
    pass when it has at most 2**20 cells, else by one grouping. Every subset is then
    grouped over those distinct rows only, walking the subsets depth first so that the
    key of ``S + (c,)`` extends the key of ``S``; branches run in parallel. Results equal
    a pandas ``groupby(dropna=False)`` loop over the subsets (tests/test_combinations.py).

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow/polars table, or :class:`idrisk.Encoded`)
        Not modified.
    quasi_identifiers : sequence of column names
    max_size : int, optional
        Largest subset size (default: all, ``2^m - 1`` subsets).
    k : int or sequence of int, default (2, 3, 5, 10)
    max_seconds : float, optional
        A time limit (default: none). The subsets are then walked one branch (first
        quasi-identifier) at a time, and no branch starts after ``max_seconds`` from the
        call: the call raises :class:`~idrisk.exceptions.ResourceLimitError` with the
        number of subsets done, rather than return a partial table. A branch already
        running is finished (the first holds about half the subsets), so the call can
        overrun. Same results as without a limit. Sweeps over more than 100,000 subsets
        warn (:class:`~idrisk.exceptions.PerformanceWarning`) before they start; more than
        5,000,000 are refused.

    Returns
    -------
    pandas.DataFrame
        Columns ``quasi_identifiers`` (tuple of names), ``size``, ``n_classes``,
        ``sample_uniques``, ``records_below_{k}`` for each k, ``smallest_class``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 1, 2], "b": [0, 1, 1]})
    >>> combination_sweep(df, ["a", "b"], k=2)["sample_uniques"].tolist()
    [1, 1, 3]
    """
    start = time.monotonic()
    if (engine := engine_for(data, "combination_sweep")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, max_size=max_size, k=k, max_seconds=max_seconds)
    inp = resolve(data, quasi_identifiers)
    qis = inp.quasi_identifiers
    size, ks, max_seconds = _check_sweep(len(qis), max_size, k, max_seconds)
    # one grouping on every QI, from the raw columns (no int32 code copies)
    D, cards, counts = _distinct_rows(inp.key_columns(), inp.n_rows)
    return _sweep(D, cards, counts, qis, size, ks, max_seconds, start)


def _check_sweep(m: int, max_size, k, max_seconds=None):
    """(largest subset size, k values, time limit), refusing too many subsets and warning about many."""
    size = m if max_size is None else min(check_positive_int(max_size, name="max_size"), m)
    ks = check_k_values(k)
    max_seconds = check_max_seconds(max_seconds)
    n_sub = sum(math.comb(m, s) for s in range(1, size + 1))
    if n_sub > MAX_SUBSETS:
        raise InvalidParameterError(
            f"{m} quasi-identifiers with max_size={size} make {n_sub:,} subsets; pass a smaller "
            "max_size (for example 3)"
        )
    if n_sub > WARN_SUBSETS:
        warnings.warn(f"combination_sweep over {n_sub:,} subsets of {m} quasi-identifiers can take "
                      "long; lower max_size to bound it", PerformanceWarning, stacklevel=3)
    return size, ks, max_seconds


def combination_sweep_of_counts(D, cards, counts, quasi_identifiers, *, max_size: int | None = None,
                                k=(2, 3, 5, 10), max_seconds: float | None = None) -> pd.DataFrame:
    """:func:`combination_sweep` from the distinct full-key rows and their counts.

    ``D`` int32 (m, g) holds each distinct row's codes ``0 .. cards[j] - 1`` (a missing
    value is a code of its own), ``counts`` the number of records of each row. The entry
    point for a table already reduced to its distinct keys (``idrisk.spark``); ``max_seconds``
    as in :func:`combination_sweep`, counted from this call.
    """
    start = time.monotonic()
    qis = list(quasi_identifiers)
    size, ks, max_seconds = _check_sweep(len(qis), max_size, k, max_seconds)
    return _sweep(np.ascontiguousarray(D, dtype=np.int32), np.asarray(cards, dtype=np.int64),
                  np.asarray(counts), qis, size, ks, max_seconds, start)


def _sweep(D, cards, counts, qis, size, ks, max_seconds=None, start=None) -> pd.DataFrame:
    """The sweep's table over the distinct rows (parameters checked)."""
    m = len(qis)
    subsets = [S for s in range(1, size + 1) for S in itertools.combinations(range(m), s)]
    branch_start, perm, bins = _walk_plan(subsets, m, size)
    g = len(counts)
    args = (D, cards, counts.astype(np.int64), np.asarray(ks, dtype=np.int64), np.int64(max(2 * g, 1 << 12)),
            np.int64(size), branch_start, perm)
    stats = sweep_prefix(*args, bins) if max_seconds is None else _timed_sweep(args, bins, (start, max_seconds))
    out = pd.DataFrame({
        "quasi_identifiers": [tuple(qis[j] for j in S) for S in subsets],
        "size": np.array([len(S) for S in subsets], dtype=np.int64),
        "n_classes": stats[:, 0],
        "sample_uniques": stats[:, 1],
    })
    for j, kk in enumerate(ks):
        out[f"records_below_{kk}"] = stats[:, 3 + j]
    out["smallest_class"] = stats[:, 2]
    return out


def _timed_sweep(args, bins, deadline):
    """:func:`sweep_prefix` one branch at a time on the same threads, none started after ``deadline``
    (``(start, seconds)`` on :func:`time.monotonic`)."""
    branch_start, perm = args[-2], args[-1]
    out = np.zeros((perm.shape[0], 3 + args[3].shape[0]), dtype=np.int64)
    order = [int(c) for c in bins.T.ravel() if c >= 0]  # each thread's biggest branch first
    cost = np.diff(np.append(branch_start, perm.shape[0]))

    def run(c0):
        if time.monotonic() > deadline[0] + deadline[1]:
            return 0
        _sweep_bin(*args, np.array([[c0]], dtype=np.int64), np.int64(0), out)
        return int(cost[c0])

    with ThreadPoolExecutor(max_workers=bins.shape[0]) as pool:
        done = list(pool.map(run, order))
    if sum(done) < perm.shape[0]:
        raise ResourceLimitError(
            f"the combination sweep stopped at max_seconds={deadline[1]:g} (after "
            f"{time.monotonic() - deadline[0]:.1f} s) with {sum(done):,} of {perm.shape[0]:,} subsets done; no "
            "table is returned. Lower max_size, use fewer quasi-identifiers, or raise max_seconds")
    return out


def _distinct_rows(cols, n: int):
    """The distinct full-key rows ``D`` (int32 (m, g), values ``0 .. cards-1``) and their counts.

    A small cross-classification is counted cell by cell in one pass over the rows;
    otherwise the rows are grouped once.
    """
    m = len(cols)
    spans = [max(int(c.span), 1) for c in cols]
    cards = np.asarray(spans, dtype=np.int64)
    if math.prod(spans) <= DENSE_CELLS:
        n_threads = max(1, numba.get_num_threads())
        cells = cell_counts(cols, n, math.prod(spans), n_threads if n >= 100_000 else 1)
        D, counts = decode_cells(cells, cards)
        return D, cards, counts
    gid, counts = group_ids_columns(cols, n)
    first = first_rows(gid, np.int64(len(counts)))
    D = np.empty((m, len(counts)), dtype=np.int32)
    for j, c in enumerate(cols):
        D[j] = c.values[first].astype(np.int64) - c.lo
    return D, cards, counts


def _walk_plan(subsets, m: int, size: int):
    """The depth-first walk of ``subsets`` for :func:`sweep_prefix`, balanced over threads.

    Returns ``(branch_start, perm, bins)``: where each first column's branch starts in the
    depth-first order, the output row of each depth-first position, and the branches
    (first columns) of each thread, biggest first to the lightest bin (a branch costs its
    number of subsets).
    """
    row_of = {S: i for i, S in enumerate(subsets)}
    dfs = []
    branch_start = np.zeros(m, dtype=np.int64)

    def visit(prefix, start):
        for c in range(start, m):
            S = prefix + (c,)
            dfs.append(S)
            if len(S) < size:
                visit(S, c + 1)

    for c0 in range(m):
        branch_start[c0] = len(dfs)
        dfs.append((c0,))
        if size > 1:
            visit((c0,), c0 + 1)
    perm = np.array([row_of[S] for S in dfs], dtype=np.int64)
    n_bins = max(1, min(m, numba.get_num_threads()))
    cost = np.diff(np.append(branch_start, len(dfs)))
    loads = [0] * n_bins
    members = [[] for _ in range(n_bins)]
    for c0 in np.argsort(-cost, kind="stable"):
        b = loads.index(min(loads))
        members[b].append(int(c0))
        loads[b] += int(cost[c0])
    bins = np.full((n_bins, max(len(x) for x in members)), -1, dtype=np.int64)
    for b, x in enumerate(members):
        bins[b, : len(x)] = x
    return branch_start, perm, bins
