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

__all__ = ["subset_counts"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(**NUMBA_OPTS)
def _mask_counts(codes_e, codes_a, strides, w_e, mask, bits, out_n, out_w):
    k = codes_e.shape[0]
    n_e = codes_e.shape[1]
    n_a = codes_a.shape[1]
    cap = np.int64(1) << bits
    keys = np.full(cap, -1, dtype=np.int64)
    cnt = np.zeros(cap, dtype=np.float64)
    wsum = np.zeros(cap, dtype=np.float64)
    shift = np.uint64(64 - bits)
    for i in range(n_e):
        key = np.int64(0)
        ok = True
        for v in range(k):
            if (mask >> v) & 1:
                c = codes_e[v, i]
                if c < 0:
                    ok = False
                    break
                key += np.int64(c) * strides[v]
        if not ok:
            continue
        h = np.int64((np.uint64(key) * _GOLDEN) >> shift)
        while keys[h] != -1 and keys[h] != key:
            h = (h + 1) & (cap - 1)
        keys[h] = key
        cnt[h] += 1.0
        wsum[h] += w_e[i]
    for a in range(n_a):
        key = np.int64(0)
        ok = True
        for v in range(k):
            if (mask >> v) & 1:
                c = codes_a[v, a]
                if c < 0:
                    ok = False
                    break
                key += np.int64(c) * strides[v]
        if not ok:
            continue
        h = np.int64((np.uint64(key) * _GOLDEN) >> shift)
        while keys[h] != -1:
            if keys[h] == key:
                out_n[a, mask] = cnt[h]
                out_w[a, mask] = wsum[h]
                break
            h = (h + 1) & (cap - 1)


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
    bits = 4
    while (np.int64(1) << bits) < 2 * n_e + 2:
        bits += 1
    for mask in numba.prange(1, n_mask):
        _mask_counts(codes_e, codes_a, strides, w_e, mask, bits, out_n, out_w)
    return out_n, out_w
