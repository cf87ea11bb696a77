"""Fellegi-Sunter weight tables: agreement per term frequency or per field, disagreement.

docs/methods.md#fellegi-sunter, docs/methods.md#term-frequency.
"""

from __future__ import annotations

import numpy as np

__all__ = ["weight_tables", "likelihood_tables"]


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



def likelihood_tables(fields, joint_cols, m, u, tf_tabs, n_e, only=None):
    """Weight tables of the recording model (docs/methods.md#joint-frequencies).

    An exactly compared field weighs ``log2(m_v / p_v(a) + 1 - m_v)`` on agreement on value
    ``a`` and ``log2(1 - m_v)`` on disagreement; any other field ``log2(m_v / u_v)`` and
    ``log2((1 - m_v) / (1 - u_v))`` (Fellegi-Sunter). Each field's factor averages 1 over
    records drawn at random, so records outside the candidates weigh 1 per such field.
    ``only``: indices of the fields that weigh (the others weigh 0).
    """
    k = len(fields)
    use_tf = np.zeros(k, dtype=np.bool_)
    tabs, offs = [], np.zeros(k + 1, dtype=np.int64)
    dis = np.zeros(k)
    for j, f in enumerate(fields):
        if only is not None and j not in only:
            t = np.zeros(1)
        elif f.kind == "exact":
            p = tf_tabs[j]
            p = np.where(p > 0, p, 0.5 / max(n_e, 1))
            t = np.log2(m[j] / p + 1.0 - m[j])
            use_tf[j] = True
            dis[j] = np.log2(1.0 - m[j])
        else:
            t = np.array([np.log2(m[j] / u[j])])
            dis[j] = np.log2((1.0 - m[j]) / (1.0 - u[j]))
        tabs.append(np.asarray(t, dtype=np.float64))
        offs[j + 1] = offs[j] + tabs[-1].shape[0]
    return np.concatenate(tabs), offs, use_tf, dis
