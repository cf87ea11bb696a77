"""Encoding kernels: integer columns to dense codes, object addresses and UTF-8 strings to ids
(numba only).

Used by :mod:`idrisk._encode`, which decides which path a column takes.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .hashing import new_table, table_id

__all__ = ["int_min_max", "int_dense_codes", "pointer_codes", "min_max", "utf8_codes", "utf8_words", "remap_codes",
           "new_codes", "sample_min_max", "fixed_width_codes",
           "string_codes"]


def new_codes(n: int, dtype=np.int32) -> np.ndarray:
    """An int32 (or ``dtype``: int16 for codes a grouping key narrows anyway) array of ``n``
    codes for a kernel to fill, allocated by numpy. A kernel writing int16 codes truncates
    codes above 32767: the caller checks the number of codes and encodes again in int32.

    Row-length outputs are allocated here, outside the kernels, on purpose: numpy asks the
    kernel for transparent huge pages on arrays of 4 MiB and more (``madvise``), while an
    array allocated inside a numba kernel is faulted in 4 KiB pages on first touch. At
    10M rows (40 MB of codes) that is about 10,000 page faults instead of about 20, 3 to 4
    times the time of writing the codes on this project's virtual machines.
    """
    return np.empty(int(n), dtype=dtype)


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
def int_dense_codes(values, mask, lo, span, codes):
    """Codes in ascending value order via a lookup table of size ``span``; also the levels.

    Writes ``codes`` (int32, one per row: -1 where masked; given by the caller, see
    :func:`new_codes`) and returns ``(codes, n_levels, levels)``, ``levels`` int64, the
    value behind each code.
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
    for i in range(n):
        if has_mask and mask[i]:
            codes[i] = -1
        else:
            codes[i] = present[np.int64(values[i]) - lo]
    return codes, n_levels, levels


@numba.njit(**NUMBA_OPTS)
def pointer_codes(ptrs, max_distinct, codes):
    """First-appearance ids of the object addresses in ``ptrs`` (uint64), by hashing, written
    to ``codes`` (int32, given by the caller: :func:`new_codes`).

    Returns ``(codes, first_row)``, or an empty ``first_row`` if there are more than
    ``max_distinct`` distinct addresses (then the caller falls back to pandas).
    """
    n = ptrs.shape[0]
    slot_key, slot_id, shift = new_table(max_distinct)
    first = np.empty(max_distinct, dtype=np.int64)
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


@numba.njit(**NUMBA_OPTS)
def sample_min_max(values, runs, run):
    """Minimum and maximum over ``runs`` runs of ``run`` rows spread evenly over ``values``
    (the first and the last rows included; all of them when they are fewer): a guess at the
    bounds, which a caller must check (:func:`idrisk._kernels.groups.fold_checked`)."""
    n = values.shape[0]
    if n <= runs * run or runs < 2:
        return min_max(values)
    step = (n - run) // (runs - 1)
    lo = values[0]
    hi = values[0]
    for r in range(runs):
        s = n - run if r == runs - 1 else r * step
        w = values[s:s + run]  # a slice looped from 0: no wraparound check, so it vectorises
        for i in range(run):
            v = w[i]
            lo = min(lo, v)
            hi = max(hi, v)
    return np.int64(lo), np.int64(hi)


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_ALL_BITS = np.uint64(0xFFFFFFFFFFFFFFFF)


