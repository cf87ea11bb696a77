"""The one open-addressing hash table of idrisk (numba only).

Every kernel that numbers 64-bit keys by first appearance uses this table: the encoding of
object columns by object address (:func:`idrisk._kernels.codes.pointer_codes`) and the
grouping push for a key space above the lookup-table limit
(:func:`idrisk._kernels.groups.fold_columns`), the anonymiser's per-node renumbering of
generalised keys (:mod:`idrisk._kernels.anonymise`, through :func:`table_slot`) and the
intruder's joint counts of a key's subsets (:mod:`idrisk._kernels.joint`).

Method: multiplicative (Fibonacci) hashing of the key, linear probing, a power-of-two
capacity of at least ``2 * max_distinct + 2`` slots so the load factor stays below 1/2.
A slot holds the key (uint64) and its id (int32, -1 when empty). The table is two plain
arrays, so a caller allocates it once and probes it in its own loop.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS

__all__ = ["new_table", "table_id", "table_slot"]

_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(**NUMBA_OPTS)
def new_table(max_distinct):
    """An empty table for at most ``max_distinct`` keys: ``(slot_key, slot_id, shift)``."""
    cap = 1
    bits = 0
    while cap < 2 * max_distinct + 2:
        cap *= 2
        bits += 1
    slot_key = np.zeros(cap, dtype=np.uint64)
    slot_id = np.full(cap, -1, dtype=np.int32)
    return slot_key, slot_id, np.uint64(64 - bits)


@numba.njit(**NUMBA_OPTS)
def table_slot(slot_key, slot_id, shift, key):
    """The slot of ``key`` (uint64): where it is stored, or the empty slot where it would go.

    For a caller that stores and later clears its own slots (``slot_id[h] = -1``), such as
    the anonymiser's per-node renumbering.
    """
    mask = slot_id.shape[0] - 1
    h = np.int64((key * _HASH_MULT) >> shift)
    while slot_id[h] >= 0 and slot_key[h] != key:
        h = (h + 1) & mask
    return h


@numba.njit(**NUMBA_OPTS)
def table_id(slot_key, slot_id, shift, key, next_id):
    """The id of ``key`` (uint64): its stored id, or ``next_id`` if it is new (then stored).

    A caller numbering keys by first appearance passes the number of ids given so far as
    ``next_id`` and counts one more id whenever the returned id (int64) equals it. The probe
    is written out here rather than through :func:`table_slot`: reading the slot's id once
    per probe made the encoding of object columns several times faster.
    """
    mask = slot_id.shape[0] - 1
    h = np.int64((key * _HASH_MULT) >> shift)
    while True:
        sid = slot_id[h]
        if sid < 0:
            slot_id[h] = next_id
            slot_key[h] = key
            return np.int64(next_id)
        if slot_key[h] == key:
            return np.int64(sid)
        h = (h + 1) & mask
