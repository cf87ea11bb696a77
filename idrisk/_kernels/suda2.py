"""SUDA2 search for minimal sample uniques (MSUs), numba only: int arrays in, arrays out.

The search is the recursive SUDA2 algorithm of Manning, Haglin & Keane (2008), run with an
explicit stack (no Python objects in the recursion):

* The table is first reduced to its *distinct* rows, each with a weight ``w`` in {1, 2}
  (a row occurring three or more times is kept as two copies: extra copies cannot change
  any "support == 1" test; sdcMicro and ARX do the same).
* An *item* is a (column, value) pair with a non-missing value. Items of the whole table
  are ranked by ascending support (ties by column, then value); this global rank is the
  fixed item order of every sub-table.
* A node is a sub-table ``T_P`` = the distinct rows containing the itemset ``P`` (the
  path), with an ordered list ``allowed`` of items ranked after the last item of ``P``.
  Its items of support 1 close a *candidate* ``P + {y}`` (unique in the table, owned by
  the single row containing it). Items of support ``|T_P|`` and of support 1 are dropped
  (they can never extend to an MSU) and the rest, ``L``, are the children, each child
  ``x`` getting the items of ``L`` ranked after ``x``.
* Pruning, as in the paper: a child only searches for MSUs of size at most
  ``limit = min(maxK - 1, columns left after x, distinct rows of T_x - 1)`` (size cap,
  items left - counted in distinct columns, which is tighter - and "an MSU of size s
  needs s + 1 rows"). One more, equally safe rule: a child whose rows all occur at
  least twice (weight 2) is skipped, because only rows unique on the full key can own
  an MSU.
* A node whose children may only hold MSUs of one more item (limit 1, e.g. under a size
  cap) finds them without building the children: one pass over its rows counts every
  pair (child item, later item), and a pair of support 1 is a candidate
  (:func:`_leaf_pairs`).

The "special row" test of the paper (a candidate ``C`` of ``T_i`` is an MSU of ``T``
only if some row of ``T`` contains ``C`` but not ``i``) is replaced by an equivalent
per-record filter run after the search (:func:`finalize`): the candidates are unique
itemsets and include every MSU, so an itemset is an MSU iff no other candidate of the
same record is a proper subset of it. (If ``S`` is unique but not minimal, its minimal
unique subset is an MSU, hence a candidate.) This removes the dependency between
top-level sub-trees, so :func:`search_subtree` calls for different top-level items are
independent and run in parallel threads (every kernel here releases the GIL).

An itemset is stored as a bit mask of columns (bit ``c`` = column ``c``): inside one
record an itemset is determined by its columns. At most 63 columns.

Definitions: ``docs/methods.md#suda``.
"""

from __future__ import annotations

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .diversity import class_order, heapsort_pairs
from .threads import n_workers, run_chunks

MAX_COLUMNS = 63
#: Nodes with at most this many child items count pairs for their limit-1 children.
PAIR_MAX = 1024
#: Nodes of at most this many merged rows (at most 64: a row set is one word), and at most
#: SMALL_COLS allowed columns, find their candidates directly (:func:`_small_node`) instead
#: of building children (the default of ``search_subtree``'s ``small_rows``).
SMALL_ROWS = 64
SMALL_COLS = 12


@numba.njit(**NUMBA_OPTS)
def popcount(x):
    c = 0
    while x:
        x &= x - 1
        c += 1
    return c


@numba.njit(**NUMBA_OPTS)
def distinct_rows(gid, n_groups):
    """First row of each class and its weight ``min(size, 2)``."""
    rep = np.full(n_groups, -1, dtype=np.int64)
    size = np.zeros(n_groups, dtype=np.int64)
    for i in range(gid.shape[0]):
        g = gid[i]
        if rep[g] < 0:
            rep[g] = i
        size[g] += 1
    w = np.minimum(size, 2).astype(np.int32)
    return rep, w


