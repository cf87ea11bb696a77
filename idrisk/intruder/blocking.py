"""Candidate pairs: multi-pass blocking, union of the passes.

A pass is a list of quasi-identifiers; an (auxiliary record, extract record) pair is a
candidate of the pass when both agree, with no missing value, on every variable of the
pass. The candidate set is the union over passes (docs/methods.md#blocking-recall: several
passes survive divergence in a blocking field). This is exactly what
``recordlinkage.Index`` with one ``Block`` per pass gives after the union of the
resulting MultiIndexes (the tests' reference); here the pairs are built with a counting
sort per pass and each pair is emitted once (a pair found by an earlier pass is skipped), grouped by
target, without materialising a pandas MultiIndex.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._kernels import linkage as K
from .._kernels.groups import group_ids
from ..exceptions import DataQualityWarning, DataValidationError
from .compare import Field
from .memory import check_pairs, default_memory_budget, pass_pair_counts

__all__ = ["candidate_pairs", "pass_block_ids", "selective_passes", "held_groups", "DEFAULT_MAX_PAIRS",
           "MAX_HELD_PASSES"]

#: refuse to materialise more candidate pairs than this (the memory budget, :mod:`.memory`, usually
#: binds first: about 50 bytes a pair)
DEFAULT_MAX_PAIRS = 300_000_000
#: at most this many target groups are blocked on their held values (``pp`` is int8)
MAX_HELD_PASSES = 120
#: a default pass whose mean block holds more than this share of the extract is left out
MAX_BLOCK_SHARE = 0.1


def pass_block_ids(fields: dict, names, n_e: int):
    """Shared block ids for extract and auxiliary rows on one pass (``-1`` = a key is missing)."""
    cols_e = [fields[v].codes_e for v in names]
    cols_a = [fields[v].codes_a for v in names]
    mat = np.vstack([np.concatenate([ce, ca]) for ce, ca in zip(cols_e, cols_a)]).astype(np.int32)
    miss = (mat < 0).any(axis=0)
    mat[:, miss] = 0
    cards = np.array([max(fields[v].n_levels, 1) for v in names], dtype=np.int64)
    gid, sizes = group_ids(mat, cards)
    gid = gid.copy()
    gid[miss] = -1
    return gid[:n_e], gid[n_e:], int(sizes.shape[0])


def candidate_pairs(fields: list[Field], passes, n_e: int, n_a: int, *, max_pairs: int = DEFAULT_MAX_PAIRS,
                    memory_budget: int | None = None, held: bool = False):
    """Union of blocking passes as CSR grouped by target.

    The pairs are counted before any is allocated: each pass's count from its block sizes
    (``sum_b n_extract(b) n_auxiliary(b)``), the largest of which bounds the union from below,
    then the union itself; either above ``max_pairs`` or above ``memory_budget`` bytes
    (:func:`idrisk.intruder.memory.linkage_bytes`; ``None``: the default budget) is refused.

    ``held``: a pass blocks each target on the pass's variables the target holds (a missing
    value agrees with anything): the targets are grouped by the pass variables they hold and
    each group is one more pass on those (at most ``MAX_HELD_PASSES`` groups, the largest).

    Returns ``(ptr, pe, pp, per_pass)``: ``ptr`` int64 (n_a + 1), ``pe`` int64 extract
    rows, ``pp`` int8 the pass that found each pair, ``per_pass`` the number of new pairs
    each pass contributed.

    Raises
    ------
    DataValidationError
        When a blocking variable is missing in every auxiliary (or extract) record, or when
        there are no candidate pairs at all.
    ResourceLimitError
        (a DataValidationError) When there would be more than ``max_pairs`` pairs, or more
        than the memory budget holds.
    """
    budget = default_memory_budget() if memory_budget is None else int(memory_budget)
    byname = {f.name: f for f in fields}
    if held:
        return _held_pairs(byname, fields, passes, n_e, n_a, max_pairs, budget)
    useless = {}
    for i, p in enumerate(passes):
        why = []
        for v in p:
            f = byname[v]
            if (f.codes_a < 0).all():
                why.append(f"`{v}` is missing in every auxiliary record")
            if (f.codes_e < 0).all():
                why.append(f"`{v}` is missing in every extract record")
        if why:
            useless[i] = why
    if len(useless) == len(passes):
        raise DataValidationError(
            "blocking cannot form any block: "
            + "; ".join(sorted({w for ws in useless.values() for w in ws}))
            + ". Block on variables the intruder actually holds."
        )
    n_pass = len(passes)
    eb = np.empty((n_pass, n_e), dtype=np.int64)
    ab = np.empty((n_pass, n_a), dtype=np.int64)
    n_blocks = []
    for i, p in enumerate(passes):
        eb[i], ab[i], nb = pass_block_ids(byname, p, n_e)
        n_blocks.append(nb)
    return _pairs(eb, ab, n_blocks, fields, passes, list(range(n_pass)), max_pairs, budget)


def held_groups(fields, passes, n_a: int):
    """The passes with ``held`` semantics (:func:`candidate_pairs`): one group per pass and set
    of its variables the targets hold, ``(pass index, held variables, targets)`` with
    ``targets`` a boolean mask of the targets holding exactly those of the pass's variables;
    groups whose variables the extract never holds are left out, and at most
    ``MAX_HELD_PASSES`` (the largest) are kept, in pass order. Both engines block on these."""
    byname = {f.name: f for f in fields}
    groups = []
    for i, p in enumerate(passes):
        bits = np.zeros(n_a, dtype=np.int64)
        for j, v in enumerate(p):
            bits |= (byname[v].codes_a >= 0).astype(np.int64) << j
        vals, counts = np.unique(bits[bits > 0], return_counts=True)
        for b, c in zip(vals, counts):
            sub = [v for j, v in enumerate(p) if b >> j & 1]
            if any((byname[v].codes_e < 0).all() for v in sub):
                continue
            groups.append((int(c), i, sub, bits == b))
    if not groups:
        raise DataValidationError(
            "blocking cannot form any block: the targets hold no value of any pass's variables, "
            "or the extract holds none. Block on variables the intruder actually holds.")
    keep = sorted(range(len(groups)), key=lambda g: -groups[g][0])[:MAX_HELD_PASSES]
    return [groups[g][1:] for g in sorted(keep)]


def _held_pairs(byname, fields, passes, n_e, n_a, max_pairs, budget):
    """The passes with ``held`` semantics: one pass per group of targets holding the same pass variables."""
    groups = held_groups(fields, passes, n_a)
    eb = np.empty((len(groups), n_e), dtype=np.int64)
    ab = np.empty((len(groups), n_a), dtype=np.int64)
    n_blocks = []
    for g, (_, sub, who) in enumerate(groups):
        eb[g], a_ids, nb = pass_block_ids(byname, sub, n_e)
        ab[g] = np.where(who, a_ids, -1)
        n_blocks.append(nb)
    return _pairs(eb, ab, n_blocks, fields, passes, [g[0] for g in groups], max_pairs, budget)


def selective_passes(fields, passes, n_e: int) -> list:
    """The passes whose mean block (``sum_k f_k^2 / n`` over the extract) is at most a tenth of
    the extract; when none is, one pass on every variable of the passes."""
    byname = {f.name: f for f in fields}
    keep = []
    for p in passes:
        ids, _, nb = pass_block_ids(byname, p, n_e)
        f = np.bincount(ids[ids >= 0], minlength=nb).astype(np.float64)
        if (f * f).sum() / max(n_e, 1) <= MAX_BLOCK_SHARE * n_e:
            keep.append(list(p))
    if keep:
        return keep
    return [list(dict.fromkeys(v for p in passes for v in p))]


def _pairs(eb, ab, n_blocks, fields, passes, origin, max_pairs, budget):
    """Pairs of the block-id rows ``eb``/``ab``; ``origin[i]``: the scenario pass row ``i`` belongs to."""
    n_pass = eb.shape[0]
    starts_l, order_l, offs = [], [], np.zeros((n_pass, 2), dtype=np.int64)
    s_off = o_off = 0
    own = pass_pair_counts(eb, ab)
    own_by_pass = [0] * len(passes)
    for i, c in enumerate(own):
        own_by_pass[origin[i]] += int(c)
    # the union holds at least the largest pass: refuse before counting it pair by pair
    check_pairs(max(own), fields, passes, max_pairs=max_pairs, memory_budget=budget, per_pass=own_by_pass,
                at_least=n_pass > 1)
    for i, nb in enumerate(n_blocks):
        starts, order = K.block_index(eb[i], np.int64(nb))
        starts_l.append(starts)
        order_l.append(order)
        offs[i] = (s_off, o_off)
        s_off += starts.shape[0]
        o_off += order.shape[0]
    starts = np.concatenate(starts_l)
    order = np.concatenate(order_l)
    counts = K.count_pairs(eb, ab, starts, order, offs)
    total = int(counts.sum())
    if total == 0:
        raise DataValidationError(
            "no candidate pairs: no auxiliary record agrees with any extract record on every "
            f"variable of any blocking pass ({'; '.join(', '.join(p) for p in passes)}). Check that "
            "both tables code the variables the same way, or block on fewer or more robust variables."
        )
    check_pairs(total, fields, passes, max_pairs=max_pairs, memory_budget=budget, per_pass=own_by_pass)
    ptr = np.zeros(ab.shape[1] + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    pe, pp = K.fill_pairs(eb, ab, starts, order, offs, ptr)
    # pairs contributed by each scenario pass (for the report / empty-pass warning)
    found = np.bincount(pp.astype(np.int64), minlength=n_pass)
    per_pass = [0] * len(passes)
    for i in range(n_pass):
        per_pass[origin[i]] += int(found[i])
    empty = [", ".join(passes[i]) for i in range(len(passes)) if per_pass[i] == 0]
    if empty and len(passes) > 1:
        warnings.warn(
            f"blocking pass(es) [{'], ['.join(empty)}] added no candidate pairs (empty blocks)",
            DataQualityWarning, stacklevel=4,
        )
    return ptr, pe, pp, per_pass
