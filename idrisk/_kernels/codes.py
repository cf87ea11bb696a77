"""Encoding kernels: integer columns to dense codes, object addresses to ids (numba only).

Used by :mod:`idrisk._encode`, which decides which path a column takes.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .hashing import new_table, table_id

__all__ = ["int_min_max", "int_dense_codes", "pointer_codes", "min_max"]


@numba.njit(**NUMBA_OPTS)
def int_min_max(values, mask):
    """``(lo, hi, seen)`` over the values not masked (``mask`` empty: no mask)."""
    lo = np.iinfo(np.int64).max
    hi = np.iinfo(np.int64).min
    seen = False
    for i in range(values.shape[0]):
        if mask.shape[0] and mask[i]:
            continue
        v = np.int64(values[i])
        if v < lo:
            lo = v
        if v > hi:
            hi = v
        seen = True
    return lo, hi, seen


@numba.njit(**NUMBA_OPTS)
def int_dense_codes(values, mask, lo, span):
    """Codes in ascending value order via a lookup table of size ``span``; also the levels.

    Returns ``(codes, n_levels, levels)``: ``codes`` int32 (-1 where masked), ``levels``
    int64, the value behind each code.
    """
    present = np.zeros(span, dtype=np.int32)
    n = values.shape[0]
    has_mask = mask.shape[0] > 0
    for i in range(n):
        if has_mask and mask[i]:
            continue
        present[np.int64(values[i]) - lo] = 1
    n_levels = 0
    for j in range(span):
        if present[j]:
            present[j] = n_levels
            n_levels += 1
        else:
            present[j] = -1
    levels = np.empty(n_levels, dtype=np.int64)
    for j in range(span):
        if present[j] >= 0:
            levels[present[j]] = lo + j
    codes = np.empty(n, dtype=np.int32)
    for i in range(n):
        if has_mask and mask[i]:
            codes[i] = -1
        else:
            codes[i] = present[np.int64(values[i]) - lo]
    return codes, n_levels, levels


@numba.njit(**NUMBA_OPTS)
def pointer_codes(ptrs, max_distinct):
    """First-appearance ids of the object addresses in ``ptrs`` (uint64), by hashing.

    Returns ``(codes, first_row)``, or an empty ``first_row`` if there are more than
    ``max_distinct`` distinct addresses (then the caller falls back to pandas).
    """
    n = ptrs.shape[0]
    slot_key, slot_id, shift = new_table(max_distinct)
    first = np.empty(max_distinct, dtype=np.int64)
    codes = np.empty(n, dtype=np.int32)
    g = 0
    for i in range(n):
        sid = table_id(slot_key, slot_id, shift, ptrs[i], np.int64(g))
        if sid == g:
            if g == max_distinct:
                return codes, first[:0]
            first[g] = i
            g += 1
        codes[i] = sid
    return codes, first[:g]


@numba.njit(**NUMBA_OPTS)
def min_max(values):
    """Minimum and maximum of a non-empty integer array (branch-free, so it vectorises)."""
    lo = values[0]
    hi = values[0]
    for i in range(1, values.shape[0]):
        v = values[i]
        lo = min(lo, v)
        hi = max(hi, v)
    return np.int64(lo), np.int64(hi)