@numba.njit(**NUMBA_OPTS)
def prepare(X, rows, w, n_levels, max_k):
    """Top level of the search.

    Parameters
    ----------
    X : int32 (g, m), distinct rows, -1 = missing (never an item)
    rows : int64 (g,), the order of the rows: row ``r`` of the table is ``X[rows[r]]`` (no
        reordered copy of ``X`` is made)
    w : int32 (g,), weights in {1, 2}, of the table's rows (in that order)
    n_levels : int64 (m,), number of non-missing codes per column
    max_k : int, largest MSU size searched

    Returns
    -------
    rank_of : int32 (g, m), rank of each cell's item in the top-level list L, -1 if the
        item is not in L (missing, support 1, or in every row)
    rank_col : int64 (n_L,), column of each ranked item
    one_rows, one_masks : 1-MSUs of the whole table (row, column mask)
    top_off : int64 (n_L + 1,), CSR offsets of the rows of each top-level child
    top_rows : int32, rows containing each ranked item (distinct rows)
    top_limit : int64 (n_L,), size cap of each top-level child (0 = nothing to search)
    """
    g, m = X.shape
    offset = np.zeros(m + 1, dtype=np.int64)
    for c in range(m):
        offset[c + 1] = offset[c] + n_levels[c]
    n_items = offset[m]
    cnt = np.zeros(n_items, dtype=np.int64)
    cntd = np.zeros(n_items, dtype=np.int64)
    last = np.full(n_items, -1, dtype=np.int64)
    total = 0
    for r in range(g):
        total += w[r]
        xr = rows[r]
        for c in range(m):
            v = X[xr, c]
            if v >= 0:
                it = offset[c] + v
                cnt[it] += w[r]
                cntd[it] += 1
                last[it] = r
    item_col = np.empty(n_items, dtype=np.int64)
    for c in range(m):
        for v in range(n_levels[c]):
            item_col[offset[c] + v] = c
    # 1-MSUs of the table
    n_one = 0
    for it in range(n_items):
        if cnt[it] == 1:
            n_one += 1
    one_rows = np.empty(n_one, dtype=np.int32)
    one_masks = np.empty(n_one, dtype=np.int64)
    k = 0
    for it in range(n_items):
        if cnt[it] == 1:
            one_rows[k] = last[it]
            one_masks[k] = np.int64(1) << item_col[it]
            k += 1
    # L: support in [2, total), ranked by (support, item id)
    n_l = 0
    for it in range(n_items):
        if cnt[it] >= 2 and cnt[it] < total:
            n_l += 1
    keys = np.empty(n_l, dtype=np.int64)
    ids = np.empty(n_l, dtype=np.int64)
    k = 0
    for it in range(n_items):
        if cnt[it] >= 2 and cnt[it] < total:
            keys[k] = cnt[it] * (n_items + 1) + it
            ids[k] = it
            k += 1
    order = np.arange(n_l, dtype=np.int64)  # keys are distinct: any sort gives this order
    heapsort_pairs(keys, order, np.int64(n_l))
    rank_item = np.full(n_items, -1, dtype=np.int64)
    rank_col = np.empty(n_l, dtype=np.int64)
    for j in range(n_l):
        it = ids[order[j]]
        rank_item[it] = j
        rank_col[j] = item_col[it]
    rank_of = np.full((g, m), -1, dtype=np.int32)
    for r in range(g):
        xr = rows[r]
        for c in range(m):
            v = X[xr, c]
            if v >= 0:
                rank_of[r, c] = rank_item[offset[c] + v]
    # CSR of the rows of each ranked item
    top_off = np.zeros(n_l + 1, dtype=np.int64)
    ones = np.zeros(n_l, dtype=np.int64)  # weight-1 rows per item
    for j in range(n_l):
        it = ids[order[j]]
        top_off[j + 1] = top_off[j] + cntd[it]
        ones[j] = 2 * cntd[it] - cnt[it]
    top_rows = np.empty(top_off[n_l], dtype=np.int32)
    pos = top_off[:n_l].copy()
    for r in range(g):
        for c in range(m):
            j = rank_of[r, c]
            if j >= 0:
                top_rows[pos[j]] = r
                pos[j] += 1
    # size caps of the top-level children
    top_limit = np.zeros(n_l, dtype=np.int64)
    seen = np.int64(0)
    for j in range(n_l - 1, -1, -1):
        left = popcount(seen)
        lim = min(max_k - 1, left, top_off[j + 1] - top_off[j] - 1)
        if ones[j] == 0:
            lim = 0
        top_limit[j] = max(lim, 0)
        seen |= np.int64(1) << rank_col[j]
    return rank_of, rank_col, one_rows, one_masks, top_off, top_rows, top_limit


