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
def _renumber_dense(key, space):
    table = np.full(space, -1, dtype=np.int64)
    out = np.empty(key.shape[0], dtype=np.int64)
    n_ids = 0
    for i in range(key.shape[0]):
        k = key[i]
        t = table[k]
        if t < 0:
            table[k] = n_ids
            t = n_ids
            n_ids += 1
        out[i] = t
    return out, n_ids


@numba.njit(**NUMBA_OPTS)
def _renumber_hash(key):
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
    out = np.empty(n, dtype=np.int64)
    n_ids = 0
    for i in range(n):
        k = key[i]
        h = np.int64((np.uint64(k) * _HASH_MULT) >> shift)
        while True:
            sid = slot_id[h]
            if sid < 0:
                slot_id[h] = n_ids
                slot_key[h] = k
                out[i] = n_ids
                n_ids += 1
                break
            if slot_key[h] == k:
                out[i] = sid
                break
            h = (h + 1) & mask
    return out, n_ids


@numba.njit(**NUMBA_OPTS)
def class_sizes(D, cols, n_cols, cards, counts, limit):
    """Sizes of the classes of the columns ``cols[:n_cols]`` over distinct rows ``D``.

    ``D`` int32 (m, g) non-negative codes, ``cards`` int64 (m,), ``counts`` int64 (g,)
    records behind each distinct row. Returns int64 class sizes (records per class).
    """
    g = D.shape[1]
    key = np.zeros(g, dtype=np.int64)
    space = np.int64(1)
    for t in range(n_cols):
        c = cols[t]
        card = max(cards[c], 1)
        if space > limit // card:
            if space <= limit:
                key, n_ids = _renumber_dense(key, space)
            else:
                key, n_ids = _renumber_hash(key)
            space = np.int64(max(n_ids, 1))
        row = D[c]
        for r in range(g):
            key[r] = key[r] * card + row[r]
        space = space * card
    if space <= limit:
        ids, n_ids = _renumber_dense(key, space)
    else:
        ids, n_ids = _renumber_hash(key)
    sizes = np.zeros(n_ids, dtype=np.int64)
    for r in range(g):
        sizes[ids[r]] += counts[r]
    return sizes


@numba.njit(**NUMBA_PARALLEL_OPTS)
def sweep(D, combos, combo_len, cards, counts, ks, limit):
    """Statistics of every subset ``combos[s, :combo_len[s]]``.

    Returns int64 (n_subsets, 3 + len(ks)): number of classes, sample uniques (records in
    classes of size 1), smallest class, then records in classes smaller than each ``k``.
    """
    n_sub = combos.shape[0]
    nk = ks.shape[0]
    out = np.zeros((n_sub, 3 + nk), dtype=np.int64)
    for s in numba.prange(n_sub):
        sizes = class_sizes(D, combos[s], combo_len[s], cards, counts, limit)
        out[s, 0] = sizes.shape[0]
        smallest = sizes[0] if sizes.shape[0] else 0
        uniq = 0
        for i in range(sizes.shape[0]):
            v = sizes[i]
            if v == 1:
                uniq += 1
            if v < smallest:
                smallest = v
            for j in range(nk):
                if v < ks[j]:
                    out[s, 3 + j] += v
        out[s, 1] = uniq
        out[s, 2] = smallest
    return out
