"""Equivalence classes over integer codes (numba only: int arrays in, arrays out).

``group_ids(codes, cards)`` assigns every row a dense class id ``0 .. g-1`` (in order of
first appearance, so results are deterministic) and returns the class sizes.

Method: the QI columns are folded left to right into one int32 mixed-radix key,
``key = key * span_j + (value_j - lo_j)``, in place, one pass per column. The columns
can be raw values (a numpy integer, boolean or categorical-code array with its minimum
``lo`` and range ``span``) or encoded codes (``lo = -1`` so that a missing code is one
more value): this is how :func:`idrisk.frequencies` fuses encoding and grouping. The key
space (the product of the spans) is kept at most ``limit`` (default ``max(2 n, 2**16)``)
so that the key indexes an int32 lookup table directly: when the next column would
overflow it, the key is first renumbered densely (lookup table), and if that is still
too large the column is combined through the hash table of :mod:`idrisk._kernels.hashing`.
Class sizes are then counted with one table of ``space`` counters. From 2M rows on, a run of
columns is pushed slice by slice (256K rows) so the key slice stays in cache, two columns per
pass over it. Time O(n m), extra memory O(n + limit) (about 12 bytes per row), whatever the
cardinalities. :func:`idrisk.frequencies` folds its raw columns with bounds guessed from a
sample, checked as the pushes go (:func:`fold_checked`: they return each slice's minimum and
maximum), so the raw columns are read once; and from ``OVER_MIN_ROWS`` rows it folds the key
into the block of the sizes it returns and writes the sizes over it (:func:`sizes_buffer`).

From ``_PAR_MIN_ROWS`` rows on, the work runs on numba's threads (:mod:`.threads`: serial
``nogil`` kernels on row slices, no ``prange``): the slices of a run of columns are folded
independently; the counts are taken slice by slice into one table per thread when the key
space is small beside the rows (``space * threads <= max(n, 2**16)``), and summed, else in
one table (for :func:`idrisk.frequencies` during the fold's last run, while each slice's
key is still in cache); the sizes are then given back to the rows slice by slice.
Each slice writes only its own rows, and the tables hold integer counts, so the result does
not depend on the number of threads.

Definitions: ``docs/methods.md#frequencies``.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .hashing import new_table, table_id
from .threads import PerThread, n_workers, run_chunks

__all__ = ["group_ids", "group_sums", "gather", "gather3", "fold_columns", "fold_checked", "key_counts",
           "sizes_buffer", "default_limit"]

_CHUNK = 1 << 18  # rows per slice when folding large keys (1 MiB of int32 key)
_CHUNK_MIN_ROWS = 1 << 21  # below this the whole key stays in cache: no slicing
_MAX_ROWS = 1 << 30  # keys and ids are int32
_PAR_MIN_ROWS = 1 << 18  # from here on the fold and the counts run in row slices on threads


def default_limit(n: int) -> int:
    """Largest key space indexed by a lookup table for ``n`` rows (tables are int32: 8 n bytes)."""
    return min(max(2 * int(n), 1 << 16), (1 << 31) - 1)


# ---------------------------------------------------------------------------------------
# kernels


# The pushes return the minimum and maximum of the column(s) they read (``(0, -1)`` for no
# rows): free beside the memory traffic, and what :func:`fold_checked` checks guessed bounds by


@numba.njit(**NUMBA_OPTS)
def _key_init(key, col, lo):
    """key = col - lo."""
    if key.shape[0] == 0:
        return np.int64(0), np.int64(-1)
    mn, mx = col[0], col[0]
    for i in range(key.shape[0]):
        v = col[i]
        mn, mx = min(mn, v), max(mx, v)
        key[i] = np.int64(v) - lo
    return np.int64(mn), np.int64(mx)


@numba.njit(**NUMBA_OPTS)
def _key_push(key, col, lo, span):
    """key = key * span + (col - lo); the caller guarantees the result fits the key space."""
    if key.shape[0] == 0:
        return np.int64(0), np.int64(-1)
    mn, mx = col[0], col[0]
    for i in range(key.shape[0]):
        v = col[i]
        mn, mx = min(mn, v), max(mx, v)
        key[i] = np.int64(key[i]) * span + (np.int64(v) - lo)
    return np.int64(mn), np.int64(mx)


@numba.njit(**NUMBA_OPTS)
def _key_init2(key, col, lo, col2, lo2, span2):
    """key = (col - lo) * span2 + (col2 - lo2): two columns in one pass over the key."""
    if key.shape[0] == 0:
        return np.int64(0), np.int64(-1), np.int64(0), np.int64(-1)
    mn, mx, mn2, mx2 = col[0], col[0], col2[0], col2[0]
    for i in range(key.shape[0]):
        v, v2 = col[i], col2[i]
        mn, mx, mn2, mx2 = min(mn, v), max(mx, v), min(mn2, v2), max(mx2, v2)
        key[i] = (np.int64(v) - lo) * span2 + (np.int64(v2) - lo2)
    return np.int64(mn), np.int64(mx), np.int64(mn2), np.int64(mx2)


@numba.njit(**NUMBA_OPTS)
def _key_push2(key, col, lo, span, col2, lo2, span2):
    """Two pushes (:func:`_key_push`) in one pass over the key."""
    if key.shape[0] == 0:
        return np.int64(0), np.int64(-1), np.int64(0), np.int64(-1)
    mn, mx, mn2, mx2 = col[0], col[0], col2[0], col2[0]
    for i in range(key.shape[0]):
        v, v2 = col[i], col2[i]
        mn, mx, mn2, mx2 = min(mn, v), max(mx, v), min(mn2, v2), max(mx2, v2)
        key[i] = (np.int64(key[i]) * span + (np.int64(v) - lo)) * span2 + (np.int64(v2) - lo2)
    return np.int64(mn), np.int64(mx), np.int64(mn2), np.int64(mx2)


@numba.njit(**NUMBA_OPTS)
def _key_push_hash(key, col, lo, span):
    """key = first-appearance id of (key, col): the push for a key space above the limit.

    The combined value ``key * span + col - lo`` is computed in int64 and renumbered
    with the one hash table of :mod:`idrisk._kernels.hashing`. Returns the number of
    distinct values.
    """
    n = key.shape[0]
    slot_key, slot_id, shift = new_table(n)
    g = 0
    for i in range(n):
        k = np.int64(key[i]) * span + (np.int64(col[i]) - lo)
        sid = table_id(slot_key, slot_id, shift, np.uint64(k), np.int64(g))
        if sid == g:
            g += 1
        key[i] = sid
    return g


@numba.njit(**NUMBA_OPTS)
def _renumber_lookup(key, space):
    """Renumber ``key`` (values in [0, space)) in place to first-appearance ids 0..g-1.

    Returns ``(g, sizes[:g])``.
    """
    table = np.full(space, -1, dtype=np.int32)
    n = key.shape[0]
    sizes = np.zeros(min(space, n) + 1, dtype=np.int64)
    g = 0
    for i in range(n):
        k = key[i]
        t = table[k]
        if t < 0:
            t = g
            table[k] = g
            g += 1
        key[i] = t
        sizes[t] += 1
    return g, sizes[:g]


# The row kernels below take slices (views) and loop from 0: with ``range(lo, hi)`` numba
# cannot prove an index non-negative and checks every access for wraparound (a third to
# half slower on the counts and gathers)


@numba.njit(**NUMBA_OPTS)
def _count_rows(key, counts):
    """counts[k] += number of rows of ``key`` with key k."""
    for i in range(key.shape[0]):
        counts[key[i]] += 1


@numba.njit(**NUMBA_OPTS)
def _gather_rows(key, counts, out):
    """out[i] = counts[key[i]]."""
    for i in range(key.shape[0]):
        out[i] = counts[key[i]]


@numba.njit(**NUMBA_OPTS)
def _copy_rows(src, dst):
    """dst[i] = src[i]."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@numba.njit(**NUMBA_OPTS)