@numba.njit(**NUMBA_OPTS)
def _grow(a, need):
    """``a`` itself if it holds ``need`` items, else a copy at least twice as long (any dtype)."""
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0]), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@numba.njit(**NUMBA_OPTS)
def _leaf_pairs(par_rows, par_w, rank_of, rank_col, acols, na, lbuf, lim, l_top, nl, mask, ppos, tmp,
                c2, l2, touched, out_rows, out_masks, n_out):
    """Candidates of the limit-1 children of a node, by counting item pairs.

    A child ``x`` with limit 1 only looks for items ``y`` (of L, ranked after ``x``) of
    support 1 in ``T_x``, i.e. pairs ``(x, y)`` of support 1 in the node: one pass over
    the node's rows counts them all, instead of building each child's sub-table. The
    children are then marked done (limit 0). ``par_w`` holds the weight of each row of
    ``par_rows``. ``out_*`` must have room for ``nl * nl`` more candidates. Returns the new
    candidate count.
    """
    for j in range(nl):
        ppos[lbuf[l_top + j]] = j
    nt = 0
    for q in range(par_rows.shape[0]):
        r = par_rows[q]
        k = 0
        for t in range(na):
            y = rank_of[r, acols[t]]
            if y >= 0:
                p = ppos[y]
                if p >= 0:
                    u = k
                    while u > 0 and tmp[u - 1] > p:
                        tmp[u] = tmp[u - 1]
                        u -= 1
                    tmp[u] = p
                    k += 1
        for a in range(k - 1):
            pa = tmp[a]
            if lim[l_top + pa] == 1:
                base = pa * nl
                for b in range(a + 1, k):
                    ix = base + tmp[b]
                    if c2[ix] == 0:
                        touched[nt] = ix
                        nt += 1
                    c2[ix] += par_w[q]
                    l2[ix] = r
    for u in range(nt):
        ix = touched[u]
        if c2[ix] == 1:
            pa = ix // nl
            pb = ix - pa * nl
            out_rows[n_out] = l2[ix]
            out_masks[n_out] = (mask | (np.int64(1) << rank_col[lbuf[l_top + pa]])
                                | (np.int64(1) << rank_col[lbuf[l_top + pb]]))
            n_out += 1
        c2[ix] = 0
    for j in range(nl):
        ppos[lbuf[l_top + j]] = -1
        if lim[l_top + j] == 1:
            lim[l_top + j] = 0  # done
    return n_out


@numba.njit(**NUMBA_OPTS)
def _merge_count(loc, rbuf, wbuf, lo, hi, acols, na, stamp, st, cnt, cntd, aux, pv, prev):
    """Merge the node's rows ``rbuf[lo:hi]`` that agree on its allowed items and count its items.

    A row's projection is its items ``y`` in the allowed columns ``acols[:na]`` with
    ``stamp[y] == st``. The rows are in the order of :func:`row_order`, in which rows with
    the same projection follow each other (but for the few rows holding an item dropped
    higher up, which may then go unmerged: the search is exact whether or not duplicates
    are merged). A row equal to the previous kept row is merged into it, of weight
    ``min(sum, 2)`` (see :func:`project_rows`); kept rows are compacted in place at the
    start of the segment with their weights in ``wbuf``. ``cnt`` (weighted support),
    ``cntd`` (kept rows) and ``aux`` (last row) are filled for the allowed items; ``pv``
    and ``prev`` are scratch of ``na`` items. Returns ``(end, total weight, rows of weight 1)``.
    """
    h = lo
    tot = 0
    ones = 0
    for q in range(lo, hi):
        r = rbuf[q]
        wr = wbuf[q]
        same = h > lo
        for t in range(na):
            y = loc[r, acols[t]]
            if y < 0 or stamp[y] != st:
                y = -1
            pv[t] = y
            if y != prev[t]:
                same = False
        if same:
            if wbuf[h - 1] == 1:  # the kept row now weighs 2
                wbuf[h - 1] = 2
                tot += 1
                ones -= 1
                for t in range(na):
                    y = pv[t]
                    if y >= 0:
                        cnt[y] += 1
            continue
        rbuf[h] = r
        wbuf[h] = wr
        h += 1
        tot += wr
        if wr == 1:
            ones += 1
        for t in range(na):
            y = pv[t]
            prev[t] = y
            if y >= 0:
                cnt[y] += wr
                cntd[y] += 1
                aux[y] = r
    return h, tot, ones


