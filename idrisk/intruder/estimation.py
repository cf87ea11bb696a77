"""u estimation for the simulated intruder.

docs/methods.md#em-estimation, docs/methods.md#term-frequency: u from value shares (exact
fields) or random pairs. (m is estimated by the joint model's one-match-per-target EM on an
unblocked sample of targets: :mod:`idrisk.intruder.joint`.)
"""

from __future__ import annotations

import numpy as np

from .compare import compare_field

__all__ = ["frequency_u", "U_SAMPLE"]

#: random pairs used to estimate u of a tolerance or string comparison
U_SAMPLE = 200_000


def frequency_u(fields, rng, n_e, n_a):
    """u_v for scoring: exact fields from value shares, other comparisons by random pairs."""
    u = np.empty(len(fields))
    tf_tabs = []
    for j, f in enumerate(fields):
        nl = max(f.n_levels, 1)
        ce = f.codes_e[f.codes_e >= 0]
        ca = f.codes_a[f.codes_a >= 0]
        pe = np.bincount(ce, minlength=nl) / max(ce.shape[0], 1)
        tf_tabs.append(pe)
        if f.kind == "exact":
            pa = np.bincount(ca, minlength=nl) / max(ca.shape[0], 1)
            u[j] = float(pe @ pa)
        else:
            ns = int(min(U_SAMPLE, n_e * n_a))
            se = rng.integers(0, n_e, size=ns).astype(np.int64)
            sa = rng.integers(0, n_a, size=ns).astype(np.int64)
            g = compare_field(f, se, sa)
            ok = g >= 0
            u[j] = float((g[ok] == 1).mean()) if ok.any() else 0.5
    # a field on which random pairs never (or always) agree still needs a finite weight
    lo = 1.0 / (4.0 * max(n_e, 1) * max(n_a, 1))
    return np.clip(u, lo, 1 - 1e-9), tf_tabs
