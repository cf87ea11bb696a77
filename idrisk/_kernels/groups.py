"""Equivalence classes over integer codes (numba only: int arrays in, arrays out).

``group_ids(codes, cards)`` assigns every row a dense class id ``0 .. g-1`` (in order of
first appearance, so results are deterministic) and returns the class sizes.

Method: the codes of the QI columns are combined left to right into one int64
mixed-radix key ``key = key * card_j + code_j``. While the key space stays below
``limit`` the key is renumbered with a lookup table (one pass, cache-friendly); when the
space would overflow the limit the current key is first renumbered densely, and if even
that is too large, an open-addressing hash table renumbers the (key, code) pairs.
All of it is O(n * m) time and O(n) extra memory, whatever the cardinalities.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS, NUMBA_PARALLEL_OPTS

_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(**NUMBA_OPTS)
def _densify_lookup(key, space):
    """Renumber ``key`` (values in [0, space)) to first-appearance ids; returns ids, n_ids."""
    table = np.full(space, -1, dtype=np.int32)
    n = key.shape[0]
    out = np.empty(n, dtype=np.int64)
    g = 0
    for i in range(n):
        k = key[i]
        t = table[k]
        if t < 0:
            table[k] = g
            t = g
            g += 1
        out[i] = t
    return out, g


@numba.njit(**NUMBA_OPTS)
def _densify_hash(key):
    """Renumber arbitrary int64 ``key`` values to first-appearance ids with open addressing."""
    n = key.shape[0]
    cap = 1
    while cap < 2 * n + 2:
        cap *= 2
    shift = np.uint64(64 - int(np.log2(cap)))
    slots_key = np.empty(cap, dtype=np.int64)
    slots_id = np.full(cap, -1, dtype=np.int64)
    mask = cap - 1
    out = np.empty(n, dtype=np.int64)
    g = 0
    for i in range(n):
        k = key[i]
        h = np.int64((np.uint64(k) * _HASH_MULT) >> shift)
        while True:
            sid = slots_id[h]
            if sid < 0:
                slots_id[h] = g
                slots_key[h] = k
                out[i] = g
                g += 1
                break
            if slots_key[h] == k:
                out[i] = sid
                break
            h = (h + 1) & mask
    return out, g


@numba.njit(**NUMBA_PARALLEL_OPTS)
def _combine(key, codes_row, card):
    n = key.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in numba.prange(n):
        out[i] = key[i] * card + codes_row[i]
    return out


@numba.njit(**NUMBA_OPTS)
def _sizes(gid, g):
    sizes = np.zeros(g, dtype=np.int64)
    for i in range(gid.shape[0]):
        sizes[gid[i]] += 1
    return sizes


@numba.njit(**NUMBA_OPTS)
def _group_ids(codes, cards, limit):
    m, n = codes.shape
    key = np.zeros(n, dtype=np.int64)
    space = np.int64(1)
    for j in range(m):
        card = cards[j]
        if space > limit // card:
            # renumber first; the number of distinct keys is at most n
            if space <= limit:
                key, g = _densify_lookup(key, space)
            else:
                key, g = _densify_hash(key)
            space = np.int64(max(g, 1))
        key = _combine(key, codes[j], card)
        space = space * card
    if m == 0:
        return key, np.int64(1)
    if space <= limit:
        gid, g = _densify_lookup(key, space)
    else:
        gid, g = _densify_hash(key)
    return gid, np.int64(g)


def group_ids(codes: np.ndarray, cards: np.ndarray, limit: int | None = None):
    """Dense class ids for rows of ``codes`` (shape ``(m, n)``, non-negative int32).

    Returns ``(gid, sizes)``: ``gid`` int64 of length n with values ``0 .. g-1`` in order of
    first appearance; ``sizes`` int64 of length g.
    """
    codes = np.ascontiguousarray(codes, dtype=np.int32)
    if codes.ndim != 2:
        raise ValueError("codes must be 2-D (columns, rows)")
    m, n = codes.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if m == 0:
        return np.zeros(n, dtype=np.int64), np.array([n], dtype=np.int64)
    cards = np.asarray(cards, dtype=np.int64)
    if limit is None:
        limit = max(4 * n, 1 << 16)
    gid, g = _group_ids(codes, cards, np.int64(limit))
    return gid, _sizes(gid, g)


@numba.njit(**NUMBA_OPTS)
def group_sums(gid, n_groups, values):
    """Per-class sums of ``values`` (float64)."""
    out = np.zeros(n_groups, dtype=np.float64)
    for i in range(gid.shape[0]):
        out[gid[i]] += values[i]
    return out


@numba.njit(**NUMBA_PARALLEL_OPTS)
def gather(per_group, gid):
    """``per_group[gid]`` in parallel."""
    n = gid.shape[0]
    out = np.empty(n, dtype=per_group.dtype)
    for i in numba.prange(n):
        out[i] = per_group[gid[i]]
    return out