@numba.njit(**NUMBA_OPTS)
def _small_node(loc, rbuf, wbuf, lo, hi, acols, na, stamp, st, mask, max_k, ib, icol, ybits, mgen, gen,
                cur_s, cur_a, nxt_s, nxt_a, out_rows, out_masks, n_out):
    """Every candidate of a node with at most 64 rows, without its sub-tree.

    The itemsets ``Y`` of allowed items (``acols``/``stamp`` as in :func:`_merge_count`)
    with ``|Y| <= max_k`` that are *minimal* unique in the node's rows ``rbuf[lo:hi]``
    (merged, weights in ``wbuf``): each is owned by a row of weight 1, and an MSU of the
    table that extends the node's path is one of them (a unique proper subset of ``Y`` in
    the node would give the table a unique proper subset of the MSU). ``ib[y]`` is the
    set of the node's rows holding item ``y`` (bit ``p`` = row ``lo + p``; zero on entry
    and left zero). For an owner with items ``I`` the sets of rows holding ``Y`` are
    ANDs of ``ib``; level by level (Apriori), the shared sets of ``s`` items are
    extended by a later item, a set held by the owner alone is unique, and it is
    minimal when every subset one item smaller is shared (marked ``mgen == gen``; a
    subset never reached has a unique subset, so it is unique itself).
    Returns ``(out_rows, out_masks, n_out, gen)``.
    """
    h = hi - lo
    for p in range(h):
        r = rbuf[lo + p]
        bit = np.uint64(1) << np.uint64(p)
        for t in range(na):
            y = loc[r, acols[t]]
            if y >= 0 and stamp[y] == st:
                ib[y] |= bit
    for q in range(h):
        if wbuf[lo + q] != 1:
            continue
        r = rbuf[lo + q]
        me = np.uint64(1) << np.uint64(q)
        k = 0
        every = ~np.uint64(0)
        for t in range(na):
            c = acols[t]
            y = loc[r, c]
            if y >= 0 and stamp[y] == st:
                icol[k] = c
                ybits[k] = ib[y]
                every &= ib[y]
                k += 1
        if k == 0 or every != me:
            continue  # another row holds every item of this one: nothing of it is unique
        gen += 1
        mgen[0] = gen
        n_cur = 1
        cur_s[0] = 0
        cur_a[0] = ~np.uint64(0)
        size = 0
        while n_cur > 0 and size < max_k:
            size += 1
            n_nxt = 0
            for u in range(n_cur):
                ys = cur_s[u]
                ya = cur_a[u]
                j0 = 0  # after the highest item of ys
                while (ys >> j0) != 0:
                    j0 += 1
                for j in range(j0, k):
                    ys2 = ys | (np.int64(1) << j)
                    ya2 = ya & ybits[j]
                    if ya2 != me:  # shared: extended at the next level
                        if size < max_k:
                            mgen[ys2] = gen
                            nxt_s[n_nxt] = ys2
                            nxt_a[n_nxt] = ya2
                            n_nxt += 1
                        continue
                    minimal = True
                    bb = ys
                    while bb:
                        low = bb & -bb
                        if mgen[ys2 ^ low] != gen:
                            minimal = False
                            break
                        bb ^= low
                    if minimal:
                        if n_out == out_rows.shape[0]:
                            out_rows = _grow(out_rows, n_out + 1)
                            out_masks = _grow(out_masks, n_out + 1)
                        cm = mask
                        for jj in range(k):
                            if (ys2 >> jj) & 1:
                                cm |= np.int64(1) << icol[jj]
                        out_rows[n_out] = r
                        out_masks[n_out] = cm
                        n_out += 1
            for u in range(n_nxt):
                cur_s[u] = nxt_s[u]
                cur_a[u] = nxt_a[u]
            n_cur = n_nxt
    for p in range(h):
        r = rbuf[lo + p]
        for t in range(na):
            y = loc[r, acols[t]]
            if y >= 0:
                ib[y] = 0
    return out_rows, out_masks, n_out, gen


