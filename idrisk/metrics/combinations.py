"""Which combinations of quasi-identifiers create uniques: one row per QI subset."""

from __future__ import annotations

import itertools
import math
import warnings

import numba
import numpy as np
import pandas as pd

from .._encode import key_columns
from .._kernels.combinations import cell_counts, decode_cells, first_rows, sweep_prefix
from .._kernels.groups import default_limit, group_ids_columns
from .._validation import as_frame, check_columns, check_k_values, check_positive_int
from ..exceptions import InvalidParameterError, PerformanceWarning

__all__ = ["combination_sweep"]

#: A PerformanceWarning is issued above this many subsets; above MAX_SUBSETS it is an error.
WARN_SUBSETS = 100_000
MAX_SUBSETS = 5_000_000
#: Full cross-classifications of at most this many cells are counted in a dense table.
DENSE_CELLS = 1 << 20
DENSE_MAX_QIS = 8


def combination_sweep(data, quasi_identifiers, *, max_size: int | None = None,
                      k=(2, 3, 5, 10)) -> pd.DataFrame:
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
    data : pandas.DataFrame
        Not modified.
    quasi_identifiers : sequence of column names
    max_size : int, optional
        Largest subset size (default: all, ``2^m - 1`` subsets).
    k : int or sequence of int, default (2, 3, 5, 10)

    Returns
    -------
    pandas.DataFrame
        Columns ``quasi_identifiers`` (tuple of names), ``size``, ``n_classes``,
        ``sample_uniques``, ``records_below_{k}`` for each k, ``smallest_class``.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 1, 2], "b": [0, 1, 1]})
    >>> combination_sweep(df, ["a", "b"], k=2)["sample_uniques"].tolist()
    [1, 1, 3]
    """
    frame = as_frame(data)
    qis = check_columns(frame, quasi_identifiers)
    m = len(qis)
    if max_size is None:
        size = m
    else:
        size = min(check_positive_int(max_size, name="max_size"), m)
    ks = check_k_values(k)
    n_sub = sum(math.comb(m, s) for s in range(1, size + 1))
    if n_sub > MAX_SUBSETS:
        raise InvalidParameterError(
            f"{m} quasi-identifiers with max_size={size} make {n_sub:,} subsets; pass a smaller "
            "max_size (for example 3)"
        )
    if n_sub > WARN_SUBSETS:
        warnings.warn(f"combination_sweep over {n_sub:,} subsets of {m} quasi-identifiers can take "
                      "long; lower max_size to bound it", PerformanceWarning, stacklevel=2)
    n = len(frame)
    limit = default_limit(n)
    # one grouping on every QI, from the raw columns (no int32 code copies)
    cols = key_columns(frame, qis, limit)
    spans = [max(int(span), 1) for _, _, span, _ in cols]
    n_threads = max(1, numba.get_num_threads())
    if m <= DENSE_MAX_QIS and math.prod(spans) <= DENSE_CELLS:
        # small cross-classification: count its cells in one pass over the rows
        arrays = [np.asarray(v, dtype=np.int64) for v, _, _, _ in cols]
        arrays = tuple(arrays + [arrays[0]] * (DENSE_MAX_QIS - m))  # one compiled arity
        los = np.array([lo for _, lo, _, _ in cols], dtype=np.int64)
        cards = np.asarray(spans, dtype=np.int64)
        cells = cell_counts(arrays, np.int64(m), los, cards, np.int64(math.prod(spans)),
                            np.int64(n_threads if n >= 100_000 else 1))
        D, counts = decode_cells(cells, cards)
    else:
        gid, counts = group_ids_columns([(v, lo, span) for v, lo, span, _ in cols], n, limit)
        first = first_rows(gid, np.int64(len(counts)))
        D = np.empty((m, len(counts)), dtype=np.int32)
        cards = np.asarray(spans, dtype=np.int64)
        for j, (v, lo, span, _) in enumerate(cols):
            D[j] = v[first].astype(np.int64) - lo
    g = len(counts)
    subsets = [S for s in range(1, size + 1) for S in itertools.combinations(range(m), s)]
    row_of = {S: i for i, S in enumerate(subsets)}
    # depth-first (prefix) order of the same subsets, and where each first column starts
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
    # balance the branches (first columns) over the threads: biggest first, to the
    # lightest bin; a branch's cost is its number of subsets
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
    lens = np.array([len(S) for S in subsets], dtype=np.int64)
    stats = sweep_prefix(D, cards, counts.astype(np.int64), np.asarray(ks, dtype=np.int64),
                         np.int64(max(2 * g, 1 << 12)), np.int64(size), branch_start, perm, bins)
    out = pd.DataFrame({
        "quasi_identifiers": [tuple(qis[j] for j in S) for S in subsets],
        "size": lens,
        "n_classes": stats[:, 0],
        "sample_uniques": stats[:, 1],
    })
    for j, kk in enumerate(ks):
        out[f"records_below_{kk}"] = stats[:, 3 + j]
    out["smallest_class"] = stats[:, 2]
    return out