def _count_sum_gather(key, space, weights, fk, Fk):
    """Per-row class size ``fk`` and class weight sum ``Fk`` (keys in [0, space))."""
    n = key.shape[0]
    counts = np.zeros(space, dtype=np.int32)
    sums = np.zeros(space, dtype=np.float64)
    for i in range(n):
        k = key[i]
        counts[k] += 1
        sums[k] += weights[i]
    for i in range(n):
        fk[i] = counts[key[i]]
    for i in range(n):
        Fk[i] = sums[key[i]]


@numba.njit(**NUMBA_OPTS)
def group_sums(gid, n_groups, values):
    """Per-class sums of ``values`` (float64)."""
    out = np.zeros(n_groups, dtype=np.float64)
    for i in range(gid.shape[0]):
        out[gid[i]] += values[i]
    return out


@numba.njit(**NUMBA_OPTS)
def gather(per_group, gid):
    """``per_group[gid]`` (one value per row)."""
    n = gid.shape[0]
    out = np.empty(n, dtype=per_group.dtype)
    for i in range(n):
        out[i] = per_group[gid[i]]
    return out


def gather3(gid, distinct, entropy, recursive):
    """Three per-class arrays given to every record (``x[gid]`` for each, as
    :func:`gather`), in one pass over ``gid``, on threads from 2**17 rows."""
    n = gid.shape[0]
    out_d = np.empty(n, dtype=distinct.dtype)
    out_e = np.empty(n, dtype=entropy.dtype)
    out_r = np.empty(n, dtype=recursive.dtype)
    slices = _row_slices(n, min_rows=1 << 17)

    def chunk(ch):
        lo, hi = slices[ch]
        _gather3_chunk(gid[lo:hi], distinct, entropy, recursive, out_d[lo:hi], out_e[lo:hi], out_r[lo:hi])

    run_chunks(chunk, len(slices))
    return out_d, out_e, out_r


