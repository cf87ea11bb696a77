"""The population records outside the extract that could be the target: Robbins' estimate on
every subset of the key (docs/methods.md#joint-frequencies).

Without response knowledge the target may be a person the extract does not hold. For every
subset ``A`` of the exactly compared fields, the number of population records outside the
extract that share the target's values on ``A`` is estimated by Robbins' formula on the
extract's classes on ``A`` (Robbins 1956): under Bernoulli sampling with fraction ``pi``,
``E[F - f | f] = (1 - pi)/pi * g(f)`` with ``g(f) = (f + 1) n_{f+1} / n_f`` whatever the
population's class sizes, within any group of classes formed without their own counts. The
groups are the classes of similar *leave-one-field-out* expected size (the records agreeing
with the class on all of ``A`` but one field, scaled by that field's share, plus the
independent-fields expectation): a class whose neighbours are absent from the extract is more
often alone in the population too, and the intruder's claims fall exactly on such classes.
Robbins' estimate conditions on the class size itself, so selecting claims by class sizes
does not bias it (Efron 2011). Moebius inversion over the subsets turns "sharing the target's
values on at least ``A``" into "on exactly ``A``", the agreement pattern whose likelihood ratio
the recording model gives: the unseen neighbours of a rare target (a population record one
recording error away) get their share from the subset tables where the extract shows them.
"""

from __future__ import annotations

import numpy as np

from .._kernels.groups import group_ids

__all__ = ["ROBBINS_MIN", "ROBBINS_GROUPS", "robbins_in_groups", "subset_tables",
           "nonmember_counts", "neighbour_size"]

#: Robbins' ratio ``n_{f+1} / n_f`` is used where ``n_{f+1}`` is at least this (over a group,
#: widened to its neighbouring groups until it is); beyond, ``g(f) = f``. One class of size
#: ``f + 1`` in the window suffices: a higher threshold widens the window of the rarest classes
#: into commoner ones and caps the confidence of a claim on a rare class (at 5, the classes
#: claimed at 0.9 or more without response knowledge were right 97-99 % of the time, stated 0.92)
ROBBINS_MIN = 1
#: groups of classes (by leave-one-field-out expected size) within which Robbins' formula is applied.
#: The claims without response knowledge fall on the classes of the lowest groups, whose outside
#: records a group's mean overstates when the group is wide: with 8 groups, the census teaching
#: file at a sampling fraction of 0.1 with a coarse key stated 233 expected correct claims where
#: 287 were right: claims on a unique record agreeing on every field were stated at 0.58 and right
#: 72 % of the time (odds against 0.71 stated, 0.40 true; the claimed records had 0.39 population
#: twins outside the extract on average). With 16 it states within 10 % in every setting of the
#: calibration grid (benchmarks/calibration.py)
ROBBINS_GROUPS = 16


def robbins_in_groups(sizes, group, width: int, n_groups: int):
    """``g_s(f)``, shape ``(n_groups, width)``: Robbins' ratio over the groups ``s - w .. s + w``
    with the smallest ``w`` at which ``n_{f+1} >= ROBBINS_MIN``; ``g(f) = f`` where all groups
    together fall short. ``sizes`` the class sizes (``< width - 1``), ``group`` each class's group."""
    nf = np.zeros((n_groups, width))
    np.add.at(nf, (group, sizes), 1.0)
    cum = np.vstack([np.zeros((1, width)), np.cumsum(nf, axis=0)])
    f = np.arange(width, dtype=np.float64)
    g = np.tile(f, (n_groups, 1))
    done = np.zeros((n_groups, width), dtype=bool)
    done[:, 0] = True
    s = np.arange(n_groups)
    for w in range(n_groups):
        win = cum[np.minimum(s + w + 1, n_groups)] - cum[np.maximum(s - w, 0)]  # the window's n_f
        ok = np.zeros((n_groups, width), dtype=bool)
        ok[:, :-1] = (win[:, 1:] >= ROBBINS_MIN) & (win[:, :-1] > 0)
        new = ok & ~done
        g[:, :-1] = np.where(new[:, :-1], f[1:] * win[:, 1:] / np.maximum(win[:, :-1], 1.0), g[:, :-1])
        done |= new
        if done.all():
            break
    return g


def neighbour_size(mask: int, size_at, own, odds, log_p, n: float):
    """The leave-one-field-out expected size of a class on subset ``mask``: the mean over its
    fields ``v`` of ``(size on mask without v - own size) * p_v / (1 - p_v)``, plus the
    independent-fields expectation ``n prod_v p_v``. ``size_at(mask')`` gives the sizes on a
    subset, ``odds[v]`` = ``p_v / (1 - p_v)`` and ``log_p[v]`` = ``log p_v`` of the class's values."""
    acc = np.zeros(own.shape[0])
    fields = [v for v in range(odds.shape[0]) if (mask >> v) & 1]
    for v in fields:
        acc += (size_at(mask & ~(1 << v)) - own) * odds[v]
    return acc / max(len(fields), 1) + n * np.exp(log_p[fields].sum(0))