@numba.njit(**NUMBA_OPTS)
def search_subtree(rank_of, w, rank_col, top_off, top_rows, top_limit, x, small_rows):
    """All candidates (unique itemsets, a superset of the MSUs) whose lowest-ranked item is ``x``.

    Runs SUDA2 on the sub-table ``T_x`` with an explicit stack. Every node first merges
    its rows that agree on its allowed items (:func:`_merge_count`): a merged row never
    owns a candidate, and a node with ``h`` merged rows only holds itemsets of at most
    ``h - 1`` items (each item of an MSU needs its own other row), so a node left with no
    row of weight 1 is closed.

    Nodes of at most ``min(small_rows, 64)`` merged rows (and at most ``SMALL_COLS``
    allowed columns) are solved by :func:`_small_node` (``SMALL_ROWS`` is the default).

    Returns ``(rows int32, masks int64, n)``: the first ``n`` entries are the candidates.
    """
    m = rank_of.shape[1]
    loc, wl, orig = project_rows(rank_of, w, top_rows[top_off[x]: top_off[x + 1]], x)
    nx0 = loc.shape[0]
    n_l = rank_col.shape[0]
    ones = 0
    for q in range(nx0):
        if wl[q] == 1:
            ones += 1
    if ones == 0 or nx0 < 2:  # no row of T_x can own an itemset unique in T_x
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64), 0
    # per-item scratch, reused by every node (a node is finished before its child starts)
    cnt = np.zeros(n_l, dtype=np.int32)
    cntd = np.zeros(n_l, dtype=np.int32)
    aux = np.zeros(n_l, dtype=np.int64)   # last row, then fill cursor
    stamp = np.zeros(n_l, dtype=np.int64)
    lpos = np.full(n_l, -1, dtype=np.int32)
    acols = np.empty(m, dtype=np.int64)
    ppos = np.full(n_l, -1, dtype=np.int32)
    tmp = np.empty(m, dtype=np.int64)
    c2 = np.zeros(64, dtype=np.int32)
    l2 = np.empty(64, dtype=np.int32)
    touched = np.empty(64, dtype=np.int64)
    pv = np.empty(m, dtype=np.int64)
    prev = np.empty(m, dtype=np.int64)
    icol = np.empty(m, dtype=np.int64)
    ybits = np.empty(m, dtype=np.uint64)
    ib = np.zeros(n_l, dtype=np.uint64)
    mgen = np.zeros(np.int64(1) << SMALL_COLS, dtype=np.int64)
    cur_s = np.empty(np.int64(1) << SMALL_COLS, dtype=np.int64)
    cur_a = np.empty(np.int64(1) << SMALL_COLS, dtype=np.uint64)
    nxt_s = np.empty(np.int64(1) << SMALL_COLS, dtype=np.int64)
    nxt_a = np.empty(np.int64(1) << SMALL_COLS, dtype=np.uint64)
    gen = np.int64(0)
    small_rows = min(small_rows, 64)  # a node's rows as the bits of one word
    st = 0
    max_depth = m + 2
    # stack of nodes
    l_start = np.zeros(max_depth, dtype=np.int64)
    l_len = np.zeros(max_depth, dtype=np.int64)
    o_start = np.zeros(max_depth, dtype=np.int64)
    r_start = np.zeros(max_depth, dtype=np.int64)
    cur = np.zeros(max_depth, dtype=np.int64)
    nmask = np.zeros(max_depth, dtype=np.int64)
    lbuf = np.empty(max(4 * n_l, 16), dtype=np.int32)
    lim = np.zeros(max(4 * n_l, 16), dtype=np.int32)
    obuf = np.empty(max(4 * n_l + 8, 16), dtype=np.int64)
    # rows of the nodes on the stack (segments, each with its rows' weights in wbuf)
    rbuf = np.empty(max(2 * m * nx0, 64), dtype=np.int32)
    wbuf = np.empty(rbuf.shape[0], dtype=np.int32)
    for q in range(nx0):
        rbuf[q] = q
        wbuf[q] = wl[q]
    l_top = 0
    o_top = 0
    r_top = nx0
    out_rows = np.empty(1024, dtype=np.int32)
    out_masks = np.empty(1024, dtype=np.int64)
    n_out = 0

    # the root: rows of x, allowed = every ranked item after x; allowed items are always
    # a slice [a_lo, a_hi) of lbuf
    seg_lo = 0
    seg_hi = nx0
    for j in range(x + 1, n_l):
        lbuf[j - x - 1] = j
    a_lo = 0
    a_hi = n_l - x - 1
    l_top = a_hi
    max_k = min(top_limit[x], nx0 - 1)
    mask = np.int64(1) << rank_col[x]
    d = -1
    first = True
    while True:
        if not first:
            # pick the next child of node d (children in descending rank order)
            if d < 0:
                break
            i = cur[d]
            ls = l_start[d]
            while i >= 0 and lim[ls + i] < 1:
                i -= 1
            if i < 0:
                l_top = l_start[d]
                o_top = o_start[d]
                r_top = r_start[d]
                d -= 1
                continue
            cur[d] = i - 1
            a = lbuf[ls + i]
            os_ = o_start[d]
            seg_lo = obuf[os_ + i]
            seg_hi = obuf[os_ + i + 1]
            a_lo = ls + i + 1
            a_hi = ls + l_len[d]
            max_k = lim[ls + i]
            mask = nmask[d] | (np.int64(1) << rank_col[a])
        first = False
        # ---- expand the node (rows rbuf[seg_lo:seg_hi], allowed[a_lo:a_hi], max_k, mask) ----
        st += 1
        colset = np.int64(0)
        for j in range(a_lo, a_hi):
            it = lbuf[j]
            stamp[it] = st
            colset |= np.int64(1) << rank_col[it]
        colset &= ~mask
        na = 0
        for c in range(m):
            if (colset >> c) & 1:
                acols[na] = c
                na += 1
        seg_hi, tot, ones = _merge_count(loc, rbuf, wbuf, seg_lo, seg_hi, acols, np.int64(na), stamp, np.int64(st),
                                         cnt, cntd, aux, pv, prev)
        if ones == 0:
            max_k = 0  # no row of weight 1: no candidate here or below
        else:
            max_k = min(max_k, seg_hi - seg_lo - 1)
        n_child = 0
        if max_k >= 2 and seg_hi - seg_lo <= small_rows and na <= SMALL_COLS:
            out_rows, out_masks, n_out, gen = _small_node(loc, rbuf, wbuf, seg_lo, seg_hi, acols, np.int64(na), stamp,
                                                          np.int64(st), mask, np.int64(max_k), ib, icol, ybits, mgen,
                                                          gen, cur_s, cur_a, nxt_s, nxt_a, out_rows, out_masks,
                                                          np.int64(n_out))
            max_k = 0
        if max_k >= 1:
            # candidates: items of support 1
            for j in range(a_lo, a_hi):
                it = lbuf[j]
                if cnt[it] == 1:
                    if n_out == out_rows.shape[0]:
                        out_rows = _grow(out_rows, n_out + 1)
                        out_masks = _grow(out_masks, n_out + 1)
                    out_rows[n_out] = aux[it]
                    out_masks[n_out] = mask | (np.int64(1) << rank_col[it])
                    n_out += 1
        n_leaf = 0
        if max_k > 1:
            # children L, written at the top of lbuf
            need = l_top + (a_hi - a_lo)
            if need > lbuf.shape[0]:
                nb = np.empty(max(need, 2 * lbuf.shape[0]), dtype=np.int32)
                nb[: lbuf.shape[0]] = lbuf
                lbuf = nb
                nl2 = np.zeros(lbuf.shape[0], dtype=np.int32)
                nl2[: lim.shape[0]] = lim
                lim = nl2
            nl = 0
            for j in range(a_lo, a_hi):
                it = lbuf[j]
                if cnt[it] >= 2 and cnt[it] < tot:
                    lbuf[l_top + nl] = it
                    nl += 1
            # size caps, from the last child backwards
            seen = np.int64(0)
            for j in range(nl - 1, -1, -1):
                it = lbuf[l_top + j]
                left = popcount(seen & ~mask)
                lm = min(max_k - 1, left, cntd[it] - 1)
                if 2 * cntd[it] - cnt[it] == 0:  # no row of weight 1
                    lm = 0
                if lm < 0:
                    lm = 0
                lim[l_top + j] = lm
                if lm >= 2:
                    n_child += 1
                elif lm == 1:
                    n_leaf += 1
                seen |= np.int64(1) << rank_col[it]
            if n_leaf > 0 and nl <= PAIR_MAX and max_k == 2:
                if nl * nl > c2.shape[0]:
                    c2 = np.zeros(nl * nl, dtype=np.int32)
                    l2 = np.empty(nl * nl, dtype=np.int32)
                    touched = np.empty(nl * nl, dtype=np.int64)
                if n_out + nl * nl > out_rows.shape[0]:
                    out_rows = _grow(out_rows, n_out + nl * nl)
                    out_masks = _grow(out_masks, n_out + nl * nl)
                # np.int64(): counters that start at a literal 0 would compile a second version
                n_out = _leaf_pairs(rbuf[seg_lo:seg_hi], wbuf[seg_lo:seg_hi], loc, rank_col, acols, np.int64(na),
                                    lbuf, lim, np.int64(l_top), np.int64(nl), mask, ppos, tmp, c2, l2, touched,
                                    out_rows, out_masks, np.int64(n_out))
            else:
                n_child += n_leaf
            if n_child > 0:
                # CSR offsets of the explored children's rows
                obuf = _grow(obuf, o_top + nl + 1)
                total_rows = 0
                obuf[o_top] = r_top
                fset = np.int64(0)
                for j in range(nl):
                    it = lbuf[l_top + j]
                    if lim[l_top + j] >= 1:
                        fset |= np.int64(1) << rank_col[it]
                        lpos[it] = j
                        aux[it] = r_top + total_rows
                        total_rows += cntd[it]
                    obuf[o_top + j + 1] = r_top + total_rows
                if r_top + total_rows > rbuf.shape[0]:
                    rbuf = _grow(rbuf, r_top + total_rows)
                    wbuf = _grow(wbuf, r_top + total_rows)
                nf = 0
                for c in range(m):
                    if (fset >> c) & 1:
                        acols[nf] = c
                        nf += 1
                for q in range(seg_lo, seg_hi):
                    r = rbuf[q]
                    wq = wbuf[q]
                    for t in range(nf):
                        y = loc[r, acols[t]]
                        if y >= 0 and lpos[y] >= 0:
                            rbuf[aux[y]] = r
                            wbuf[aux[y]] = wq
                            aux[y] += 1
                for j in range(nl):
                    lpos[lbuf[l_top + j]] = -1
        # reset the counters of this node
        for j in range(a_lo, a_hi):
            it = lbuf[j]
            cnt[it] = 0
            cntd[it] = 0
        if n_child > 0:
            # push (the root becomes level 0); each level adds a column, so d < m
            nd = d + 1
            l_start[nd] = l_top
            l_len[nd] = nl
            o_start[nd] = o_top
            r_start[nd] = r_top
            cur[nd] = nl - 1
            nmask[nd] = mask
            l_top += nl
            o_top += nl + 1
            r_top = obuf[o_top - 1]
            d = nd
    for i in range(n_out):  # local rows back to rows of the table
        out_rows[i] = orig[out_rows[i]]
    return out_rows, out_masks, n_out


