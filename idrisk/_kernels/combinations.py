"""Equivalence-class statistics for many QI subsets at once (numba only).

The data are first reduced to their distinct full-key rows with counts (one grouping of
all QIs); the classes of any subset of QIs are unions of those rows, so every subset is
grouped over the distinct rows only, weighted by their counts. Subsets are walked depth
first by prefix (the key of ``S + (c,)`` extends the key of ``S``), and the branches of
the walk run on threads (:mod:`.threads`); each subset writes only its own output row.

Definitions: ``docs/methods.md#combination-sweep``.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .groups import _key_push_hash, fold_columns
from .threads import run_chunks



@numba.njit(**NUMBA_OPTS)
def first_rows(gid, n_groups):
    """Index of the first row of each class ``0 .. n_groups-1``."""
    out = np.full(n_groups, -1, dtype=np.int64)
    for i in range(gid.shape[0]):
        g = gid[i]
        if out[g] < 0:
            out[g] = i
    return out


@numba.njit(**NUMBA_OPTS)
def _renumber_dense(key, space, table):
    """Renumber ``key`` (values < space) in place to first-appearance ids with ``table``
    (all -1 on entry and on exit). Returns the number of ids."""
    n_ids = 0
    for i in range(key.shape[0]):
        k = key[i]
        t = table[k]
        if t < 0:
            table[k] = n_ids
            t = np.int32(n_ids)
            n_ids += 1
        key[i] = t
    return n_ids


@numba.njit(**NUMBA_OPTS)
def _renumber(key, space, limit, table, orig):
    """Renumber in place (lookup table while ``space <= limit``, else hashing)."""
    if space <= limit:
        orig[: key.shape[0]] = key
        n_ids = _renumber_dense(key, space, table)
        for i in range(key.shape[0]):
            table[orig[i]] = -1
        return n_ids
    # the grouping kernel's hash push with a zero column renumbers ``key`` itself
    return _key_push_hash(key, np.zeros(key.shape[0], dtype=np.int8), np.int64(0), np.int64(1))


@numba.njit(**NUMBA_OPTS)
def _stats(key, space, counts, ks, limit, table, orig, out):
    """Class statistics of ``key`` (see :func:`subset_stats`); may renumber ``key`` in place."""
    g = key.shape[0]
    if space > limit:
        space = np.int64(max(_renumber(key, space, limit, table, orig), 1))
    for r in range(g):
        table[key[r]] += np.int32(counts[r])
    nk = ks.shape[0]
    n_classes = 0
    uniq = 0
    smallest = np.int64(1) << 62
    for j in range(nk):
        out[3 + j] = 0
    for r in range(g):
        k = key[r]
        v = np.int64(table[k]) + 1
        if v > 0:
            table[k] = -1
            n_classes += 1
            if v == 1:
                uniq += 1
            if v < smallest:
                smallest = v
            for j in range(nk):
                if v < ks[j]:
                    out[3 + j] += v
    out[0] = n_classes
    out[1] = uniq
    out[2] = smallest if n_classes else 0
    return space


def sweep_prefix(D, cards, counts, ks, limit, max_size, branch_start, perm, bins):
    """Statistics of every subset of at most ``max_size`` columns, by depth-first prefixes.

    The subsets are visited in lexicographic depth-first order ((0), (0, 1), (0, 1, 2), ...,
    (1), ...): the key of ``S + (c,)`` is the key of ``S`` times ``card_c`` plus column c,
    one pass per subset instead of one per column of it. Branches (first column) are
    grouped into ``bins`` (int64 (n_bins, m), -1 padded, balanced by the caller) that run
    on threads; ``branch_start[c]`` is the depth-first position of the subset ``(c,)`` and
    ``perm`` maps depth-first positions to output rows.
    """
    nk = ks.shape[0]
    out = np.zeros((perm.shape[0], 3 + nk), dtype=np.int64)
    limit, max_size = np.int64(limit), np.int64(max_size)
    run_chunks(lambda b: _sweep_bin(D, cards, counts, ks, limit, max_size, branch_start, perm, bins, np.int64(b), out),
               bins.shape[0])
    return out


@numba.njit(**NUMBA_OPTS)
def _sweep_bin(D, cards, counts, ks, limit, max_size, branch_start, perm, bins, b, out):
    """The branches of bin ``b`` of :func:`sweep_prefix`, written into ``out``."""
    g = D.shape[1]
    keys = np.empty((max_size, g), dtype=np.int64)
    spaces = np.empty(max_size, dtype=np.int64)
    nxt = np.empty(max_size, dtype=np.int64)
    orig = np.empty(g, dtype=np.int64)
    table = np.full(limit, -1, dtype=np.int32)
    for bi in range(bins.shape[1]):
        c0 = bins[b, bi]
        if c0 >= 0:
            _branch(D, cards, counts, ks, limit, max_size, c0, branch_start[c0], perm, out,
                    keys, spaces, nxt, orig, table)


@numba.njit(**NUMBA_OPTS)
def _branch(D, cards, counts, ks, limit, max_size, c0, start, perm, out, keys, spaces, nxt, orig, table):
    """The depth-first walk of the subsets whose first column is ``c0``."""
    m, g = D.shape
    idx = start
    for r in range(g):
        keys[0, r] = D[c0, r]
    spaces[0] = max(cards[c0], 1)
    spaces[0] = _stats(keys[0], spaces[0], counts, ks, limit, table, orig, out[perm[idx]])
    idx += 1
    nxt[0] = c0 + 1
    depth = 0
    while depth >= 0:
        if depth + 1 < max_size and nxt[depth] < m:
            c = nxt[depth]
            nxt[depth] += 1
            card = max(cards[c], 1)
            if spaces[depth] > limit // card:
                spaces[depth] = np.int64(max(_renumber(keys[depth], spaces[depth], limit, table, orig), 1))
            row = D[c]
            for r in range(g):
                keys[depth + 1, r] = keys[depth, r] * card + row[r]
            spaces[depth + 1] = spaces[depth] * card
            spaces[depth + 1] = _stats(keys[depth + 1], spaces[depth + 1], counts, ks, limit, table,
                                       orig, out[perm[idx]])
            idx += 1
            depth += 1
            nxt[depth] = c + 1
        else:
            depth -= 1


def cell_counts(columns, n: int, space: int, n_chunks: int):
    """Records in each cell of the full cross-classification of ``columns`` (one pass).

    ``columns`` are ``(values, lo, span, ...)`` key columns (as for
    :func:`idrisk._kernels.groups.fold_columns`, in their own dtypes) whose spans multiply
    to ``space``; cell ``sum_j (values_j - lo_j) * stride_j`` (mixed radix, first column
    most significant). Rows are split into ``n_chunks`` chunks (run on threads), each
    folded into its key and counted into a table of its own; the tables are summed.
    """
    n_chunks = max(int(n_chunks), 1)
    tabs = np.zeros((n_chunks, max(int(space), 1)), dtype=np.int32)

    def chunk(ch):
        lo, hi = ch * n // n_chunks, (ch + 1) * n // n_chunks
        if hi > lo:
            key, _ = fold_columns([(c[0][lo:hi], c[1], c[2]) for c in columns], hi - lo, limit=max(int(space), 1))
            _count_into(key, tabs[ch])

    run_chunks(chunk, n_chunks)
    return tabs[0].astype(np.int64) if n_chunks == 1 else tabs.sum(axis=0, dtype=np.int64)


@numba.njit(**NUMBA_OPTS)
def _count_into(key, tab):
    """``tab[k] += 1`` for every ``k`` in ``key``."""
    for i in range(key.shape[0]):
        tab[key[i]] += 1


@numba.njit(**NUMBA_OPTS)
def decode_cells(counts, spans):
    """Distinct rows (codes, int32 (m, g)) and their counts from a dense mixed-radix table."""
    g = 0
    for s in range(counts.shape[0]):
        if counts[s] > 0:
            g += 1
    m = spans.shape[0]
    D = np.empty((m, g), dtype=np.int32)
    cnt = np.empty(g, dtype=np.int64)
    k = 0
    for s in range(counts.shape[0]):
        if counts[s] > 0:
            cell = s
            for j in range(m - 1, -1, -1):
                D[j, k] = cell % spans[j]
                cell //= spans[j]
            cnt[k] = counts[s]
            k += 1
    return D, cnt
