"""Per-class distributions of a sensitive code (numba only: int arrays in, arrays out).

Records are grouped once into equivalence classes (``gid`` from
:func:`idrisk._kernels.groups.group_ids`); :func:`class_order` then lists the members of
each class contiguously (a counting sort, O(n + g)). The kernels walk one class at a
time, count its sensitive codes in a scratch array of the attribute's cardinality and
reset only the entries they touched, so the total cost is O(n + g) (plus a sort of the
per-class counts for recursive diversity and O(g * m) for the ordered distance).
Classes are processed in parallel chunks, each chunk with its own scratch buffer.

Sensitive codes: ``0 .. card-1`` observed values; ``-1`` a missing value that counts as
a *new* category of its own each time (sdcMicro's treatment of R ``NA``); callers who
want missing values to be one category map them to a real code first.

The ``*_counts`` kernels take each class's (value, count) pairs instead of its records, for
a table already reduced to them (as ``idrisk.spark`` does on Spark), with the same rules.

Definitions: ``docs/methods.md#l-diversity`` and ``docs/methods.md#t-closeness``.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .threads import PerThread, run_chunks

__all__ = ["class_order", "ldiversity_stats", "ldiversity_dense", "dense_cells_ok", "tcloseness_distances", "n_chunks_for", "ldiversity_counts",
           "tcloseness_counts"]


@numba.njit(**NUMBA_OPTS)
def class_order(gid, g):
    """Counting sort of rows by class.

    gid: int64 (n,), values ``0 .. g-1``. Returns ``(order, starts)``: ``order`` int64 (n,)
    row numbers grouped by class (ascending row order inside a class) and ``starts`` int64
    (g + 1,) so that class ``j`` is ``order[starts[j]:starts[j + 1]]``.
    """
    n = gid.shape[0]
    starts = np.zeros(g + 1, dtype=np.int64)
    for i in range(n):
        starts[gid[i] + 1] += 1
    for j in range(g):
        starts[j + 1] += starts[j]
    fill = starts[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        j = gid[i]
        order[fill[j]] = i
        fill[j] += 1
    return order, starts


def n_chunks_for(g: int) -> int:
    """Number of class chunks for the parallel kernels (a few per thread, at least 1)."""
    return int(max(1, min(g, 8 * numba.get_num_threads())))


@numba.njit(**NUMBA_OPTS)
def _sift_down(keys, vals, root, end):
    """Restore the max-heap of ``keys[:end]`` below ``root``, moving ``vals`` alongside."""
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and keys[child] < keys[child + 1]:
            child += 1
        if keys[root] >= keys[child]:
            return
        keys[root], keys[child] = keys[child], keys[root]
        vals[root], vals[child] = vals[child], vals[root]
        root = child


@numba.njit(**NUMBA_OPTS)
def heapsort_pairs(keys, vals, m):
    """Sort ``keys[:m]`` ascending in place, carrying ``vals`` along (heapsort, not stable).

    Written out instead of ``np.argsort`` because numba's sorting routines cost more
    compile time than every other use of them here; callers pass distinct keys (or sort
    values only), so the order is the one any sort gives.
    """
    m = np.int64(m)
    zero = np.int64(0)  # a literal 0 argument would compile a second version of _sift_down
    for start in range(m // 2 - 1, -1, -1):
        _sift_down(keys, vals, np.int64(start), m)
    for end in range(m - 1, 0, -1):
        keys[0], keys[end] = keys[end], keys[0]
        vals[0], vals[end] = vals[end], vals[0]
        _sift_down(keys, vals, zero, np.int64(end))


@numba.njit(**NUMBA_OPTS)
def _sort_asc(a, m):
    """Sort ``a[:m]`` in increasing order in place (insertion sort for the usual few values)."""
    if m > 48:
        heapsort_pairs(a, np.empty(m, dtype=np.int64), np.int64(m))
        return
    for i in range(1, m):
        v = a[i]
        k = i - 1
        while k >= 0 and a[k] > v:
            a[k + 1] = a[k]
            k -= 1
        a[k + 1] = v


@numba.njit(**NUMBA_OPTS)
def _sort_desc(a, m):
    """Sort ``a[:m]`` in decreasing order in place (:func:`_sort_asc`, then reversed)."""
    _sort_asc(a, m)
    for i in range(m // 2):
        a[i], a[m - 1 - i] = a[m - 1 - i], a[i]


@numba.njit(**NUMBA_OPTS)
def _sort_pairs(keys, vals, m):
    """Sort ``keys[:m]`` ascending in place, carrying ``vals`` along (``keys`` distinct)."""
    if m > 48:
        heapsort_pairs(keys, vals, np.int64(m))
        return
    for i in range(1, m):
        k = keys[i]
        v = vals[i]
        j = i - 1
        while j >= 0 and keys[j] > k:
            keys[j + 1] = keys[j]
            vals[j + 1] = vals[j]
            j -= 1
        keys[j + 1] = k
        vals[j + 1] = v


@numba.njit(**NUMBA_OPTS)
def _recursive_l(cnt, m, c32):
    """sdcMicro's recursive (c, l) rule on counts ``cnt[:m]`` sorted in decreasing order.

    Single precision as in sdcMicro's C++ (``float Sum``): the result is the largest
    ``l >= 2`` with ``r1 < c * (r_l + ... + r_m)``, or 1 if that fails for l = 2 or m = 1.
    """
    if m <= 1:
        return m
    total = np.float32(0.0)
    for j in range(1, m):
        total += np.float32(cnt[j])
    total = np.float32(total * c32)
    r1 = np.float32(cnt[0])
    j = 1
    while j < m and total > r1:
        total = np.float32(total - np.float32(c32 * np.float32(cnt[j])))
        j += 1
    return j


@numba.njit(**NUMBA_OPTS)
def _class_rules(cnt, m, h, n_na, n_mc, fsize, c32):
    """(distinct, entropy, recursive) of one class from its ``m`` value counts in ``cnt`` and
    the entropy sum ``h`` over them, adding the class's ``n_na`` missing values (each a new
    value of count 1) and ``n_mc`` records of the missing code (one more value for distinct
    and entropy when the class holds another value; never for recursive diversity)."""
    if n_na > 0:
        r = 1.0 / fsize
        h += n_na * (r * np.log(r))
        for _ in range(n_na):
            cnt[m] = 1
            m += 1
    d = m
    if n_mc > 0 and m > 0:
        d += 1
        r = n_mc / fsize
        h += r * np.log(r)
    if m > 1:
        _sort_desc(cnt, np.int64(m))  # np.int64: no second version for a literal 0
        rec = _recursive_l(cnt, np.int64(m), c32)
    else:
        rec = m
    return d, np.exp(-h), rec


@numba.njit(**NUMBA_OPTS)
def _largest_class(starts, lo, hi):
    """Size of the largest of the classes ``lo .. hi-1`` (class j is ``starts[j]:starts[j+1]``)."""
    maxsize = 0
    for j in range(lo, hi):
        sz = starts[j + 1] - starts[j]
        if sz > maxsize:
            maxsize = sz
    return maxsize


def ldiversity_stats(order, starts, s, card, mcode, c, n_chunks):
    """Distinct, entropy and recursive l-diversity of code array ``s`` in every class.

    Parameters
    ----------
    order, starts : from :func:`class_order`
    s : int32 (n,)  sensitive codes; ``-1`` = missing, a new category each time
    card : int  number of observed codes
    mcode : int  code of sdcMicro's ``missing`` value (for example -999), or -2 if none.
        It is one extra category for distinct and entropy only when the class holds at
        least one other value, and it never counts for recursive diversity.
    c : float  the recursive constant (used in float32, as sdcMicro)
    n_chunks : int  number of parallel chunks of classes

    Returns
    -------
    distinct int64 (g,), entropy float64 (g,) = exp(Shannon entropy), recursive int64 (g,)
    """
    g = starts.shape[0] - 1
    distinct = np.zeros(g, dtype=np.int64)
    entropy = np.ones(g, dtype=np.float64)
    recursive = np.zeros(g, dtype=np.int64)
    c32 = np.float32(c)
    n_chunks = max(int(n_chunks), 1)
    per = (g + n_chunks - 1) // n_chunks
    card, mcode = np.int64(card), np.int64(mcode)

    def chunk(ch):
        lo, hi = ch * per, min(g, ch * per + per)
        if lo < hi:
            _ldiversity_chunk(order, starts, s, card, mcode, c32, np.int64(lo), np.int64(hi),
                              distinct, entropy, recursive)

    run_chunks(chunk, n_chunks)
    return distinct, entropy, recursive


def dense_cells_ok(g: int, card: int, n: int) -> bool:
    """Whether :func:`ldiversity_dense` may take ``g * card`` cells (8 bytes each): at most
    ``max(n, 2**16)``, so its table stays within the memory of a sort of the rows."""
    return g * max(card, 1) <= max(n, 1 << 16)


#: from this many rows on :func:`ldiversity_dense` counts on threads (one table per thread)
DENSE_PAR_ROWS = 1 << 17


def ldiversity_dense(gid, sizes, s, card, mcode, c, lo=0):
    """:func:`ldiversity_stats` without sorting the rows by class: one pass over the rows
    counts every (class, value) cell of a ``g x card`` table, then each class's row of the
    table is read in increasing value order (the order in which :func:`ldiversity_stats`
    sums its values, so the entropy sums are the same operations in the same order).

    ``gid`` integer (n,) class ids ``0 .. g-1`` (``g = len(sizes)``), ``sizes`` the class
    sizes; ``s``, ``card``, ``mcode``, ``c`` as in :func:`ldiversity_stats`, the code of row
    i being ``s[i] - lo`` (``lo`` > 0 when ``s`` holds raw integers rather than codes). For
    a table of at most :func:`dense_cells_ok` cells.

    From ``DENSE_PAR_ROWS`` rows on, the rows are counted in slices on threads, one table per
    thread (summed: integer counts, so the same table whatever the threads) when the extra
    tables take no more than the ids themselves (4 bytes a row), and the classes' statistics
    are taken in chunks of classes on threads.
    """
    g = int(sizes.shape[0])
    width = max(int(card), 1)
    n = int(gid.shape[0])
    c32 = np.float32(c)
    distinct = np.zeros(g, dtype=np.int64)
    entropy = np.ones(g, dtype=np.float64)
    recursive = np.zeros(g, dtype=np.int64)
    workers = max(1, int(numba.get_num_threads()))
    if n < DENSE_PAR_ROWS or workers == 1 or g * width * (workers - 1) > n:
        cells, n_na, n_mc = _dense_tables(g, width)
        _dense_count(gid, s, np.int64(lo), np.int64(mcode), np.int64(width), np.int64(0), np.int64(n),
                     cells, n_na, n_mc)
        _dense_stats(cells, sizes, n_na, n_mc, np.int64(card), np.int64(width), c32, np.int64(0), np.int64(g),
                     distinct, entropy, recursive)
        return distinct, entropy, recursive
    k = 2 * workers
    bounds = [(n * i // k, n * (i + 1) // k) for i in range(k)]
    tables = PerThread(lambda: _dense_tables(g, width))

    def count(ch):
        cells, n_na, n_mc = tables.get()
        _dense_count(gid, s, np.int64(lo), np.int64(mcode), np.int64(width), np.int64(bounds[ch][0]),
                     np.int64(bounds[ch][1]), cells, n_na, n_mc)

    run_chunks(count, k)
    (cells, n_na, n_mc), *rest = tables.values()
    for other in rest:
        cells += other[0]
        n_na += other[1]
        n_mc += other[2]
    del rest, tables
    n_chunks = n_chunks_for(g)
    cb = [(g * i // n_chunks, g * (i + 1) // n_chunks) for i in range(n_chunks)]
    run_chunks(lambda ch: _dense_stats(cells, sizes, n_na, n_mc, np.int64(card), np.int64(width), c32,
                                       np.int64(cb[ch][0]), np.int64(cb[ch][1]), distinct, entropy, recursive),
               n_chunks)
    return distinct, entropy, recursive


def _dense_tables(g: int, width: int):
    return np.zeros(g * width, dtype=np.int32), np.zeros(g, dtype=np.int64), np.zeros(g, dtype=np.int64)


@numba.njit(**NUMBA_OPTS)
def _dense_count(gid, s, lo, mcode, width, a, b, cells, n_na, n_mc):
    """Rows ``a .. b-1`` of :func:`ldiversity_dense` counted into its (class, value) table."""
    for i in range(a, b):
        j = np.int64(gid[i])
        v = np.int64(s[i]) - lo
        if v == mcode:
            n_mc[j] += 1
        elif v < 0:
            n_na[j] += 1
        else:
            cells[j * width + v] += 1


@numba.njit(**NUMBA_OPTS)
def _dense_stats(cells, sizes, n_na, n_mc, card, width, c32, j0, j1, distinct, entropy, recursive):
    """Classes ``j0 .. j1-1`` of :func:`ldiversity_dense` from the counted table."""
    maxsize = 0
    for j in range(j0, j1):
        maxsize = max(maxsize, sizes[j])
    cnt = np.empty(max(maxsize, 1), dtype=np.int64)
    for j in range(j0, j1):
        fsize = np.float64(sizes[j])
        h = 0.0
        m = 0
        row = j * width
        for v in range(card):
            k = cells[row + v]
            if k > 0:
                r = k / fsize
                h += r * np.log(r)
                cnt[m] = k
                m += 1
        distinct[j], entropy[j], recursive[j] = _class_rules(cnt, np.int64(m), h, n_na[j], n_mc[j], fsize, c32)


@numba.njit(**NUMBA_OPTS)
def _ldiversity_chunk(order, starts, s, card, mcode, c32, lo, hi, distinct, entropy, recursive):
    """Classes ``lo .. hi-1`` of :func:`ldiversity_stats`, written into its outputs."""
    counts = np.zeros(max(card, 1), dtype=np.int64)
    maxsize = _largest_class(starts, lo, hi)
    touched = np.empty(maxsize, dtype=np.int64)
    cnt = np.empty(maxsize, dtype=np.int64)
    for j in range(lo, hi):
        a = starts[j]
        b = starts[j + 1]
        size = b - a
        nt = 0
        n_na = 0
        n_mc = 0
        for p in range(a, b):
            v = s[order[p]]
            if v == mcode:
                n_mc += 1
            elif v < 0:
                n_na += 1
            else:
                if counts[v] == 0:
                    touched[nt] = v
                    nt += 1
                counts[v] += 1
        fsize = np.float64(size)
        h = 0.0
        m = 0
        _sort_asc(touched, np.int64(nt))  # values in increasing order, as ldiversity_dense sums them
        for t in range(nt):
            k = counts[touched[t]]
            r = k / fsize
            h += r * np.log(r)
            cnt[m] = k
            m += 1
            counts[touched[t]] = 0
        distinct[j], entropy[j], recursive[j] = _class_rules(cnt, np.int64(m), h, n_na, n_mc, fsize, c32)


@numba.njit(**NUMBA_OPTS)
def ldiversity_counts(starts, values, counts, mcode, c32, width):
    """:func:`ldiversity_stats` from each class's value counts instead of its records.

    ``starts`` (g + 1) delimit each class's (value, count) pairs in ``values`` (codes, -1
    missing) and ``counts``; ``width`` bounds a class's number of counted values (its
    size will do). The rules of :func:`ldiversity_stats`: a missing value (-1)
    is a new value of count 1 each time; ``mcode`` is one extra value for distinct and
    entropy when the class holds another value and never counts for recursive diversity.
    """
    g = starts.shape[0] - 1
    distinct = np.zeros(g, dtype=np.int64)
    entropy = np.ones(g, dtype=np.float64)
    recursive = np.zeros(g, dtype=np.int64)
    cnt = np.empty(max(width, 1), dtype=np.int64)
    for j in range(g):
        size = 0
        for p in range(starts[j], starts[j + 1]):
            size += counts[p]
        fsize = np.float64(size)
        h = 0.0
        m = 0
        n_na = 0
        n_mc = 0
        for p in range(starts[j], starts[j + 1]):
            v = values[p]
            if v == mcode:
                n_mc += counts[p]
            elif v < 0:
                n_na += counts[p]
            else:
                r = counts[p] / fsize
                h += r * np.log(r)
                cnt[m] = counts[p]
                m += 1
        distinct[j], entropy[j], recursive[j] = _class_rules(cnt, np.int64(m), h, n_na, n_mc, fsize, c32)
    return distinct, entropy, recursive


@numba.njit(**NUMBA_OPTS)
def _ordered_distance(p_by_rank, q_by_rank, card):
    """The ordered (EMD) distance of a class's value shares ``p_by_rank`` from the file's
    ``q_by_rank``, both indexed by rank: the mean absolute cumulative difference."""
    cum = 0.0
    dist = 0.0
    for i in range(card):
        cum += p_by_rank[i] - q_by_rank[i]
        dist += abs(cum)
    return dist / (card - 1.0) if card > 1 else 0.0


@numba.njit(**NUMBA_OPTS)
def _abs_dev_sum(c, a, b, qc, pref):
    """sum_{i=a}^{b-1} |c - qc[i]| for non-decreasing ``qc`` with prefix sums ``pref``."""
    if b <= a:
        return 0.0
    lo = a
    hi = b
    while lo < hi:  # first i in [a, b) with qc[i] >= c
        mid = (lo + hi) // 2
        if qc[mid] < c:
            lo = mid + 1
        else:
            hi = mid
    k = lo
    return (c * (k - a) - (pref[k] - pref[a])) + ((pref[b] - pref[k]) - c * (b - k))


def tcloseness_distances(order, starts, s, card, q, rank, ordered, n_chunks, direct_limit=256):
    """Earth mover's distance between each class's distribution of ``s`` and ``q``.

    Parameters
    ----------
    order, starts : from :func:`class_order`
    s : int32 (n,)  sensitive codes ``0 .. card-1`` (no missing values)
    q : float64 (card,)  the overall distribution of ``s``
    rank : int64 (card,)  position of each code in the value order (ordered distance)
    ordered : bool  False: equal ground distance ``D = 1/2 sum_i |p_i - q_i|``;
        True: ordered distance ``D = 1/(m-1) sum_i |sum_{j<=i} (p_j - q_j)|`` (ARX)
    n_chunks : int
    direct_limit : int
        Ordered distance: up to this many values the m cumulative differences are summed
        one by one (O(m) per class); above it, between two values present in the class
        the class's cumulative share is constant and the overall one non-decreasing, so
        each stretch is summed in O(log m) from prefix sums (O(t log m) per class with t
        values present), which keeps attributes with thousands of values fast.

    Returns
    -------
    float64 (g,)
    """
    g = starts.shape[0] - 1
    out = np.zeros(g, dtype=np.float64)
    n_chunks = max(int(n_chunks), 1)
    per = (g + n_chunks - 1) // n_chunks
    card, ordered, direct_limit = np.int64(card), bool(ordered), np.int64(direct_limit)
    q_by_rank, q_sum, qc, pref = _tcloseness_prep(q, rank, card)

    def chunk(ch):
        lo, hi = ch * per, min(g, ch * per + per)
        if lo < hi:
            _tcloseness_chunk(order, starts, s, card, q, rank, ordered, direct_limit, q_by_rank, q_sum, qc, pref,
                              np.int64(lo), np.int64(hi), out)

    run_chunks(chunk, n_chunks)
    return out


@numba.njit(**NUMBA_OPTS)
def _tcloseness_prep(q, rank, card):
    """``q`` by rank, its sum, its cumulative shares ``qc`` and their prefix sums ``pref``."""
    # q in value order, for the ordered distance
    q_by_rank = np.zeros(card, dtype=np.float64)
    q_sum = 0.0
    for v in range(card):
        q_by_rank[rank[v]] = q[v]
        q_sum += q[v]
    qc = np.empty(card, dtype=np.float64)  # overall cumulative share by rank
    pref = np.zeros(card + 1, dtype=np.float64)  # pref[i] = qc[0] + ... + qc[i-1]
    acc = 0.0
    for i in range(card):
        acc += q_by_rank[i]
        qc[i] = acc
        pref[i + 1] = pref[i] + acc
    return q_by_rank, q_sum, qc, pref


@numba.njit(**NUMBA_OPTS)
def _tcloseness_chunk(order, starts, s, card, q, rank, ordered, direct_limit, q_by_rank, q_sum, qc, pref,
                      lo, hi, out):
    """Classes ``lo .. hi-1`` of :func:`tcloseness_distances`, written into ``out``."""
    counts = np.zeros(max(card, 1), dtype=np.int64)
    maxsize = _largest_class(starts, lo, hi)
    touched = np.empty(maxsize, dtype=np.int64)
    p_by_rank = np.zeros(max(card, 1), dtype=np.float64)
    tr = np.empty(maxsize, dtype=np.int64)
    tp = np.empty(maxsize, dtype=np.float64)
    for j in range(lo, hi):
        a = starts[j]
        b = starts[j + 1]
        fsize = np.float64(b - a)
        nt = 0
        for pos in range(a, b):
            v = s[order[pos]]
            if counts[v] == 0:
                touched[nt] = v
                nt += 1
            counts[v] += 1
        if not ordered:
            # sum over all values = sum over the class's values + q of the others
            dist = 0.0
            q_in = 0.0
            for t in range(nt):
                v = touched[t]
                dist += abs(counts[v] / fsize - q[v])
                q_in += q[v]
            dist += max(0.0, q_sum - q_in)
            out[j] = dist / 2.0
        elif card <= direct_limit:
            for t in range(nt):
                v = touched[t]
                p_by_rank[rank[v]] = counts[v] / fsize
            out[j] = _ordered_distance(p_by_rank, q_by_rank, card)
            for t in range(nt):
                p_by_rank[rank[touched[t]]] = 0.0
        else:
            for t in range(nt):
                tr[t] = rank[touched[t]]
                tp[t] = counts[touched[t]] / fsize
            _sort_pairs(tr, tp, np.int64(nt))
            cum_p = 0.0
            pos = 0
            dist = 0.0
            for t in range(nt):
                dist += _abs_dev_sum(cum_p, np.int64(pos), tr[t], qc, pref)
                cum_p += tp[t]
                pos = tr[t]
            dist += _abs_dev_sum(cum_p, np.int64(pos), card, qc, pref)
            out[j] = dist / (card - 1.0) if card > 1 else 0.0
        for t in range(nt):
            counts[touched[t]] = 0


@numba.njit(**NUMBA_OPTS)
def tcloseness_counts(starts, values, counts, q, rank, ordered):
    """:func:`tcloseness_distances` from each class's value counts instead of its records.

    ``starts`` (g + 1) delimit each class's (value, count) pairs in ``values`` (codes
    ``0 .. card-1``) and ``counts``; the ordered distance is summed value by value (O(card)
    per class)."""
    g = starts.shape[0] - 1
    card = q.shape[0]
    out = np.zeros(g, dtype=np.float64)
    q_sum = 0.0
    q_by_rank = np.zeros(max(card, 1), dtype=np.float64)
    for v in range(card):
        q_sum += q[v]
        q_by_rank[rank[v]] = q[v]
    p_by_rank = np.zeros(max(card, 1), dtype=np.float64)
    for j in range(g):
        a, b = starts[j], starts[j + 1]
        size = 0
        for p in range(a, b):
            size += counts[p]
        fsize = np.float64(size)
        if not ordered:
            dist = 0.0
            q_in = 0.0
            for p in range(a, b):
                dist += abs(counts[p] / fsize - q[values[p]])
                q_in += q[values[p]]
            dist += max(0.0, q_sum - q_in)
            out[j] = dist / 2.0
        else:
            for p in range(a, b):
                p_by_rank[rank[values[p]]] = counts[p] / fsize
            out[j] = _ordered_distance(p_by_rank, q_by_rank, card)
            for p in range(a, b):
                p_by_rank[rank[values[p]]] = 0.0
    return out
