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

import numba
import numpy as np

from .._config import NUMBA_OPTS
from .hashing import new_table, table_slot
from .threads import n_workers, run_chunks

__all__ = ["evaluate_nodes", "node_classes", "coarsen_rows", "close_below"]

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
def _class_ids_shared(i, lo, nodes, rows, maps, moff, cards, pk, spc, cid, slot_key, slot_id, touched, shift,
                      direct):
    """:func:`_class_ids` for node ``i`` reusing the partial keys of node ``i - 1``: ``pk[j]``
    holds the key folded over the columns before ``j`` (``spc[j]`` its space), so only the
    columns from the first level that differs are folded again (nodes in lexicographic order
    share long prefixes). ``pk[0]`` is zero and ``spc[0]`` one."""
    m, u = rows.shape
    node = nodes[i]
    p = 0
    if i > lo:
        while p < m and nodes[i - 1, p] == node[p]:
            p += 1
    space = spc[p]
    for j in range(p, m):
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
    if space <= direct.shape[0]:
        return _renumber_direct(pk[m], direct, touched, cid)
    return _renumber(pk[m], slot_key, slot_id, touched, shift, cid)


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
def _failing(cid, g, counts, sens, scards, lreq, k, slot_key, slot_id, touched, shift, keys, tmp, direct, mask_max):
    """Class sizes and failing flags (size < k or fewer than lreq[s] distinct values of s).

    Distinct values per class: a 64-bit mask per class when s has at most ``mask_max`` (<= 64)
    values, else the
    (class, value) pairs numbered through the direct table or the hash table."""
    u = cid.shape[0]
    sizes = np.zeros(g, dtype=np.int64)
    for r in range(u):
        sizes[cid[r]] += counts[r]
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
    return sizes, fail


@numba.njit(**NUMBA_OPTS)
def _suppressed_terms(i, node, cid, fail, s_tot, rows, counts, maps, moff, shares, scratch, full, supshare, supent):
    """Loss-share numerators and (if ``full``) the entropy term of the suppressed records."""
    m, u = rows.shape
    for r in range(u):
        if fail[cid[r]]:
            for j in range(m):
                pos = moff[j, node[j]] + rows[j, r]
                supshare[i, j] += counts[r] * shares[pos]
                if full:
                    scratch[j, maps[pos]] += counts[r]
    if not full:
        return
    for r in range(u):
        if fail[cid[r]]:
            for j in range(m):
                code = maps[moff[j, node[j]] + rows[j, r]]
                cw = scratch[j, code]
                if cw > 0:
                    supent[i, j] += cw * np.log2(cw / s_tot)
                    scratch[j, code] = 0


@numba.njit(**NUMBA_OPTS)
def _workspace(u, direct_len, hash_len):
    """The hash table (for ``hash_len`` keys), the direct-address table (``direct_len`` slots)
    and the work arrays for renumbering ``u`` distinct rows under a node."""
    slot_key, slot_id, shift = new_table(hash_len)
    direct = np.full(direct_len, -1, dtype=np.int64)
    return (slot_key, slot_id, shift, np.empty(u, dtype=np.int64), np.empty(u, dtype=np.int64),
            np.empty(u, dtype=np.int64), np.empty(u, dtype=np.int64), direct)