def utf8_words(data: np.ndarray):
    """The bytes ``data`` (uint8) as little-endian uint64 words for :func:`utf8_codes`:
    ``(words, tail, tail_start)``. ``words`` are the whole words (a view of ``data`` when it
    is 8-byte aligned, else a copy); ``tail`` is a zero-padded copy of the bytes from byte
    ``tail_start`` on (a word boundary at least 24 bytes before the end of ``words``), so
    that :func:`_load` can read two words past any string's last byte: a string starting
    before ``tail_start`` is read from ``words``, a later one from ``tail``. No copy of the
    buffer is made beyond its last few words."""
    n_full = data.shape[0] // 8
    if data.ctypes.data % 8 == 0:
        words = data[: 8 * n_full].view(np.uint64)
    else:
        words = np.empty(n_full, dtype=np.uint64)
        words.view(np.uint8)[:] = data[: 8 * n_full]
    tail_start = 8 * max(n_full - 3, 0)
    rest = data[tail_start:]
    tail = np.zeros(rest.shape[0] // 8 + 3, dtype=np.uint64)
    tail.view(np.uint8)[: rest.shape[0]] = rest
    return words, tail, tail_start


@numba.njit(inline="always", **NUMBA_OPTS)
def _load(words, p, nb):
    """The ``nb`` (1 .. 8) bytes from byte ``p`` of ``words`` as one little-endian integer.

    Branch-free (a branch on the byte offset mispredicts on every other string): the
    next word is shifted in by ``1 + (63 - sh)`` bits, which is 64 (nothing) when ``sh = 0``.
    """
    k = p >> 3
    sh = np.uint64((p & 7) * 8)
    w = (words[k] >> sh) | ((words[k + 1] << np.uint64(1)) << (np.uint64(63) - sh))
    return w & (_ALL_BITS >> np.uint64(64 - 8 * nb))


#: strings of at most this many bytes are numbered by :func:`utf8_codes`
UTF8_MAX_BYTES = 15


@numba.njit(**NUMBA_OPTS)
def _new_slots(cap):
    """An empty string table of ``cap`` (a power of two) slots: ``(w0, w1, slot_id, shift)``,
    a slot holding a string's two words from :func:`_key_words`."""
    bits = 0
    while (1 << bits) < cap:
        bits += 1
    return (np.zeros(cap, dtype=np.uint64), np.zeros(cap, dtype=np.uint64), np.full(cap, -1, dtype=np.int32),
            np.uint64(64 - bits))


@numba.njit(inline="always", **NUMBA_OPTS)
def _slot_of(w0, w1, shift):
    x = (w0 * _MIX) ^ w1
    x = (x ^ (x >> np.uint64(29))) * _FNV_PRIME
    return np.int64(x >> shift)


@numba.njit(**NUMBA_OPTS)
def _grow(s0, s1, slot_id):
    """The same entries in a table of twice the capacity."""
    n0, n1, new_id, shift = _new_slots(slot_id.shape[0] * 2)
    mask = new_id.shape[0] - 1
    for s in range(slot_id.shape[0]):
        if slot_id[s] >= 0:
            h = _slot_of(s0[s], s1[s], shift)
            while new_id[h] >= 0:
                h = (h + 1) & mask
            new_id[h] = slot_id[s]
            n0[h] = s0[s]
            n1[h] = s1[s]
    return n0, n1, new_id, shift


@numba.njit(inline="always", **NUMBA_OPTS)
def _key_words(words, a, m):
    """A string of ``m <= 15`` bytes at byte ``a`` as two words: bytes 0-7, and bytes 8-14
    with the length in the top byte. Equal words mean equal strings."""
    w0 = np.uint64(0)
    w1 = np.uint64(m) << np.uint64(56)
    if m > 0:
        w0 = _load(words, a, min(m, 8))
    if m > 8:
        w1 |= _load(words, a + 8, m - 8)
    return w0, w1


@numba.njit(**NUMBA_OPTS)
def _utf8_run(offsets, base, words, valid, i, end, g, tiny, s0, s1, slot_id, shift, first, codes):
    """Rows ``i .. end-1`` of :func:`utf8_codes`, their bytes read from ``words`` (byte ``p``
    of a string is ``words``' byte ``p - base``), until ``end`` or until the table or
    ``first`` is full (then the caller grows them and resumes), or a string longer than
    ``UTF8_MAX_BYTES`` (then it gives up). Returns ``(next row, number of codes, no string
    was too long)``."""
    has_valid = valid.shape[0] > 0
    mask = slot_id.shape[0] - 1
    g_max = min(first.shape[0], (slot_id.shape[0] - 2) // 2)
    for i in range(i, end):
        if has_valid and not valid[i]:
            codes[i] = -1
            continue
        a = np.int64(offsets[i]) - base
        m = np.int64(offsets[i + 1]) - base - a
        if m <= 2:  # a string of 0-2 bytes is its own index in the direct table ``tiny``
            t = (m << 16) | (np.int64(_load(words, a, m)) if m > 0 else 0)
            sid = tiny[t]
            if sid < 0:
                if g == g_max:
                    return i, g, True
                sid = g
                tiny[t] = g
                first[g] = i
                g += 1
            codes[i] = sid
            continue
        if m > UTF8_MAX_BYTES:
            return i, g, False
        w0, w1 = _key_words(words, a, m)
        h = _slot_of(w0, w1, shift)
        while slot_id[h] >= 0 and (s0[h] != w0 or s1[h] != w1):
            h = (h + 1) & mask
        sid = slot_id[h]
        if sid < 0:
            if g == g_max:
                return i, g, True
            sid = g
            slot_id[h] = g
            s0[h] = w0
            s1[h] = w1
            first[g] = i
            g += 1
        codes[i] = sid
    return end, g, True


@numba.njit(**NUMBA_OPTS)
def _fixed_width(offsets, valid):
    """The byte length shared by every non-null string, or -1 if they differ (0 if none)."""
    n = offsets.shape[0] - 1
    has_valid = valid.shape[0] > 0
    width = np.int64(-1)
    for i in range(n):
        if has_valid and not valid[i]:
            continue
        m = np.int64(offsets[i + 1]) - np.int64(offsets[i])
        if width < 0:
            width = m
        elif m != width:
            return np.int64(-1)
    return max(width, np.int64(0))


#: The fixed-width loop keeps at most this many distinct strings (its table stays in the
#: first-level cache); a column with more goes to the general loop.
FIXED_MAX_DISTINCT = 1000


@numba.njit(inline="always", **NUMBA_OPTS)
def _fixed_part(part, split, n, offsets, words, tail, base, tail_start):
    """Rows ``lo .. hi-1`` of part 0 (read from ``words``) or 1 (from ``tail``) of
    :func:`_utf8_fixed`, their buffer ``w``, its base ``b`` and the first row's start ``a0``."""
    lo = 0 if part == 0 else split
    hi = split if part == 0 else n
    w = words if part == 0 else tail
    b = base if part == 0 else base + tail_start
    a0 = np.int64(offsets[lo]) - b if lo < hi else np.int64(0)
    return lo, hi, w, b, a0


@numba.njit(inline="always", **NUMBA_OPTS)
def _fixed_start(offsets, i, lo, b, a0, width, has_valid):
    """Start of string ``i`` of :func:`_utf8_fixed`: from the offsets when some string is
    missing, else from the first one (every string has ``width`` bytes: the offsets step by it)."""
    if has_valid:
        return np.int64(offsets[i]) - b
    return a0 + (i - lo) * width


@numba.njit(**NUMBA_OPTS)
def _utf8_fixed(offsets, base, words, tail, tail_start, split, valid, width, codes):
    """:func:`utf8_codes` when every non-null string has ``width <= UTF8_MAX_BYTES`` bytes
    (codes usually do: sex, SEN, area codes): the same codes from a loop with no per-row
    length, over tables made here and never grown (so the compiler knows they do not
    overlap the codes, and no array is redefined in the loop). Returns ``(codes, first,
    ok)``; ``ok`` is False when more than ``FIXED_MAX_DISTINCT`` strings of more than 2
    bytes are distinct: the caller then takes the general loop."""
    n = offsets.shape[0] - 1
    has_valid = valid.shape[0] > 0
    if width <= 2:
        tiny = np.full(1 << (8 * width), -1, dtype=np.int32)
        first = np.empty(tiny.shape[0], dtype=np.int64)
        g = 0
        for part in range(2):
            lo, hi, w, b, a0 = _fixed_part(part, split, n, offsets, words, tail, base, tail_start)
            for i in range(lo, hi):
                if has_valid and not valid[i]:
                    codes[i] = -1
                    continue
                a = _fixed_start(offsets, i, lo, b, a0, width, has_valid)
                if width == 1:  # one byte, one shift
                    t = np.int64((w[a >> 3] >> np.uint64((a & 7) * 8)) & np.uint64(0xFF))
                elif width == 2:
                    t = np.int64(_load(w, a, 2))
                else:
                    t = 0
                sid = tiny[t]
                if sid < 0:
                    sid = g
                    tiny[t] = g
                    first[g] = i
                    g += 1
                codes[i] = sid
        return codes, first[:g], True
    s0, s1, slot_id, shift = _new_slots(2048)
    first = np.empty(FIXED_MAX_DISTINCT, dtype=np.int64)
    mask = slot_id.shape[0] - 1
    nb0 = min(width, 8)
    nb1 = max(width - 8, 1)
    two = width > 8
    len_bits = np.uint64(width) << np.uint64(56)
    g = 0
    for part in range(2):
        lo, hi, w, b, a0 = _fixed_part(part, split, n, offsets, words, tail, base, tail_start)
        for i in range(lo, hi):
            if has_valid and not valid[i]:
                codes[i] = -1
                continue
            a = _fixed_start(offsets, i, lo, b, a0, width, has_valid)
            w0 = _load(w, a, nb0)
            w1 = len_bits
            if two:
                w1 |= _load(w, a + 8, nb1)
            h = _slot_of(w0, w1, shift)
            while slot_id[h] >= 0 and (s0[h] != w0 or s1[h] != w1):
                h = (h + 1) & mask
            sid = slot_id[h]
            if sid < 0:
                if g == FIXED_MAX_DISTINCT:
                    return codes, first[:0], False
                sid = g
                slot_id[h] = g
                s0[h] = w0
                s1[h] = w1
                first[g] = i
                g += 1
            codes[i] = sid
    return codes, first[:g], True


def string_codes(offsets, data, valid, codes):
    """First-appearance codes of an Arrow string array from its buffers: ``offsets``, the
    whole ``data`` buffer (uint8) and ``valid`` (empty: no null). :func:`fixed_width_codes`
    when every string has one width, else :func:`utf8_codes` over the bytes used, read from
    a word boundary of the buffer (no copy); without nulls its general loop only, the
    one-width loop having been tried (a column of one width with more than
    ``FIXED_MAX_DISTINCT`` strings, school numbers say, is not scanned twice more). Returns
    ``(codes, first, ok)`` as it."""
    if valid.shape[0] == 0:
        fixed = fixed_width_codes(offsets, data, codes)
        if fixed is not None and fixed[2]:
            return fixed
    base = int(offsets[0]) & ~7
    words, tail, tail_start = utf8_words(data[base:int(offsets[-1])])
    kernel = utf8_codes if valid.shape[0] else _utf8_general
    return kernel(offsets, np.int64(base), _read_only(words), _read_only(tail), np.int64(tail_start), valid, codes)


def _read_only(a):
    """A read-only view of ``a``: one compiled version of a kernel for views and copies alike."""
    v = a.view()
    v.flags.writeable = False
    return v


def fixed_width_codes(offsets, data, codes):
    """:func:`utf8_codes` for an Arrow string array with no null whose strings all have one
    width of 1 to ``UTF8_MAX_BYTES`` bytes (codes usually do: sex, SEN, area codes), or None
    for any other array. ``offsets`` its offsets, ``data`` its whole data buffer (uint8).

    Every string then starts ``width`` bytes after the last, so its bytes are read through
    strided views of the buffer itself: a byte or an unaligned 16-bit word for 1 or 2 bytes
    (a direct table), else an unaligned 64-bit word at its start (masked to the width) and,
    beyond 8 bytes, another ending at its end (a string's two words, :func:`_slot_of`). No
    shifting of words, no copy: three times faster than :func:`_utf8_fixed` on 9-byte codes.
    The few last rows whose 8-byte word would run past the buffer are read from a padded copy.
    Returns ``(codes, first, ok)`` as :func:`utf8_codes`."""
    n = offsets.shape[0] - 1
    width = int(_fixed_width(offsets, np.zeros(0, dtype=np.bool_))) if n else -1
    if not 1 <= width <= UTF8_MAX_BYTES:
        return None
    o0 = int(offsets[0])
    if width <= 2:
        v = np.ndarray((n,), dtype=np.uint8 if width == 1 else np.uint16, buffer=data, offset=o0, strides=(width,))
        return _tiny_codes(_read_only(v), 1 << (8 * width), codes)
    safe = n if width >= 8 else max(0, min(n, (data.shape[0] - 8 - o0) // width + 1))
    w0 = np.ndarray((safe,), dtype=np.uint64, buffer=data, offset=o0, strides=(width,))
    w1 = np.ndarray((safe,), dtype=np.uint64, buffer=data, offset=o0 + width - 8, strides=(width,)) \
        if width > 8 else np.zeros(1, dtype=np.uint64)
    pad = np.zeros((n - safe) * width + 8, dtype=np.uint8)
    pad[: (n - safe) * width] = data[o0 + safe * width: o0 + n * width]
    t0 = np.ndarray((n - safe,), dtype=np.uint64, buffer=pad, offset=0, strides=(width,))
    msk = _ALL_BITS >> np.uint64(64 - 8 * min(width, 8))
    return _wide_codes(_read_only(w0), _read_only(w1), width > 8, _read_only(t0), msk, codes)


@numba.njit(**NUMBA_OPTS)
def _tiny_codes(v, size, codes):
    """First-appearance codes of the values of ``v`` (uint8 or uint16, below ``size``) through
    a direct table."""
    tiny = np.full(size, -1, dtype=np.int32)
    first = np.empty(tiny.shape[0], dtype=np.int64)
    g = 0
    for i in range(v.shape[0]):
        t = np.int64(v[i])
        sid = tiny[t]
        if sid < 0:
            sid = g
            tiny[t] = g
            first[g] = i
            g += 1
        codes[i] = sid
    return codes, first[:g], True


@numba.njit(**NUMBA_OPTS)
def _wide_codes(w0, w1, two, t0, msk, codes):
    """First-appearance codes of strings given as words (:func:`fixed_width_codes`): rows
    ``0 .. len(w0)-1`` from ``w0`` (and ``w1`` when ``two``), the rest from ``t0``; ok False
    beyond ``FIXED_MAX_DISTINCT`` distinct strings. The probe repeats :func:`_utf8_fixed`'s on
    purpose: one helper taking the table arrays, called from both loops (inlined or not), made
    both ten times slower (1.1 -> 10.4 ms for a 1-byte column of 1M rows, /tmp script)."""
    s0, s1, slot_id, shift = _new_slots(2048)
    first = np.empty(FIXED_MAX_DISTINCT, dtype=np.int64)
    mask = slot_id.shape[0] - 1
    safe = w0.shape[0]
    g = 0
    for i in range(safe + t0.shape[0]):
        if i < safe:
            a = w0[i] & msk
            b = w1[i] if two else np.uint64(0)
        else:
            a = t0[i - safe] & msk
            b = np.uint64(0)
        h = _slot_of(a, b, shift)
        while slot_id[h] >= 0 and (s0[h] != a or s1[h] != b):
            h = (h + 1) & mask
        sid = slot_id[h]
        if sid < 0:
            if g == FIXED_MAX_DISTINCT:
                return codes, first[:0], False
            sid = g
            slot_id[h] = g
            s0[h] = a
            s1[h] = b
            first[g] = i
            g += 1
        codes[i] = sid
    return codes, first[:g], True


@numba.njit(**NUMBA_OPTS)
def utf8_codes(offsets, base, words, tail, tail_start, valid, codes):
    """First-appearance codes of short byte strings (an Arrow string array's buffers).

    String ``i`` is bytes ``offsets[i] - base .. offsets[i + 1] - base - 1`` of the buffer
    given as ``words``, ``tail`` and ``tail_start`` by :func:`utf8_words`; ``valid`` (bool, or
    empty: all valid) marks the non-null entries, a null gets code -1. Strings are equal
    iff their bytes are equal. The codes are written to ``codes`` (int32, one per string,
    given by the caller: :func:`new_codes`). Returns ``(codes, first_row, ok)``: codes ``0 .. g-1``
    in order of first appearance (as ``pandas.factorize``) and the first row of each code;
    ``ok`` is False (and the codes unfinished) if a string is longer than
    ``UTF8_MAX_BYTES``, which key columns rarely hold: the caller then takes another path.
    A string of at most 2 bytes (a sex or SEN code) indexes a direct table; one of at most
    15 bytes is two words (:func:`_key_words`), kept in its hash slot, so equal strings are
    found without reading the bytes again. When every string has the same length (codes
    usually do), a loop without per-row lengths numbers them (:func:`_utf8_fixed`). The
    table starts small and doubles when half full, so memory follows the distinct count.
    """
    width = _fixed_width(offsets, valid)
    if width > UTF8_MAX_BYTES:
        return codes, np.empty(0, dtype=np.int64), False
    if width >= 0:
        split = _split(offsets, base, tail_start)
        codes, first, ok = _utf8_fixed(offsets, base, words, tail, tail_start, split, valid, width, codes)
        if ok:
            return codes, first, True
    return _utf8_general(offsets, base, words, tail, tail_start, valid, codes)


@numba.njit(**NUMBA_OPTS)
def _split(offsets, base, tail_start):
    """The first row whose string starts at or after ``tail_start`` (the earlier ones are read
    from ``words``, the later from ``tail``)."""
    n = offsets.shape[0] - 1
    split = 0
    while split < n and np.int64(offsets[split]) - base < tail_start:
        split += 1 if split + 4096 >= n or np.int64(offsets[split + 4096]) - base >= tail_start else 4096
    return split


@numba.njit(**NUMBA_OPTS)
def _utf8_general(offsets, base, words, tail, tail_start, valid, codes):
    """:func:`utf8_codes` by its general loop (any lengths), without trying the one-width loop
    first: for :func:`string_codes` once :func:`fixed_width_codes` has tried it."""
    n = offsets.shape[0] - 1
    split = _split(offsets, base, tail_start)
    s0, s1, slot_id, shift = _new_slots(2048)
    tiny = np.full(3 << 16, -1, dtype=np.int32)  # strings of 0, 1 or 2 bytes: (length, bytes) -> code
    first = np.empty(1024, dtype=np.int64)
    i, g, ok = 0, 0, True
    for part in range(2):
        end = split if part == 0 else n
        b = base if part == 0 else base + tail_start
        w = words if part == 0 else tail
        while ok and i < end:
            i, g, ok = _utf8_run(offsets, b, w, valid, i, end, g, tiny, s0, s1, slot_id, shift, first, codes)
            if g == first.shape[0]:
                bigger = np.empty(2 * first.shape[0], dtype=np.int64)
                bigger[:g] = first[:g]
                first = bigger
            if 2 * g + 2 >= slot_id.shape[0]:
                s0, s1, slot_id, shift = _grow(s0, s1, slot_id)
    return codes, first[:g], ok


@numba.njit(**NUMBA_OPTS)
def remap_codes(codes, table):
    """``codes[i] = table[codes[i]]`` in place, keeping -1 (missing) as -1."""
    for i in range(codes.shape[0]):
        c = codes[i]
        if c >= 0:
            codes[i] = table[c]