@numba.njit(**NUMBA_OPTS)
def row_order(rank_of):
    """An order of the rows in which rows agreeing on their items above any rank are adjacent.

    Each row's ranked items (``rank_of >= 0``) sorted from the highest rank down form its
    key; the rows are sorted by key lexicographically (a stable radix sort, last position
    first). Rows holding item ``x`` with the same items above ``x`` share the key prefix
    up to and including ``x``, so they are adjacent among the rows holding ``x``; so are
    the rows of any node of the search with the same allowed items, up to the rows holding
    an item dropped higher up for support 1 (:func:`_merge_count`).
    """
    g, m = rank_of.shape
    n_l = 0
    key = np.full((m, g), -1, dtype=np.int32)  # by position: each pass reads one position
    row = np.empty(m, dtype=np.int32)
    for r in range(g):
        k = 0
        for c in range(m):
            v = rank_of[r, c]
            if v >= 0:
                u = k
                while u > 0 and row[u - 1] < v:
                    row[u] = row[u - 1]
                    u -= 1
                row[u] = v
                k += 1
                if v + 1 > n_l:
                    n_l = v + 1
        for u in range(k):
            key[u, r] = row[u]
    order = np.arange(g, dtype=np.int64)
    nxt = np.empty(g, dtype=np.int64)
    cnt = np.zeros(n_l + 2, dtype=np.int64)
    for pos in range(m - 1, -1, -1):
        kp = key[pos]
        cnt[:] = 0
        for i in range(g):
            cnt[kp[i] + 2] += 1
        for v in range(1, n_l + 2):
            cnt[v] += cnt[v - 1]
        for i in range(g):
            r = order[i]
            v = kp[r] + 1
            nxt[cnt[v]] = r
            cnt[v] += 1
        order, nxt = nxt, order
    return order