@numba.njit(**NUMBA_OPTS)
def _gather3_chunk(gid, a, b, c, out_a, out_b, out_c):
    """``out_x[i] = x[gid[i]]`` for each of the three arrays (slices of the rows)."""
    for i in range(gid.shape[0]):
        j = gid[i]
        out_a[i] = a[j]
        out_b[i] = b[j]
        out_c[i] = c[j]


# ---------------------------------------------------------------------------------------
# Python drivers (no validation: callers pass clean arrays)


def _push_run(key, cols, pos: int, end: int, s: int, e: int) -> list:
    """Push columns ``pos .. end-1`` of ``cols`` into the key rows ``s .. e-1``; returns the
    minimum and maximum of each column over those rows (a flat list: min, max, min, ...)."""
    kc = key[s:e]
    j = pos
    seen = []
    while j < end:
        values, lo, span = cols[j]
        if j + 1 < end:  # two columns per pass over the key
            values2, lo2, span2 = cols[j + 1]
            if j == 0:
                seen += _key_init2(kc, values[s:e], lo, values2[s:e], lo2, np.int64(span2))
            else:
                seen += _key_push2(kc, values[s:e], lo, np.int64(span), values2[s:e], lo2, np.int64(span2))
            j += 2
            continue
        if j == 0:
            seen += _key_init(kc, values[s:e], lo)
        else:
            seen += _key_push(kc, values[s:e], lo, np.int64(span))
        j += 1
    return seen