def _value_terms(codes, shares, n):
    """Per field and record (or target): ``(odds, log p, present)`` of its value."""
    present = codes >= 0
    cc = np.clip(codes, 0, None)
    p = np.vstack([np.where(present[v], shares[v][cc[v]], 0.0) for v in range(codes.shape[0])]) \
        if codes.shape[0] else np.zeros((0, codes.shape[1]))
    odds = p / np.maximum(1.0 - p, 0.5 / max(n, 1.0))
    return odds, np.log(np.where(present, p, 1.0)), present


def subset_tables(codes_e: np.ndarray, n_levels, shares):
    """``(tables, w)``. ``tables[A]`` per subset ``A`` (bit mask) of the ``k`` fields of
    ``codes_e`` (``(k, n_e)``, ``-1`` missing): ``(edges, g_s, g0)``, the groups' edges on the log
    of the leave-one-field-out expected size, Robbins' ``g_s(f)`` per group
    (:func:`robbins_in_groups`) and ``g(0) = n_1 / n_0`` for a class the extract does not show
    (``n_0`` the cells of ``A``'s table without a record; 0 where ``n_1 < ROBBINS_MIN``); None
    where no record has every field of ``A``. ``A`` empty: every record, ``g(n) = n``.
    ``w``: per extract record ``g(f)/f`` of its class on all ``k`` fields (0 for a record
    missing one)."""
    k, n_e = codes_e.shape
    odds, log_p, present = _value_terms(codes_e, shares, n_e)
    sizes_of = {0: np.full(n_e, float(n_e))}
    tables = {0: (np.zeros(0), np.arange(n_e + 1, dtype=np.float64)[None, :], 0.0)}
    w = np.ones(n_e) if k == 0 else np.zeros(n_e)
    for mask in sorted(range(1, 1 << k), key=lambda x: (bin(x).count("1"), x)):
        fs = [v for v in range(k) if (mask >> v) & 1]
        for old in [mm for mm in sizes_of if bin(mm).count("1") < len(fs) - 1]:
            del sizes_of[old]  # only the level below is read: memory of two levels, not 2^k
        keep = present[fs].all(0)
        size = np.zeros(n_e)
        sizes_of[mask] = size
        tables[mask] = None
        if not keep.any():
            continue
        sub = np.ascontiguousarray(codes_e[fs][:, keep])
        cards = np.maximum(sub.max(1).astype(np.int64) + 1, 1)
        gid, sizes = group_ids(sub, cards)
        size[keep] = sizes[gid]
        nf = np.bincount(sizes, minlength=int(sizes.max()) + 2).astype(np.float64)
        cells = 1.0
        for i, v in enumerate(fs):
            cells *= float(max(int(n_levels[v]), int(cards[i])))
        n0 = cells - float(sizes.shape[0])
        g0 = float(nf[1] / n0) if (n0 > 0 and nf[1] >= ROBBINS_MIN) else 0.0
        rec = np.flatnonzero(keep)
        first = np.full(sizes.shape[0], -1, dtype=np.int64)
        first[gid[::-1]] = rec[::-1]
        x = neighbour_size(mask, lambda mm: sizes_of[mm][first], size[first], odds[:, first], log_p[:, first], n_e)
        lx = np.log(np.maximum(x, 1e-300))
        edges = np.quantile(lx, np.linspace(0, 1, ROBBINS_GROUPS + 1)[1:-1])
        group = np.searchsorted(edges, lx, side="right")
        g_s = robbins_in_groups(sizes, group, nf.shape[0], ROBBINS_GROUPS)
        tables[mask] = (edges, g_s, g0)
        if mask == (1 << k) - 1:
            w[rec] = g_s[group[gid], sizes[gid]] / sizes[gid]
    return [tables[m] for m in range(1 << k)], w


def nonmember_counts(tables, N, codes_a, shares, bits):
    """``G``, shape ``(n_a, 2^k)``: per target and subset ``A``, Robbins' ``g`` at the target's
    class size on ``A`` (``N[:, A]``, the extract records agreeing with it there) in the group of
    its leave-one-field-out expected size, ``g(0)`` where the extract has no such record, 0
    where the target lacks a value of ``A``; ``A`` empty: ``n``."""
    n = float(N[0, 0]) if N.shape[0] else 0.0
    odds, log_p, held = _value_terms(codes_a, shares, n)
    G = np.zeros_like(N)
    for mask, entry in enumerate(tables):
        if mask == 0:
            G[:, 0] = N[:, 0]
            continue
        if entry is None:
            continue
        edges, g_s, g0 = entry
        ok = held[bits[mask] > 0].all(0)
        own = N[:, mask]
        x = neighbour_size(mask, lambda mm: N[:, mm], own, odds, log_p, n)
        group = np.searchsorted(edges, np.log(np.maximum(x, 1e-300)), side="right")
        f = np.minimum(own.astype(np.int64), g_s.shape[1] - 1)
        G[:, mask] = np.where(ok, np.where(f > 0, g_s[group, f], g0), 0.0)
    return G
