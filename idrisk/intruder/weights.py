"""Fellegi-Sunter weight tables: agreement per term frequency or per field, disagreement.

docs/methods.md#fellegi-sunter, docs/methods.md#term-frequency.
"""

from __future__ import annotations

import numpy as np

__all__ = ["weight_tables"]


def weight_tables(fields, scenario, m, u, tf_tabs, n_e):
    """Agreement tables (term-frequency per code, or one constant) and disagreement weights."""
    k = len(fields)
    use_tf = np.zeros(k, dtype=np.bool_)
    tabs, offs = [], np.zeros(k + 1, dtype=np.int64)
    for j, f in enumerate(fields):
        if scenario.term_frequency and f.kind == "exact":
            p = tf_tabs[j]
            t = np.log2(m[j]) - np.log2(np.where(p > 0, p, 1.0 / max(n_e, 1)))
            use_tf[j] = True
        else:
            t = np.array([np.log2(m[j] / u[j])])
        tabs.append(t.astype(np.float64))
        offs[j + 1] = offs[j] + t.shape[0]
    return np.concatenate(tabs), offs, use_tf, np.log2((1 - m) / (1 - u))

