"""Full-domain generalisation nodes over a table of distinct records (numba only).

The input is the table of distinct key combinations with their counts (``rows`` of shape
``(m, u)``: for each quasi-identifier the row index of the value in its hierarchy table;
``counts`` of length ``u``). A node gives every quasi-identifier one level ``L_j``; the
generalised code of a distinct row is ``maps[moff[j, L_j] + rows[j, r]]`` in
``0 .. cards[j, L_j] - 1``.

:func:`evaluate_nodes` groups the distinct rows of each node into equivalence classes,
marks the classes that fail (fewer than ``k`` records, or fewer than ``lreq[s]`` distinct
values of sensitive column ``s``), and returns per node what the information-loss measures
need: suppressed records ``S``, surviving classes, the sum of squared surviving class sizes,
per QI the Loss shares of the suppressed records (as integer numerators: ``shares`` holds,
for each hierarchy row, the number of table rows sharing its generalised value) and ``sum_w c_w log2(c_w / S)`` over the
generalised values ``w`` of the suppressed records. Definitions: ``docs/methods.md#anonymisation``.

Method: the generalised codes are folded into one mixed-radix int64 key; when the key space
would pass 2**62 the partial key is first renumbered through an open-addressing hash table.
Keys are numbered densely (first appearance) through a direct-address table when the node's key
space fits one as large as the largest such space of the batch (at most ``4 u``: a high node's
small table stays in cache), else through the hash table (linear probing, Fibonacci hashing,
load < 1/2), allocated only when some node needs it; only the touched slots are cleared
afterwards, so one table serves every node of a batch. Distinct sensitive values per class use
a 64-bit mask per class for a column of at most 64 values, else numbered (class, value) pairs.
A batch is split into contiguous chunks of nodes on up to two threads (each node's outputs
depend on that node alone). :func:`coarsen_rows` gives the distinct rows of one node's
generalisation with the same numbering, so a batch is evaluated on the rows of its lowest
common node. Time O(u m) per node, extra memory O(u).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .hashing import new_table, table_slot
from .threads import n_workers, run_chunks

__all__ = ["evaluate_nodes", "node_classes", "coarsen_rows", "close_below", "projection_suppressed",
           "projection_bound"]

_SPACE_MAX = np.int64(1) << np.int64(62)


@numba.njit(**NUMBA_OPTS)
def _renumber(keys, slot_key, slot_id, touched, shift, out):
    """Dense ids (first appearance) of ``keys`` into ``out``; clears the table afterwards."""
    nid = 0
    nt = 0
    for r in range(keys.shape[0]):
        key = np.uint64(keys[r])
        h = table_slot(slot_key, slot_id, shift, key)
        sid = slot_id[h]
        if sid < 0:
            slot_id[h] = nid
            slot_key[h] = key
            touched[nt] = h
            nt += 1
            out[r] = nid
            nid += 1
        else:
            out[r] = sid
    for t in range(nt):
        slot_id[touched[t]] = -1
    return nid


@numba.njit(**NUMBA_OPTS)
def _class_ids(node, rows, maps, moff, cards, keys, cid, slot_key, slot_id, touched, shift, direct):
    """Class id of every distinct row under ``node``; returns the number of classes."""
    m, u = rows.shape
    space = np.int64(1)
    for r in range(u):
        keys[r] = 0
    for j in range(m):
        lv = node[j]
        c = cards[j, lv]
        if space > _SPACE_MAX // c:
            space = np.int64(_renumber(keys, slot_key, slot_id, touched, shift, cid))
            for r in range(u):
                keys[r] = cid[r]
        off = moff[j, lv]
        for r in range(u):
            keys[r] = keys[r] * c + maps[off + rows[j, r]]
        space *= c
    if space <= direct.shape[0]:
        return _renumber_direct(keys, direct, touched, cid)
    return _renumber(keys, slot_key, slot_id, touched, shift, cid)


@numba.njit(**NUMBA_OPTS)
def _class_ids_shared(i, lo, nodes, rows, counts, maps, moff, cards, pk, spc, cid, sizes, first, slot_key, slot_id,
                      touched, shift, direct):
    """:func:`_class_ids` for node ``i`` reusing the partial keys of node ``i - 1``, with the
    size and first row of each class (:func:`_fold_renumber`). ``pk[j]`` holds the key folded
    over the columns before ``j`` (``spc[j]`` its space), so only the columns from the first
    level that differs are folded again (nodes in lexicographic order share long prefixes);
    the last column is folded while the keys are numbered (a full key is never reused: the
    nodes of a batch differ). ``pk[0]`` is zero and ``spc[0]`` one."""
    m, u = rows.shape
    node = nodes[i]
    p = 0
    if i > lo:
        while p < m - 1 and nodes[i - 1, p] == node[p]:
            p += 1
    space = spc[p]
    for j in range(p, m - 1):
        lv = node[j]
        c = cards[j, lv]
        off = moff[j, lv]
        src = pk[j]
        dst = pk[j + 1]
        if space > _SPACE_MAX // c:
            space = np.int64(_renumber(src, slot_key, slot_id, touched, shift, cid))
            for r in range(u):
                dst[r] = cid[r] * c + maps[off + rows[j, r]]
        else:
            for r in range(u):
                dst[r] = src[r] * c + maps[off + rows[j, r]]
        space *= c
        spc[j + 1] = space
    lv = node[m - 1]
    c = cards[m - 1, lv]
    src = pk[m - 1]
    if space > _SPACE_MAX // c:
        space = np.int64(_renumber(src, slot_key, slot_id, touched, shift, cid))
        src = pk[m]
        for r in range(u):
            src[r] = cid[r]
    return _fold_renumber(src, space * c, c, maps, moff[m - 1, lv], rows[m - 1], counts, direct, slot_key, slot_id,
                          touched, shift, cid, sizes, first)


@numba.njit(**NUMBA_OPTS)
def _fold_renumber(src, space, c, maps, off, row, counts, direct, slot_key, slot_id, touched, shift, out, sizes,
                   first):
    """Dense ids (first appearance) of the keys ``src[r] * c + maps[off + row[r]]`` (key space
    ``space``) into ``out``, through the direct table when the space fits it, else the hash
    table (as :func:`_renumber_direct` and :func:`_renumber`, without storing the keys); the
    records of each id into ``sizes`` and its first row into ``first``."""
    u = src.shape[0]
    nid = 0
    if space <= direct.shape[0]:
        for r in range(u):
            key = src[r] * c + maps[off + row[r]]
            sid = direct[key]
            if sid < 0:
                direct[key] = nid
                touched[nid] = key
                out[r] = nid
                sizes[nid] = counts[r]
                first[nid] = r
                nid += 1
            else:
                out[r] = sid
                sizes[sid] += counts[r]
        for t in range(nid):
            direct[touched[t]] = -1
        return nid
    for r in range(u):
        key = np.uint64(src[r] * c + maps[off + row[r]])
        h = table_slot(slot_key, slot_id, shift, key)
        sid = slot_id[h]
        if sid < 0:
            slot_id[h] = nid
            slot_key[h] = key
            touched[nid] = h
            out[r] = nid
            sizes[nid] = counts[r]
            first[nid] = r
            nid += 1
        else:
            out[r] = sid
            sizes[sid] += counts[r]
    for t in range(nid):
        slot_id[touched[t]] = -1
    return nid


@numba.njit(**NUMBA_OPTS)
def _sizes_first(cid, g, counts, sizes, first):
    """Records and first row of each of the ``g`` classes of ``cid``."""
    for c in range(g):
        sizes[c] = 0
        first[c] = -1
    for r in range(cid.shape[0]):
        c = cid[r]
        sizes[c] += counts[r]
        if first[c] < 0:
            first[c] = r


@numba.njit(**NUMBA_OPTS)
def _renumber_direct(keys, direct, touched, out):
    """:func:`_renumber` for keys below ``len(direct)``: a plain array instead of the hash table."""
    nid = 0
    for r in range(keys.shape[0]):
        key = keys[r]
        sid = direct[key]
        if sid < 0:
            direct[key] = nid
            touched[nid] = key
            out[r] = nid
            nid += 1
        else:
            out[r] = sid
    for t in range(nid):
        direct[touched[t]] = -1
    return nid


@numba.njit(**NUMBA_OPTS)
def _distinct_at_least(x, need):
    """Whether the bit mask ``x`` has at least ``need`` bits set."""
    n = 0
    while x != 0 and n < need:
        x &= x - np.uint64(1)
        n += 1
    return n >= need


@numba.njit(**NUMBA_OPTS)
def _failing(cid, g, sizes, sens, scards, lreq, k, slot_key, slot_id, touched, shift, keys, tmp, direct, mask_max):
    """Failing flags of the ``g`` classes (``sizes[c]`` records; fewer than k, or fewer than
    lreq[s] distinct values of s).

    Distinct values per class: a 64-bit mask per class when s has at most ``mask_max`` (<= 64)
    values, else the
    (class, value) pairs numbered through the direct table or the hash table."""
    u = cid.shape[0]
    fail = np.zeros(g, dtype=np.bool_)
    for c in range(g):
        if sizes[c] < k:
            fail[c] = True
    for s in range(sens.shape[0]):
        if scards[s] <= mask_max:
            mask = np.zeros(g, dtype=np.uint64)
            for r in range(u):
                mask[cid[r]] |= np.uint64(1) << np.uint64(sens[s, r])
            for c in range(g):
                if not _distinct_at_least(mask[c], lreq[s]):
                    fail[c] = True
            continue
        for r in range(u):
            keys[r] = np.int64(cid[r]) * scards[s] + sens[s, r]
        if np.int64(g) * scards[s] <= direct.shape[0]:
            _renumber_direct(keys, direct, touched, tmp)
        else:
            _renumber(keys, slot_key, slot_id, touched, shift, tmp)
        distinct = np.zeros(g, dtype=np.int64)
        seen = np.zeros(u, dtype=np.bool_)
        for r in range(u):
            if not seen[tmp[r]]:
                seen[tmp[r]] = True
                distinct[cid[r]] += 1
        for c in range(g):
            if distinct[c] < lreq[s]:
                fail[c] = True
    return fail


@numba.njit(**NUMBA_OPTS)
def _suppressed_terms(i, node, g, fail, sizes, first, s_tot, rows, maps, moff, shares, scratch, full, supshare,
                      supent, failed):
    """Loss-share numerators and (if ``full``) the entropy term of the suppressed records, per
    failing class (listed in ``failed``, work space of ``g``): every row of a class has the
    generalised values of its first row. The entropy term adds each generalised value's term
    where the value first occurs among the failing classes (class ids follow the rows' order,
    so the order of the sum is that of the rows)."""
    m = rows.shape[0]
    nf = 0
    for c in range(g):
        if fail[c]:
            failed[nf] = c
            nf += 1
    for j in range(m):
        off = moff[j, node[j]]
        row = rows[j]
        acc = np.int64(0)
        for t in range(nf):
            c = failed[t]
            acc += sizes[c] * shares[off + row[first[c]]]
        supshare[i, j] += acc
        if not full:
            continue
        sc = scratch[j]
        for t in range(nf):
            c = failed[t]
            sc[maps[off + row[first[c]]]] += sizes[c]
        ent = 0.0
        for t in range(nf):
            code = maps[off + row[first[failed[t]]]]
            cw = sc[code]
            if cw > 0:
                ent += cw * np.log2(cw / s_tot)
                sc[code] = 0
        supent[i, j] += ent


@numba.njit(**NUMBA_OPTS)
def _workspace(u, direct_len, hash_len):
    """The hash table (for ``hash_len`` keys), the direct-address table (``direct_len`` slots)
    and the work arrays for renumbering ``u`` distinct rows under a node (the last two: the
    size and first row of each class)."""
    slot_key, slot_id, shift = new_table(hash_len)
    direct = np.full(direct_len, -1, dtype=np.int64)
    return (slot_key, slot_id, shift, np.empty(u, dtype=np.int64), np.empty(u, dtype=np.int64),
            np.empty(u, dtype=np.int64), np.empty(u, dtype=np.int64), direct, np.empty(u, dtype=np.int64),
            np.empty(u, dtype=np.int64))


@numba.njit(**NUMBA_OPTS)
def _evaluate_range(lo, hi, nodes, rows, counts, sens, scards, lreq, k, maps, moff, cards, shares, max_card, full,
                    direct_len, hash_len, mask_max, share, supp, ncls, sumsq, supshare, supent):
    """:func:`evaluate_nodes` for the nodes ``lo .. hi-1``, into their rows of the outputs;
    ``share``: reuse the partial keys of the previous node (:func:`_class_ids_shared`)."""
    m = nodes.shape[1]
    u = rows.shape[1]
    slot_key, slot_id, shift, touched, keys, cid, tmp, direct, sizes, first = _workspace(u, direct_len, hash_len)
    scratch = np.zeros((m, max_card if full else 1), dtype=np.int64)
    pk = np.empty((m + 1, u) if share else (1, 1), dtype=np.int64)  # rows written before read, but the first
    pk[0] = 0
    spc = np.ones(m + 1, dtype=np.int64)
    for i in range(lo, hi):
        node = nodes[i]
        if share:
            g = _class_ids_shared(i, lo, nodes, rows, counts, maps, moff, cards, pk, spc, cid, sizes, first, slot_key,
                                  slot_id, touched, shift, direct)
        else:
            g = _class_ids(node, rows, maps, moff, cards, keys, cid, slot_key, slot_id, touched, shift, direct)
            _sizes_first(cid, g, counts, sizes, first)
        fail = _failing(cid, g, sizes, sens, scards, lreq, k, slot_key, slot_id, touched, shift, keys, tmp, direct,
                        mask_max)
        s_tot = np.int64(0)
        for c in range(g):
            if fail[c]:
                s_tot += sizes[c]
            else:
                ncls[i] += 1
                sumsq[i] += np.float64(sizes[c]) * np.float64(sizes[c])
        supp[i] = s_tot
        if s_tot > 0:
            _suppressed_terms(i, node, g, fail, sizes, first, s_tot, rows, maps, moff, shares, scratch, full,
                              supshare, supent, tmp)


#: a sensitive column of at most this many values (<= 64) counts distinct values with a bit mask
_MASK_MAX = 64

#: the partial keys of a batch's previous node are kept when they take at most this many bytes
#: per thread ((m + 1) x u int64), else every node folds every column
_SHARE_BYTES = 64 << 20

#: below this many (node, distinct row) pairs a batch runs on one thread (a thread costs more)
_PARALLEL_MIN_WORK = 200_000


def direct_length(u: int) -> int:
    """The largest direct-address table for ``u`` distinct rows: a node whose key space fits
    is numbered without hashing."""
    return max(4 * int(u), 1 << 12)


def node_spaces(nodes, cards) -> np.ndarray:
    """The generalised key space of each node (product of its cardinalities, as floats)."""
    nodes = np.asarray(nodes, dtype=np.int64)
    out = np.ones(len(nodes))
    for j in range(nodes.shape[1]):
        out *= cards[j, nodes[:, j]].astype(np.float64)
    return out


def table_sizes(spaces, u: int, scards) -> tuple:
    """``(direct_len, hash_len)``: the direct table as large as the largest key space that fits
    (small tables stay in cache), the hash table only when a key space does not fit or a
    sensitive column has more than ``_MASK_MAX`` values (no bit mask)."""
    cap = direct_length(u)
    spaces = np.asarray(spaces, dtype=np.float64)
    fits = spaces[spaces <= cap]
    direct_len = int(fits.max()) if len(fits) else 0
    wide = len(scards) and int(np.max(scards)) > _MASK_MAX
    if wide:
        direct_len = cap  # (class, value) pairs: up to u * values keys
    hash_len = int(u) if len(fits) < len(spaces) or wide else 0
    return np.int64(direct_len), np.int64(hash_len)


def evaluate_nodes(nodes, rows, counts, sens, scards, lreq, k, maps, moff, cards, shares, max_card, full):
    """Per node: suppressed, classes, sum of squared class sizes, Loss shares and (if ``full``)
    entropy term of the suppressed records (see the module docstring).

    The nodes are split into contiguous chunks evaluated on up to two threads (each node's
    outputs depend on that node alone, so the result does not depend on the split). Sharing
    partial keys, the columns are taken in order of how much their level varies in the batch
    (a node's outputs do not depend on the column order: per-column sums, and class ids that
    follow the rows' order)."""
    nn, m = nodes.shape
    u = rows.shape[1]
    share = nn > 1 and (m + 1) * u * 8 <= _SHARE_BYTES
    perm = np.arange(m)
    if share:  # the columns whose level varies least in the batch first: longer shared prefixes
        perm = np.argsort(nodes.max(axis=0) - nodes.min(axis=0), kind="stable")
    permuted = bool((perm != np.arange(m)).any())
    if permuted:
        nodes = nodes[:, perm]
        rows, moff, cards = (np.ascontiguousarray(a[perm]) for a in (rows, moff, cards))
    order = np.lexsort(nodes.T[::-1]) if nn > 1 else np.arange(nn)  # shared prefixes next to each other
    ordered = np.ascontiguousarray(nodes[order])
    supp = np.zeros(nn, dtype=np.int64)
    ncls = np.zeros(nn, dtype=np.int64)
    sumsq = np.zeros(nn, dtype=np.float64)
    supshare = np.zeros((nn, m), dtype=np.int64)
    supent = np.zeros((nn, m), dtype=np.float64)
    chunks = n_workers(nn) if nn * u >= _PARALLEL_MIN_WORK else 1
    direct_len, hash_len = table_sizes(node_spaces(nodes, cards), u, scards)

    def chunk(ch):
        _evaluate_range(np.int64(ch * nn // chunks), np.int64((ch + 1) * nn // chunks), ordered, rows, counts, sens,
                        scards, lreq, k, maps, moff, cards, shares, max_card, full, direct_len, hash_len,
                        np.int64(_MASK_MAX), share, supp, ncls, sumsq, supshare, supent)

    run_chunks(chunk, chunks)
    back = np.empty(nn, dtype=np.int64)
    back[order] = np.arange(nn)
    supshare, supent = supshare[back], supent[back]
    if permuted:
        supshare[:, perm], supent[:, perm] = supshare.copy(), supent.copy()
    return supp[back], ncls[back], sumsq[back], supshare, supent


@numba.njit(**NUMBA_OPTS)
def _node_classes(node, rows, counts, sens, scards, lreq, k, maps, moff, cards, direct_len, hash_len, mask_max):
    u = rows.shape[1]
    slot_key, slot_id, shift, touched, keys, cid, tmp, direct, sizes, first = _workspace(u, direct_len, hash_len)
    g = _class_ids(node, rows, maps, moff, cards, keys, cid, slot_key, slot_id, touched, shift, direct)
    _sizes_first(cid, g, counts, sizes, first)
    fail = _failing(cid, g, sizes, sens, scards, lreq, k, slot_key, slot_id, touched, shift, keys, tmp, direct,
                    mask_max)
    return cid, sizes[:g].copy(), fail


def node_classes(node, rows, counts, sens, scards, lreq, k, maps, moff, cards):
    """Class id of every distinct row under ``node``, class sizes and failing flags."""
    return _node_classes(node, rows, counts, sens, scards, lreq, k, maps, moff, cards,
                         *table_sizes(node_spaces(node[None, :], cards), rows.shape[1], scards), np.int64(_MASK_MAX))


@numba.njit(**NUMBA_OPTS)
def _distinct_rows(base, rows, counts, sens, scards, maps, moff, cards, slot_key, slot_id, shift, touched, keys, cid,
                   tmp, direct):
    """``(first, counts)`` of the distinct rows of the generalisation at ``base`` with the
    sensitive codes (first appearance); ``cid`` receives the new row of every old one."""
    g = _class_ids(base, rows, maps, moff, cards, keys, cid, slot_key, slot_id, touched, shift, direct)
    return _split_by_sens(cid, g, counts, sens, scards, slot_key, slot_id, shift, touched, keys, tmp, direct)


@numba.njit(**NUMBA_OPTS)
def _split_by_sens(cid, g, counts, sens, scards, slot_key, slot_id, shift, touched, keys, tmp, direct):
    """The ``g`` classes of ``cid`` split by the sensitive codes: ``(first, counts)`` of each
    (class, codes) in order of first appearance, ``cid`` renumbered to them in place
    (``keys`` and ``tmp``: work space as long as ``cid``)."""
    u = cid.shape[0]
    for s in range(sens.shape[0]):
        for r in range(u):
            keys[r] = np.int64(cid[r]) * scards[s] + sens[s, r]
        if np.int64(g) * scards[s] <= direct.shape[0]:
            g = _renumber_direct(keys, direct, touched, tmp)
        else:
            g = _renumber(keys, slot_key, slot_id, touched, shift, tmp)
        for r in range(u):
            cid[r] = tmp[r]
    first = np.full(g, -1, dtype=np.int64)
    cnt = np.zeros(g, dtype=np.int64)
    for r in range(u):
        c = cid[r]
        if first[c] < 0:
            first[c] = r
        cnt[c] += counts[r]
    return first, cnt


@numba.njit(**NUMBA_OPTS)
def _coarsen_rows(base, rows, counts, sens, scards, maps, moff, cards, direct_len, hash_len):
    u = rows.shape[1]
    slot_key, slot_id, shift, touched, keys, cid, tmp, direct, _, _ = _workspace(u, direct_len, hash_len)
    first, cnt = _distinct_rows(base, rows, counts, sens, scards, maps, moff, cards, slot_key, slot_id, shift, touched,
                                keys, cid, tmp, direct)
    return first, cnt, cid


def coarsen_rows(base, rows, counts, sens, scards, maps, moff, cards):
    """The distinct rows of the generalisation at node ``base`` (with the sensitive codes):
    ``(first, counts, inverse)``: the first distinct row of each, in order of first appearance,
    their record counts, and the new row of every old one."""
    space = node_spaces(base[None, :], cards) * float(np.prod(scards.astype(np.float64)))
    return _coarsen_rows(base, rows, counts, sens, scards, maps, moff, cards,
                         *table_sizes(space, rows.shape[1], scards[:0]))


@numba.njit(**NUMBA_OPTS)
def close_below(nodes, open_, bad):
    """``open_[i] = False`` for every node i at or below one of the nodes ``bad`` (predictive
    tagging: a node below a non-anonymous node is not anonymous)."""
    nn, m = nodes.shape
    for i in range(nn):
        if not open_[i]:
            continue
        for b in range(bad.shape[0]):
            below = True
            for j in range(m):
                if nodes[i, j] > bad[b, j]:
                    below = False
                    break
            if below:
                open_[i] = False
                break


@numba.njit(**NUMBA_OPTS)
def _lattice_nodes(heights):
    """Every node of the lattice of ``heights``, lexicographic order."""
    t = heights.shape[0]
    total = 1
    for j in range(t):
        total *= heights[j] + 1
    nodes = np.zeros((total, t), dtype=np.int64)
    cur = np.zeros(t, dtype=np.int64)
    for i in range(total):
        nodes[i] = cur
        j = t - 1
        while j >= 0:
            cur[j] += 1
            if cur[j] <= heights[j]:
                break
            cur[j] = 0
            j -= 1
    return nodes


@numba.njit(**NUMBA_OPTS)
def _distinct_direct(cols, rows, counts, sens, scards, cards, direct, touched, keys, first, cnt):
    """The distinct rows of ``rows[cols]`` at level 0 with the sensitive codes, numbered through
    the direct table (the key space fits it): their number ``g``, the first row and the records
    of each in ``first[:g]`` and ``cnt[:g]``."""
    u = rows.shape[1]
    for r in range(u):
        keys[r] = 0
    for a in range(cols.shape[0]):
        row = rows[cols[a]]
        c = cards[cols[a], 0]
        for r in range(u):
            keys[r] = keys[r] * c + row[r]
    for a in range(sens.shape[0]):
        row = sens[a]
        c = scards[a]
        for r in range(u):
            keys[r] = keys[r] * c + row[r]
    g = 0
    for r in range(u):
        key = keys[r]
        sid = direct[key]
        if sid < 0:
            direct[key] = g
            touched[g] = key
            first[g] = r
            cnt[g] = counts[r]
            g += 1
        else:
            cnt[sid] += counts[r]
    for c in range(g):
        direct[touched[c]] = -1
    return g


@numba.njit(**NUMBA_OPTS)
def _projection_range(lo, hi, subsets, sizes_, offsets, rows, counts, sens, scards, lreq, k, maps, moff, cards,
                      heights, direct_len, hash_len, mask_max, budgets, out):
    """:func:`projection_suppressed` for the subsets ``lo .. hi-1``: each projected onto its
    distinct rows (with the sensitive codes), then every node of its lattice evaluated on them."""
    u = rows.shape[1]
    slot_key, slot_id, shift, touched, keys, cid, tmp, direct, csize, first = _workspace(u, direct_len, hash_len)
    for q in range(lo, hi):
        t = sizes_[q]
        cols = subsets[q, :t]
        smoff = np.ascontiguousarray(moff[cols])
        scard = np.ascontiguousarray(cards[cols])
        space = np.int64(1)
        for a in range(t):
            space *= cards[cols[a], 0]
        for a in range(sens.shape[0]):
            space *= scards[a]
        if space <= direct.shape[0]:
            g0 = _distinct_direct(cols, rows, counts, sens, scards, cards, direct, touched, keys, first, csize)
            f, cnt = first[:g0].copy(), csize[:g0].copy()
        else:
            sub = np.empty((t, u), dtype=rows.dtype)
            for a in range(t):
                sub[a] = rows[cols[a]]
            f, cnt = _distinct_rows(np.zeros(t, dtype=np.int64), sub, counts, sens, scards, maps, smoff, scard,
                                    slot_key, slot_id, shift, touched, keys, cid, tmp, direct)
        g0 = f.shape[0]
        r2 = np.empty((t, g0), dtype=rows.dtype)
        for a in range(t):
            row = rows[cols[a]]
            for c in range(g0):
                r2[a, c] = row[f[c]]
        s2 = np.empty((sens.shape[0], g0), dtype=sens.dtype)
        for a in range(sens.shape[0]):
            for c in range(g0):
                s2[a, c] = sens[a, f[c]]
        _rolled_lattice(t, r2, s2, cnt, np.ascontiguousarray(heights[cols]), scards, lreq, k, maps, smoff, scard,
                        slot_key, slot_id, shift, touched, keys, cid, tmp, direct, csize, first, mask_max,
                        budgets[q], out[offsets[q]:offsets[q + 1]])


@numba.njit(**NUMBA_OPTS)
def _rolled_classes(node, r2, src_rep, src_cnt, maps, smoff, scard, direct, slot_key, slot_id, shift, touched, cid,
                    sizes, first):
    """Classes of ``node`` over the rows ``src_rep`` of ``r2`` (records ``src_cnt``): each row's
    generalised key folded and numbered (first appearance, direct table when the key space fits
    it, else the hash table) in one pass, into ``cid``, with each class's records and first
    row; the number of classes, or -1 when the key space passes 2**62."""
    t = node.shape[0]
    cs = np.empty(t, dtype=np.int64)
    offs = np.empty(t, dtype=np.int64)
    space = np.int64(1)
    for a in range(t):
        cs[a] = scard[a, node[a]]
        offs[a] = smoff[a, node[a]]
        if space > _SPACE_MAX // cs[a]:
            return -1
        space *= cs[a]
    use_direct = space <= direct.shape[0]
    nid = 0
    for r in range(src_rep.shape[0]):
        row = src_rep[r]
        key = np.int64(0)
        for a in range(t):
            key = key * cs[a] + maps[offs[a] + r2[a, row]]
        if use_direct:
            h = key
            sid = direct[key]
        else:
            h = table_slot(slot_key, slot_id, shift, np.uint64(key))
            sid = slot_id[h]
        if sid < 0:
            if use_direct:
                direct[key] = nid
            else:
                slot_id[h] = nid
                slot_key[h] = np.uint64(key)
            touched[nid] = h
            cid[r] = nid
            sizes[nid] = src_cnt[r]
            first[nid] = r
            nid += 1
        else:
            cid[r] = sid
            sizes[sid] += src_cnt[r]
    for c in range(nid):
        if use_direct:
            direct[touched[c]] = -1
        else:
            slot_id[touched[c]] = -1
    return nid


@numba.njit(**NUMBA_OPTS)
def _rolled_lattice(t, r2, s2, cnt, hq, scards, lreq, k, maps, smoff, scard, slot_key, slot_id, shift, touched, keys,
                    cid, tmp, direct, csize, first, mask_max, budget, out):
    """Suppressed records at every node of a small lattice (lexicographic order) over the
    distinct rows ``r2`` (with sensitive codes ``s2`` and records ``cnt``): each node is
    evaluated on the distinct (class, sensitive codes) rows of a direct predecessor (one level
    less in its last raised column), which the node's classes are unions of. Once the rows
    evaluated pass a positive ``budget``, the remaining nodes are left as they are."""
    nodes = _lattice_nodes(hq)
    n = nodes.shape[0]
    ns = s2.shape[0]
    stride = np.ones(t, dtype=np.int64)
    for a in range(t - 2, -1, -1):
        stride[a] = stride[a + 1] * (hq[a + 1] + 1)
    reps = [np.empty(0, dtype=np.int64) for _ in range(n)]
    cnts = [np.empty(0, dtype=np.int64) for _ in range(n)]
    work = 0
    for i in range(n):
        node = nodes[i]
        if i == 0:
            src_rep = np.arange(r2.shape[1])
            src_cnt = cnt
        else:
            j = t - 1
            while node[j] == 0:
                j -= 1
            src_rep = reps[i - stride[j]]
            src_cnt = cnts[i - stride[j]]
            # the predecessor's last user is the node raising its own last raised column (the
            # bottom's: the node raising the first column): its table is then let go
            last = j
            while last >= 0 and nodes[i - stride[j], last] == 0:
                last -= 1
            if (last < 0 and j == 0) or last == j:
                reps[i - stride[j]] = np.empty(0, dtype=np.int64)
                cnts[i - stride[j]] = np.empty(0, dtype=np.int64)
        gs = src_rep.shape[0]
        work += gs
        if budget > 0 and work > budget:
            break
        ss = np.empty((ns, gs), dtype=s2.dtype)
        for a in range(ns):
            for c in range(gs):
                ss[a, c] = s2[a, src_rep[c]]
        cids = cid[:gs]
        g = _rolled_classes(node, r2, src_rep, src_cnt, maps, smoff, scard, direct, slot_key, slot_id, shift, touched,
                            cids, csize, first)
        if g < 0:  # a key space past 2**62: the rows gathered and folded column by column
            rs = np.empty((t, gs), dtype=r2.dtype)
            for a in range(t):
                for c in range(gs):
                    rs[a, c] = r2[a, src_rep[c]]
            g = _class_ids(node, rs, maps, smoff, scard, keys[:gs], cids, slot_key, slot_id, touched, shift, direct)
            _sizes_first(cids, g, src_cnt, csize, first)
        fail = _failing(cids, g, csize, ss, scards, lreq, k, slot_key, slot_id, touched, shift, keys[:gs], tmp[:gs],
                        direct, mask_max)
        s_tot = np.int64(0)
        for c in range(g):
            if fail[c]:
                s_tot += csize[c]
        out[i] = s_tot
        if i == n - 1:
            break
        if ns == 0:
            reps[i] = src_rep[first[:g]]
            cnts[i] = csize[:g].copy()
        else:
            f2, c2 = _split_by_sens(cids, g, src_cnt, ss, scards, slot_key, slot_id, shift, touched, keys[:gs],
                                    tmp[:gs], direct)
            reps[i] = src_rep[f2]
            cnts[i] = c2


def projection_suppressed(subsets, rows, counts, sens, scards, lreq, k, maps, moff, cards, heights, budgets=None):
    """Records suppressed at every node of the lattice of each subset of columns (the problem
    projected onto those quasi-identifiers, same records and conditions), the nodes of a
    subset in lexicographic order: ``(flat, offsets)``, subset ``q``'s nodes at
    ``flat[offsets[q]:offsets[q + 1]]``. Subsets are split over up to two threads.

    ``budgets[q]`` (if given and positive) caps the rows subset ``q``'s nodes are evaluated on,
    summed over its nodes: past it, the remaining nodes are left at 0 (no information, still a
    lower bound)."""
    nq = len(subsets)
    u = rows.shape[1]
    tmax = max([len(c) for c in subsets] + [1])
    arr = np.zeros((nq, tmax), dtype=np.int64)
    sizes_ = np.zeros(nq, dtype=np.int64)
    lat = np.zeros(nq, dtype=np.int64)
    spaces = np.zeros(nq)
    hs, c0 = [int(h) + 1 for h in heights], [float(c) for c in cards[:, 0]]
    for q, cols in enumerate(subsets):
        arr[q, :len(cols)] = cols
        sizes_[q] = len(cols)
        lat[q] = math.prod(hs[c] for c in cols)
        spaces[q] = math.prod(c0[c] for c in cols)
    offsets = np.zeros(nq + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lat)
    out = np.zeros(int(offsets[-1]), dtype=np.int64)
    if nq == 0:
        return out, offsets
    spaces *= float(np.prod(scards.astype(np.float64)))
    direct_len, hash_len = table_sizes(spaces, u, scards)
    chunks = n_workers(nq) if nq * u >= _PARALLEL_MIN_WORK else 1
    budgets = np.full(nq, -1, dtype=np.int64) if budgets is None else np.asarray(budgets, dtype=np.int64)

    def chunk(ch):
        _projection_range(np.int64(ch * nq // chunks), np.int64((ch + 1) * nq // chunks), arr, sizes_, offsets, rows,
                          counts, sens, scards, lreq, k, maps, moff, cards, heights, direct_len, hash_len,
                          np.int64(_MASK_MAX), budgets, out)

    run_chunks(chunk, chunks)
    return out, offsets


@numba.njit(**NUMBA_OPTS)
def projection_bound(nodes, subsets, sizes_, offsets, strides, flat):
    """Per node, the largest suppression over the subsets' projections of it (``flat`` and
    ``offsets`` from :func:`projection_suppressed`; subsets of one to three columns, padded to
    three, ``strides[q, a]`` the lexicographic stride of the subset's ``a``-th column, zero
    for the padding)."""
    nn = nodes.shape[0]
    out = np.zeros(nn, dtype=np.int64)
    for q in range(subsets.shape[0]):
        t = sizes_[q]
        ca, sa = subsets[q, 0], strides[q, 0]
        cb, sb = subsets[q, min(1, t - 1)], strides[q, 1] if t > 1 else 0
        cc, sc = subsets[q, min(2, t - 1)], strides[q, 2] if t > 2 else 0
        off = offsets[q]
        for i in range(nn):
            v = flat[off + nodes[i, ca] * sa + nodes[i, cb] * sb + nodes[i, cc] * sc]
            if v > out[i]:
                out[i] = v
    return out