@numba.njit(**NUMBA_OPTS)
def _evaluate_range(lo, hi, nodes, rows, counts, sens, scards, lreq, k, maps, moff, cards, shares, max_card, full,
                    direct_len, hash_len, mask_max, share, supp, ncls, sumsq, supshare, supent):
    """:func:`evaluate_nodes` for the nodes ``lo .. hi-1``, into their rows of the outputs;
    ``share``: reuse the partial keys of the previous node (:func:`_class_ids_shared`)."""
    m = nodes.shape[1]
    u = rows.shape[1]
    slot_key, slot_id, shift, touched, keys, cid, tmp, direct = _workspace(u, direct_len, hash_len)
    scratch = np.zeros((m, max_card if full else 1), dtype=np.int64)
    pk = np.zeros((m + 1, u) if share else (1, 1), dtype=np.int64)
    spc = np.ones(m + 1, dtype=np.int64)
    for i in range(lo, hi):
        node = nodes[i]
        if share:
            g = _class_ids_shared(i, lo, nodes, rows, maps, moff, cards, pk, spc, cid, slot_key, slot_id, touched,
                                  shift, direct)
        else:
            g = _class_ids(node, rows, maps, moff, cards, keys, cid, slot_key, slot_id, touched, shift, direct)
        sizes, fail = _failing(cid, g, counts, sens, scards, lreq, k, slot_key, slot_id, touched, shift, keys, tmp, direct,
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
            _suppressed_terms(i, node, cid, fail, s_tot, rows, counts, maps, moff, shares, scratch, full,
                              supshare, supent)


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
    outputs depend on that node alone, so the result does not depend on the split)."""
    nn, m = nodes.shape
    u = rows.shape[1]
    order = np.lexsort(nodes.T[::-1]) if nn > 1 else np.arange(nn)  # shared prefixes next to each other
    ordered = np.ascontiguousarray(nodes[order])
    supp = np.zeros(nn, dtype=np.int64)
    ncls = np.zeros(nn, dtype=np.int64)
    sumsq = np.zeros(nn, dtype=np.float64)
    supshare = np.zeros((nn, m), dtype=np.int64)
    supent = np.zeros((nn, m), dtype=np.float64)
    chunks = n_workers(nn) if nn * u >= _PARALLEL_MIN_WORK else 1
    direct_len, hash_len = table_sizes(node_spaces(nodes, cards), u, scards)
    share = nn > 1 and (m + 1) * u * 8 <= _SHARE_BYTES

    def chunk(ch):
        _evaluate_range(np.int64(ch * nn // chunks), np.int64((ch + 1) * nn // chunks), ordered, rows, counts, sens,
                        scards, lreq, k, maps, moff, cards, shares, max_card, full, direct_len, hash_len,
                        np.int64(_MASK_MAX), share, supp, ncls, sumsq, supshare, supent)

    run_chunks(chunk, chunks)
    back = np.empty(nn, dtype=np.int64)
    back[order] = np.arange(nn)
    return supp[back], ncls[back], sumsq[back], supshare[back], supent[back]


@numba.njit(**NUMBA_OPTS)
def _node_classes(node, rows, counts, sens, scards, lreq, k, maps, moff, cards, direct_len, hash_len, mask_max):
    u = rows.shape[1]
    slot_key, slot_id, shift, touched, keys, cid, tmp, direct = _workspace(u, direct_len, hash_len)
    g = _class_ids(node, rows, maps, moff, cards, keys, cid, slot_key, slot_id, touched, shift, direct)
    sizes, fail = _failing(cid, g, counts, sens, scards, lreq, k, slot_key, slot_id, touched, shift, keys, tmp, direct,
                                mask_max)
    return cid, sizes, fail


def node_classes(node, rows, counts, sens, scards, lreq, k, maps, moff, cards):
    """Class id of every distinct row under ``node``, class sizes and failing flags."""
    return _node_classes(node, rows, counts, sens, scards, lreq, k, maps, moff, cards,
                         *table_sizes(node_spaces(node[None, :], cards), rows.shape[1], scards), np.int64(_MASK_MAX))


@numba.njit(**NUMBA_OPTS)
def _coarsen_rows(base, rows, counts, sens, scards, maps, moff, cards, direct_len, hash_len):
    m, u = rows.shape
    slot_key, slot_id, shift, touched, keys, cid, tmp, direct = _workspace(u, direct_len, hash_len)
    g = _class_ids(base, rows, maps, moff, cards, keys, cid, slot_key, slot_id, touched, shift, direct)
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
    return first, cnt, cid.copy()


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
