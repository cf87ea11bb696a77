"""The exact-match intruder: the simplest real one, run beside every scenario.

docs/methods.md#exact-match-baseline. A target is claimed when the values the intruder
holds for it (its non-missing quasi-identifiers, compared for equality whatever the
scenario's comparison) match exactly one extract record; the claim is that record. A target
holding no value is never claimed. The decision figures take whichever of this intruder and
the simulated one finds more correct claims (:func:`idrisk.intruder.score.score_claims`).
"""

from __future__ import annotations

import numpy as np

from .._kernels.groups import group_ids

__all__ = ["exact_match_claims", "exact_match_rows"]


def exact_match_claims(fields, truth) -> tuple[int, int]:
    """``(claims, correct)`` of the exact-match intruder."""
    rows = exact_match_rows(fields)
    claimed = rows >= 0
    return int(claimed.sum()), int((claimed & (rows == truth)).sum())


def exact_match_rows(fields) -> np.ndarray:
    """Per target, the one extract row matching every value it holds, else -1 (targets grouped by
    the fields they hold)."""
    n_a = fields[0].codes_a.shape[0]
    out = np.full(n_a, -1, dtype=np.int64)
    held = np.vstack([f.codes_a >= 0 for f in fields])  # (k, n_a)
    pattern = (held.astype(np.int64) << np.arange(len(fields))[:, None]).sum(0)
    for pat in np.unique(pattern):
        rows = np.flatnonzero(pattern == pat)
        cols = [j for j in range(len(fields)) if pat >> j & 1]
        if not cols:
            continue
        ce = np.vstack([fields[j].codes_e for j in cols]).astype(np.int64)
        ca = np.vstack([fields[j].codes_a[rows] for j in cols]).astype(np.int64)
        ok_e = (ce >= 0).all(0)
        mat = np.concatenate([ce[:, ok_e], ca], axis=1).astype(np.int32)
        cards = np.array([max(fields[j].n_levels, 1) for j in cols], dtype=np.int64)
        gid, _ = group_ids(mat, cards)
        n_ok = int(ok_e.sum())
        ge, ga = gid[:n_ok], gid[n_ok:]
        cnt = np.bincount(ge, minlength=int(gid.max()) + 1)
        row_of = np.full(cnt.shape[0], -1, dtype=np.int64)
        row_of[ge] = np.flatnonzero(ok_e)
        unique = cnt[ga] == 1
        out[rows[unique]] = row_of[ga[unique]]
    return out
