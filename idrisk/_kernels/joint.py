"""Joint-frequency kernels for the simulated intruder (numba only: arrays in, arrays out).

docs/methods.md#joint-frequencies. For every subset ``A`` of ``k`` exactly compared fields
(a bit mask, ``0 .. 2^k - 1``) and every target, the number of extract records that agree
with the target on every field of ``A`` (and their summed weights): the class sizes of the
target's values on ``A``. A target with a missing value on a field of ``A`` gets 0 there.
The plain reference is ``tests/naive_intruder.py::subset_counts``.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .hashing import new_table, table_id, table_slot

__all__ = ["subset_counts"]


@numba.njit(**NUMBA_OPTS)
def _subset_key(codes, col, strides, mask):
    """The key of record ``col`` on the fields of ``mask`` (``sum_v code_v stride_v``), -1 when
    one of them is missing."""
    key = np.int64(0)
    for v in range(codes.shape[0]):
        if (mask >> v) & 1:
            c = codes[v, col]
            if c < 0:
                return np.int64(-1)
            key += np.int64(c) * strides[v]
    return key


@numba.njit(**NUMBA_OPTS)
def _mask_counts(codes_e, codes_a, strides, w_e, mask, out_n, out_w):
    n_e = codes_e.shape[1]
    slot_key, slot_id, shift = new_table(n_e)
    cnt = np.zeros(n_e, dtype=np.float64)
    wsum = np.zeros(n_e, dtype=np.float64)
    n_ids = 0
    for i in range(n_e):
        key = _subset_key(codes_e, i, strides, mask)
        if key < 0:
            continue
        sid = table_id(slot_key, slot_id, shift, np.uint64(key), n_ids)
        if sid == n_ids:
            n_ids += 1
        cnt[sid] += 1.0
        wsum[sid] += w_e[i]
    for a in range(codes_a.shape[1]):
        key = _subset_key(codes_a, a, strides, mask)
        if key < 0:
            continue
        h = table_slot(slot_key, slot_id, shift, np.uint64(key))
        sid = slot_id[h]
        if sid >= 0:
            out_n[a, mask] = cnt[sid]
            out_w[a, mask] = wsum[sid]


@numba.njit(parallel=True, **NUMBA_OPTS)
def subset_counts(codes_e, codes_a, strides, w_e):
    """``(N, Wt)``, float64 ``(n_a, 2^k)``: per target and field subset, the extract records
    agreeing with it on the subset (``N``) and the sum of their weights ``w_e`` (``Wt``).

    codes_e : int32 (k, n_e), codes_a : int32 (k, n_a); ``-1`` = missing (never agrees).
    strides : int64 (k,), mixed-radix strides with ``sum_v (card_v - 1) stride_v < 2^62``
    (the key of a subset is ``sum_v code_v stride_v``).
    """
    k = codes_e.shape[0]
    n_e = codes_e.shape[1]
    n_a = codes_a.shape[1]
    n_mask = np.int64(1) << k
    out_n = np.zeros((n_a, n_mask), dtype=np.float64)
    out_w = np.zeros((n_a, n_mask), dtype=np.float64)
    total_w = 0.0
    for i in range(n_e):
        total_w += w_e[i]
    for a in range(n_a):
        out_n[a, 0] = n_e
        out_w[a, 0] = total_w
    for mask in numba.prange(1, n_mask):
        _mask_counts(codes_e, codes_a, strides, w_e, mask, out_n, out_w)
    return out_n, out_w