def fold_checked(columns, n: int, key=None):
    """:func:`fold_columns` with ``count=True`` for columns whose ``(lo, span)`` are guessed
    (from a sample: :func:`idrisk._encode.key_columns` with ``guess=True``), in one pass over
    the rows instead of a pass for the bounds first. Each slice's pushes give its columns'
    minimum and maximum (free beside the memory traffic); a slice with a value outside its
    column's guess is not counted, and the fold gives up. Returns ``(key, space, counts)``
    (``counts`` None when :func:`key_counts` should count), or None: a value outside a guess,
    or the spans' product above the lookup limit; then fold the exact bounds.

    A guessed span may exceed the exact one (a wider key space, the same classes); every
    column is folded, a constant one too (the guesses are at least 2 wide)."""
    cols = [(c[0], np.int64(c[1]), int(c[2])) for c in columns]
    space = 1
    for c in cols:
        space *= c[2]
    if not cols or n >= _MAX_ROWS or space > default_limit(n):
        return None
    key = np.empty(n, dtype=np.int32) if key is None else key
    counts, inside = _fold_run(key, cols, 0, len(cols), n, space, count=True, check=True)
    return (key, space, counts) if inside else None


def _fold_run(key, cols, pos: int, end: int, n: int, run_space: int, count: bool, check: bool = False):
    """Push columns ``pos .. end-1`` of ``cols`` into ``key`` in row slices on threads
    (cache-sized from ``_CHUNK_MIN_ROWS`` rows on, so every column of the run is pushed while
    the slice is in cache; at least two per thread from ``_PAR_MIN_ROWS`` rows on). ``count``:
    each slice's keys counted right after its pushes, one table per thread when that is
    cheaper (:func:`_count_tables`). ``check``: a slice with a value outside its column's
    ``[lo, lo + span)`` is not counted. Returns ``(counts or None, every value inside)``, counts
    None when a value is outside."""
    slices = _row_slices(n, 1 if n < _CHUNK_MIN_ROWS else -(-n // _CHUNK))
    tables = _count_tables(run_space, len(slices), n) if count else None
    outside = np.zeros(len(slices), dtype=bool)

    def chunk(ch):
        s, e = slices[ch]
        seen = _push_run(key, cols, pos, end, s, e)
        if check and e > s and any(seen[2 * k] < cols[j][1] or seen[2 * k + 1] >= cols[j][1] + cols[j][2]
                                   for k, j in enumerate(range(pos, end))):
            outside[ch] = True  # keys out of the table: nothing is counted
        elif tables is not None:
            _count_rows(key[s:e], tables.get())

    run_chunks(chunk, len(slices))
    if outside.any():
        return None, False
    return (_summed(tables) if tables is not None else None), True


def fold_columns(columns, n: int, limit: int | None = None, count: bool = False, key=None):
    """Fold columns into one int32 key per row.

    ``columns`` is a sequence of ``(values, lo, span, ...)`` (further items are ignored,
    so an :class:`idrisk._encode.KeyColumn` serves): ``values`` a 1-D integer or
    boolean array of length ``n`` with ``lo <= values < lo + span`` and ``span <= limit``.
    Returns ``(key, space)`` with ``0 <= key < space <= limit``; two rows have equal keys
    iff their values are equal on every column. Before a column would push the key space
    over ``limit`` the key is renumbered (lookup table), and if that is not enough the
    column is combined through a hash table (:func:`_key_push_hash`).

    With ``count=True`` returns ``(key, space, counts)``: ``counts`` (int32, length
    ``space``) the number of rows of each key, taken slice by slice right after the slice's
    last push, while its key is still in cache (one table per thread, summed), or None when
    that is not cheaper (the key space large beside the rows, or the last column hashed):
    then :func:`key_counts` counts. ``key``: an int32 array of ``n`` to fold into (the key
    half of :func:`sizes_buffer`), else one is allocated.
    """
    if limit is None:
        limit = default_limit(n)
    if n >= _MAX_ROWS:
        raise ValueError(f"at most {_MAX_ROWS - 1} rows are supported")
    cols = []
    for col in columns:
        values, lo, span = col[0], col[1], int(col[2])
        if span > limit:
            raise ValueError("a column's span exceeds the key-space limit")
        if span > 1:  # a constant column tells no records apart
            cols.append((values, np.int64(lo), span))
    key = np.empty(n, dtype=np.int32) if key is None else key
    if not cols:
        key[:] = 0
        return (key, 1, np.array([n], dtype=np.int32)) if count else (key, 1)
    space = 1
    pos = 0
    counts = None
    while pos < len(cols):
        if pos and space * cols[pos][2] > limit:
            space, _ = _renumber_lookup(key, np.int64(space))
            space = max(int(space), 1)
            if space * cols[pos][2] > limit:
                values, lo, span = cols[pos]
                space = int(_key_push_hash(key, values, lo, np.int64(span)))
                pos += 1
                continue
        end, run_space = pos + 1, space * cols[pos][2]
        while end < len(cols) and run_space * cols[end][2] <= limit:
            run_space *= cols[end][2]
            end += 1
        counts, _ = _fold_run(key, cols, pos, end, n, run_space, count=count and end == len(cols))  # the last run's
        space = run_space
        pos = end
    return (key, space, counts) if count else (key, space)


#: from this many rows on the key is folded into the sizes' block (:func:`sizes_buffer`): its
#: int32 (32 MiB and more) would otherwise come as fresh pages on every call (glibc maps
#: blocks above 32 MiB afresh), first touched at about 13 GB/s; below, the halving waves cost
#: more than they save (a reused block has no page faults: 1.81 -> 1.99 ms at 1M, /tmp A/B)
OVER_MIN_ROWS = 1 << 23


def sizes_buffer(n: int, copies: int = 1, out=None):
    """``(out, key)``: an int64 ``(copies, n)`` block for the per-row sizes and, in the upper
    half of its last row, room for the int32 key (``fold_columns(key=key)``), so that
    ``key_counts(key, ..., out=out)`` writes the sizes over the key as it reads it: n int32
    fewer allocated, first touched (page faults, zeroing) and held at the peak. ``out``: such
    a block to use again (C-contiguous int64 of that shape), else one is allocated."""
    if out is None:
        out = np.empty((max(int(copies), 1), n), dtype=np.int64)
    return out, out[-1].view(np.int32)[n:]


def key_counts(key, space: int, weights=None, copies: int = 1, counts=None, out=None):
    """Per-row class size (int64) and, with ``weights``, class weight sum (float64).

    ``key`` and ``space`` come from :func:`fold_columns`, and ``counts`` too when it took
    them (``count=True``; used without weights only). Without weights returns
    ``(sizes, None)`` where ``sizes`` has shape ``(copies, n)`` if ``copies > 1`` (the
    same sizes in every row: a ready-made fk/Fk block) and ``(n,)`` otherwise. With
    weights the key may be renumbered in place first (to keep the float table small).
    ``out``: the block of :func:`sizes_buffer` whose key half ``key`` is (no weights).
    """
    if weights is not None and space > max(key.shape[0], 1 << 16):
        space, _ = _renumber_lookup(key, np.int64(space))
    space = max(int(space), 1)
    n = key.shape[0]
    if weights is None:
        if out is None:
            out = np.empty((max(int(copies), 1), n), dtype=np.int64)
            _count_gather(key, space, out, counts)
        else:
            _count_gather_over(key, space, out, counts)
        return (out if out.shape[0] > 1 else out[0]), None
    fk = np.empty(n, dtype=np.int64)
    Fk = np.empty(n, dtype=np.float64)
    _count_sum_gather(key, np.int64(space), np.asarray(weights, dtype=np.float64), fk, Fk)
    return fk, Fk


def _row_slices(n: int, at_least: int = 1, min_rows: int | None = None) -> list:
    """``(lo, hi)`` row slices: one below ``min_rows`` rows (default ``_PAR_MIN_ROWS``), else
    two per thread (and at least ``at_least``), so a thread that finishes early takes another."""
    k = max(1 if n < (_PAR_MIN_ROWS if min_rows is None else min_rows) else 2 * int(numba.get_num_threads()),
            int(at_least))
    per = (n + k - 1) // k if n else 1
    return [(s, min(n, s + per)) for s in range(0, n, per)] or [(0, 0)]


def _count_tables(space: int, n_slices: int, n: int):
    """One count table of ``space`` int32 per thread (:class:`.threads.PerThread`) for rows
    counted in ``n_slices`` slices, or None when the tables would take more than the rows
    (``space`` times the threads above ``max(n, 2**16)``): then one table, one pass."""
    if space * n_workers(n_slices) > max(n, 1 << 16):
        return None
    return PerThread(lambda: np.zeros(space, dtype=np.int32))


def _summed(tables):
    """The sum of a :class:`.threads.PerThread`'s tables (into the first)."""
    counts, *rest = tables.values()
    for t in rest:
        counts += t
    return counts


def _key_table(key, space: int):
    """The number of rows of each key (int32, length ``space``): in row slices on threads, one
    table per thread (:func:`_count_tables`), else in one pass."""
    n = key.shape[0]
    slices = _row_slices(n)
    tables = _count_tables(space, len(slices), n)
    if tables is not None:
        run_chunks(lambda ch: _count_rows(key[slices[ch][0]:slices[ch][1]], tables.get()), len(slices))
        return _summed(tables)
    counts = np.zeros(space, dtype=np.int32)
    _count_rows(key, counts)
    return counts


def _count_gather(key, space: int, out, counts=None) -> None:
    """out[j, i] = number of rows with key == key[i], for every row j of ``out`` (``counts``:
    the rows of each key, when already taken)."""
    slices = _row_slices(key.shape[0])
    if counts is None:
        counts = _key_table(key, space)

    def chunk(ch):
        s, e = slices[ch]
        _gather_rows(key[s:e], counts, out[0, s:e])
        for j in range(1, out.shape[0]):  # sequential copies: one write stream at a time
            _copy_rows(out[0, s:e], out[j, s:e])

    run_chunks(chunk, len(slices))


_WAVE_MIN_ROWS = 1 << 16  # the last rows written over the key are gathered in one serial pass


def _count_gather_over(key, space: int, out, counts=None) -> None:
    """:func:`_count_gather` with ``key`` the upper half of ``out[-1]`` (:func:`sizes_buffer`).

    Row i's size (bytes ``8i .. 8i+8`` of the row) lies over the key of rows ``2i - n`` and
    ``2i - n + 1``, never over a later row's: rows ``a .. b-1`` with ``b <= (n + a) / 2``
    overwrite only keys of rows before ``a``, already read, and read no key they write. So
    the rows are gathered in waves (each on threads) that halve what is left, the last
    ``_WAVE_MIN_ROWS`` or fewer in one ascending pass (each row reads its key before it
    writes over an earlier row's); the other rows of ``out`` are then copies of the last."""
    n = key.shape[0]
    if counts is None:
        counts = _key_table(key, space)
    row = out[-1]
    a = 0
    while a < n:
        b = n if n - a <= max(_WAVE_MIN_ROWS, 1) else (n + a) // 2
        slices = [(a + s, a + e) for s, e in _row_slices(b - a)] if b < n else [(a, n)]
        run_chunks(lambda ch, sl=slices: _gather_rows(key[sl[ch][0]:sl[ch][1]], counts,
                                                      row[sl[ch][0]:sl[ch][1]]), len(slices))
        a = b
    if out.shape[0] > 1:
        slices = _row_slices(n)

        def chunk(ch):
            s, e = slices[ch]
            for j in range(out.shape[0] - 1):
                _copy_rows(row[s:e], out[j, s:e])

        run_chunks(chunk, len(slices))


def group_ids_columns(columns, n: int, limit: int | None = None, ids_dtype=np.int64,
                      first_appearance: bool = True):
    """Like :func:`group_ids` for ``(values, lo, span)`` columns (see :func:`fold_columns`).

    ``ids_dtype=np.int32`` gives the ids as the int32 key they are numbered in (no copy).
    ``first_appearance=False``: the same classes, numbered in the order of their folded key
    instead of their first row (for callers that only index with the ids), which runs on
    threads from ``_PAR_MIN_ROWS`` rows on: the counts of each key (taken during the fold),
    a running sum over the key space, and every row's id looked up slice by slice."""
    if n == 0:
        return np.zeros(0, dtype=ids_dtype), np.zeros(0, dtype=np.int64)
    if limit is None:
        limit = default_limit(n)
    if first_appearance:
        key, space = fold_columns(columns, n, limit)
        g, sizes = _renumber_lookup(key, np.int64(max(space, 1)))
        return key.astype(ids_dtype, copy=False), sizes
    key, space, counts = fold_columns(columns, n, limit, count=True)
    if counts is None:
        counts = _key_table(key, max(int(space), 1))
    present = counts > 0
    rank = np.cumsum(present, dtype=np.int32)
    rank -= 1
    sizes = counts[present].astype(np.int64)
    slices = _row_slices(n)
    run_chunks(lambda ch: _remap_rows(key[slices[ch][0]:slices[ch][1]], rank), len(slices))
    return key.astype(ids_dtype, copy=False), sizes


@numba.njit(**NUMBA_OPTS)
def _remap_rows(key, table):
    """key[i] = table[key[i]] (a slice of the rows)."""
    for i in range(key.shape[0]):
        key[i] = table[key[i]]


def group_ids(codes: np.ndarray, cards: np.ndarray, limit: int | None = None):
    """Dense class ids for rows of ``codes`` (shape ``(m, n)``, non-negative integers).

    ``cards[j]`` bounds column j: ``0 <= codes[j] < cards[j]``. ``limit`` is the largest
    key space indexed by a lookup table (default ``max(2 n, 2**16)``); a tiny limit forces
    the hash-table path (used by the tests).

    Returns ``(gid, sizes)``: ``gid`` int64 of length n with values ``0 .. g-1`` in order of
    first appearance; ``sizes`` int64 of length g.
    """
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError("codes must be 2-D (columns, rows)")
    m, n = codes.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if m == 0:
        return np.zeros(n, dtype=np.int64), np.array([n], dtype=np.int64)
    cards = np.asarray(cards, dtype=np.int64)
    if limit is None:
        limit = default_limit(n)
    limit = max(int(limit), int(cards.max()), 1)
    return group_ids_columns([(codes[j], 0, cards[j]) for j in range(m)], n, limit)


@numba.njit(**NUMBA_OPTS)
def wildcard_cross(key, space, kind, p, weights, alpha, fk, Fk):
    """One step of sdcMicro's wildcard rule: complete records vs records of NA pattern ``p``.

    ``key`` (values in [0, space)) groups the records on the variables pattern ``p``
    observes; ``kind[i]`` is -1 for a complete record, ``p`` for a record of pattern p.
    A pattern-p record gains every compatible complete record at full weight; a complete
    record gains ``alpha`` per compatible pattern-p record. Updates ``fk``/``Fk`` in place.
    """
    cnt_c = np.zeros(space, dtype=np.int64)
    cnt_p = np.zeros(space, dtype=np.int64)
    w_c = np.zeros(space, dtype=np.float64)
    w_p = np.zeros(space, dtype=np.float64)
    n = key.shape[0]
    for i in range(n):
        t = kind[i]
        if t == -1:
            cnt_c[key[i]] += 1
            w_c[key[i]] += weights[i]
        elif t == p:
            cnt_p[key[i]] += 1
            w_p[key[i]] += weights[i]
    for i in range(n):
        t = kind[i]
        if t == -1:
            fk[i] += alpha * cnt_p[key[i]]
            Fk[i] += alpha * w_p[key[i]]
        elif t == p:
            fk[i] += cnt_c[key[i]]
            Fk[i] += w_c[key[i]]