@numba.njit(**NUMBA_OPTS)
def project_rows(rank_of, w, rows, x):
    """The sub-table ``T_x`` projected on the items ranked after ``x``, duplicates merged.

    Row ``rows[q]`` becomes its ranks above ``x`` (others -1). Rows with the same
    projection are merged into one of weight ``min(sum of weights, 2)``: an itemset of
    items after ``x`` held by one of them is held by all, so a merged row never owns a
    candidate, and every support stays the same up to the cap at 2 (all the search
    compares). Only adjacent rows are compared: in the order of :func:`row_order` every
    duplicate is adjacent. Returns ``(loc int32 (h, m), wl int32 (h,), orig int64 (h,))``:
    the kept rows, their weights, and the table row of each (meaningful where
    ``wl == 1``, a row of one record).
    """
    nr = rows.shape[0]
    m = rank_of.shape[1]
    loc = np.empty((nr, m), dtype=np.int32)
    wl = np.empty(nr, dtype=np.int32)
    orig = np.empty(nr, dtype=np.int64)
    h = 0
    for q in range(nr):
        r = rows[q]
        same = h > 0
        for c in range(m):
            v = rank_of[r, c]
            if v <= x:
                v = -1
            loc[h, c] = v
            if same and loc[h - 1, c] != v:
                same = False
        if same:
            wl[h - 1] = min(wl[h - 1] + w[r], 2)
        else:
            wl[h] = w[r]
            orig[h] = r
            h += 1
    return loc[:h].copy(), wl[:h].copy(), orig[:h].copy()


@numba.njit(**NUMBA_OPTS)
def _sort_by_size(masks):
    """Insertion sort of masks by (number of columns, mask): subsets come first."""
    k = masks.shape[0]
    pc = np.empty(k, dtype=np.int64)
    for i in range(k):
        pc[i] = popcount(masks[i])
    for i in range(1, k):
        mv = masks[i]
        pv = pc[i]
        j = i - 1
        while j >= 0 and (pc[j] > pv or (pc[j] == pv and masks[j] > mv)):
            masks[j + 1] = masks[j]
            pc[j + 1] = pc[j]
            j -= 1
        masks[j + 1] = mv
        pc[j + 1] = pv
    return pc


