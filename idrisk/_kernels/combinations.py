"""Equivalence-class statistics for many QI subsets at once (numba only).

The data are first reduced to their distinct full-key rows with counts (one grouping of
all QIs); the classes of any subset of QIs are unions of those rows, so every subset is
grouped over the distinct rows only, weighted by their counts. Subsets are independent
and run in parallel (``prange``); each iteration writes only its own row of the output.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS, NUMBA_PARALLEL_OPTS

_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


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
def _renumber_hash(key):
    """Renumber arbitrary int64 ``key`` in place to first-appearance ids. Returns the count."""
    n = key.shape[0]
    cap = 1
    bits = 0
    while cap < 2 * n + 2:
        cap *= 2
        bits += 1
    shift = np.uint64(64 - bits)
    slot_key = np.empty(cap, dtype=np.int64)
    slot_id = np.full(cap, -1, dtype=np.int64)
    mask = cap - 1
    n_ids = 0
    for i in range(n):
        k = key[i]
        h = np.int64((np.uint64(k) * _HASH_MULT) >> shift)
        while True:
            sid = slot_id[h]
            if sid < 0:
                slot_id[h] = n_ids
                slot_key[h] = k
                key[i] = n_ids
                n_ids += 1
                break
            if slot_key[h] == k:
                key[i] = sid
                break
            h = (h + 1) & mask
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
    return _renumber_hash(key)


@numba.njit(**NUMBA_OPTS)
def subset_stats(D, cols, n_cols, cards, counts, ks, limit, key, table, orig, out):
    """Statistics of the classes of the columns ``cols[:n_cols]`` over distinct rows ``D``.

    ``D`` int32 (m, g) non-negative codes, ``cards`` int64 (m,), ``counts`` int64 (g,)
    records behind each distinct row. ``key``, ``orig`` (int64, g) and ``table`` (int32,
    limit, all -1 on entry and exit) are scratch reused between calls. Writes into
    ``out``: number of classes, records in classes of size 1, smallest class, then the
    records in classes smaller than each ``ks[j]``.
    """
    g = D.shape[1]
    key[:] = 0
    space = np.int64(1)
    for t in range(n_cols):
        c = cols[t]
        card = max(cards[c], 1)
        if space > limit // card:
            space = np.int64(max(_renumber(key, space, limit, table, orig), 1))
        row = D[c]
        for r in range(g):
            key[r] = key[r] * card + row[r]
        space = space * card
    if space > limit:
        space = np.int64(max(_renumber(key, space, limit, table, orig), 1))
    # class sizes in the lookup table (used as counters: -1 = empty, else size - 1)
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


@numba.njit(**NUMBA_PARALLEL_OPTS)
def sweep(D, combos, combo_len, cards, counts, ks, limit, n_chunks):
    """Statistics of every subset ``combos[s, :combo_len[s]]`` (see :func:`subset_stats`).

    Subsets are split into ``n_chunks`` interleaved chunks run in parallel, each with its
    own scratch tables; row ``s`` of the output belongs to one iteration only.
    """
    n_sub = combos.shape[0]
    nk = ks.shape[0]
    g = D.shape[1]
    out = np.zeros((n_sub, 3 + nk), dtype=np.int64)
    for ch in numba.prange(n_chunks):
        key = np.empty(g, dtype=np.int64)
        orig = np.empty(g, dtype=np.int64)
        table = np.full(limit, -1, dtype=np.int32)
        for s in range(ch, n_sub, n_chunks):
            subset_stats(D, combos[s], combo_len[s], cards, counts, ks, limit, key, table, orig, out[s])
    return out