def finalize(cand_rows, cand_masks, n_rows, m, wt):
    """Keep each record's minimal candidates (its MSUs) and score them.

    Parameters
    ----------
    cand_rows : int32 (c,), owning distinct row of each candidate
    cand_masks : int64 (c,), column mask of each candidate
    n_rows : number of distinct rows
    m : number of columns
    wt : float64 (m + 1,), weight of an MSU of size k at ``wt[k]``

    Returns
    -------
    score : float64 (n_rows,), sum of the weights of the row's MSUs
    contrib : float64 (n_rows, m), sum of the weights of the row's MSUs containing column c
    n_msu : int64 (n_rows, m + 1), number of MSUs of each size (column 0 unused)
    """
    # candidates grouped by row (stable counting sort): row r owns grouped[off[r]:off[r+1]]
    order, off = class_order(cand_rows, np.int64(n_rows))
    grouped = cand_masks[order]
    n_rows, m = int(n_rows), int(m)
    score = np.zeros(n_rows, dtype=np.float64)
    contrib = np.zeros((n_rows, m), dtype=np.float64)
    n_msu = np.zeros((n_rows, m + 1), dtype=np.int64)
    n_chunks = 4 * n_workers(n_rows) if n_rows >= 4096 else 1
    per = (n_rows + n_chunks - 1) // n_chunks
    run_chunks(lambda ch: _finalize_rows(off, grouped, np.int64(m), wt, np.int64(ch * per),
                                         np.int64(min(n_rows, ch * per + per)), score, contrib, n_msu), n_chunks)
    return score, contrib, n_msu


@numba.njit(**NUMBA_OPTS)
def _finalize_rows(off, grouped, m, wt, lo, hi, score, contrib, n_msu):
    """Rows ``lo .. hi-1`` of :func:`finalize`, written into its outputs."""
    for r in range(lo, hi):
        s = off[r]
        e = off[r + 1]
        if e == s:
            continue
        ms = grouped[s:e].copy()
        pc = _sort_by_size(ms)
        kept = np.empty(e - s, dtype=np.int64)
        nk = 0
        for i in range(e - s):
            mk = ms[i]
            ok = True
            for q in range(nk):
                if (kept[q] & mk) == kept[q]:
                    ok = False
                    break
            if ok:
                kept[nk] = mk
                nk += 1
                size = pc[i]
                wk = wt[size]
                score[r] += wk
                n_msu[r, size] += 1
                for col in range(m):
                    if (mk >> col) & 1:
                        contrib[r, col] += wk


@numba.njit(**NUMBA_OPTS)
def first_rows(X, n_levels):
    """``first[j, v]``: the first row of ``X`` whose column ``j`` holds code ``v`` (-1 if none)."""
    g, m = X.shape
    top = 1
    for j in range(m):
        top = max(top, n_levels[j])
    first = np.full((m, top), -1, dtype=np.int64)
    for r in range(g - 1, -1, -1):
        for j in range(m):
            v = X[r, j]
            if v >= 0:
                first[j, v] = r
    return first


def record_table(n, rep, uniq_rows, d_score, d_contrib, d_nmsu, cap):
    """Per-record result blocks from the per-distinct-row results.

    Only records unique on the full key can have an MSU; ``uniq_rows`` lists their
    distinct rows and ``rep[g]`` is the one record of distinct row ``g``; every other
    record gets zeros. The records are written in chunks on threads (each chunk clears and
    fills its own records: at 1M records most of the time is the first touch of the pages).

    Returns ``fblock`` float64 (2 + m, n): score, dis_score (left 0 here), then the share
    of the score from MSUs containing each column; ``iblock`` int32 (cap, n): number of
    MSUs of size 1..cap; ``min_size`` int32 (n,): smallest MSU size, 0 if none.
    """
    n, cap = int(n), int(cap)
    m = d_contrib.shape[1]
    fblock = np.empty((2 + m, n), dtype=np.float64)
    iblock = np.empty((cap, n), dtype=np.int32)
    min_size = np.empty(n, dtype=np.int32)
    n_chunks = 2 * n_workers(n // 65536 + 1)
    per = (n + n_chunks - 1) // n_chunks
    recs = rep[uniq_rows]
    run_chunks(lambda ch: _record_rows(np.int64(ch * per), np.int64(min(n, ch * per + per)), recs, uniq_rows,
                                       d_score, d_contrib, d_nmsu, fblock, iblock, min_size), n_chunks)
    return fblock, iblock, min_size


@numba.njit(**NUMBA_OPTS)
def _record_rows(lo, hi, recs, uniq_rows, d_score, d_contrib, d_nmsu, fblock, iblock, min_size):
    """Records ``lo .. hi-1`` of :func:`record_table`: zeros, then the uniques among them."""
    m = d_contrib.shape[1]
    cap = iblock.shape[0]
    for f in range(fblock.shape[0]):
        fblock[f, lo:hi] = 0.0
    for k in range(cap):
        iblock[k, lo:hi] = 0
    min_size[lo:hi] = 0
    for q in range(uniq_rows.shape[0]):
        i = recs[q]
        if i < lo or i >= hi:
            continue
        g = uniq_rows[q]
        s = d_score[g]
        fblock[0, i] = s
        if s > 0:
            for j in range(m):
                fblock[2 + j, i] = d_contrib[g, j] / s
        ms = 0
        for k in range(1, cap + 1):
            v = d_nmsu[g, k]
            iblock[k - 1, i] = v
            if v > 0 and ms == 0:
                ms = k
        min_size[i] = ms
