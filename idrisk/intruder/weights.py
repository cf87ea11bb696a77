"""Fellegi-Sunter weight tables: agreement per term frequency or per field, disagreement.

docs/methods.md#fellegi-sunter, docs/methods.md#term-frequency.
"""

from __future__ import annotations

import numpy as np

__all__ = ["weight_tables", "likelihood_tables", "target_offsets"]


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



def likelihood_tables(fields, m, u, shares, scales, only=None):
    """Weight tables of the recording model (docs/methods.md#joint-frequencies).

    An exactly compared field weighs ``log2(m_v / p_v(a))`` on agreement on value ``a`` and
    ``log2((1 - m_v) c_v(a))`` on disagreement (a wrong value is another value drawn from the
    field's distribution; ``c_v`` from :func:`idrisk.intruder.joint.value_scales`); any other
    field ``log2(m_v / u_v)`` and ``log2((1 - m_v) / (1 - u_v))`` (Fellegi-Sunter). The pair
    kernel looks agreement up by the extract record's code (equal to the target's), so the
    agreement table holds ``log2(m_v / (p_v(a) c_v(a)))`` and the target's ``sum_v log2 c_v(a)``
    over its held exact fields is added to each of its pairs (:func:`target_offsets`).
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
            t = np.log2(m[j] / (shares[j] * scales[j]))
            use_tf[j] = True
            dis[j] = np.log2(1.0 - m[j])
        else:
            t = np.array([np.log2(m[j] / u[j])])
            dis[j] = np.log2((1.0 - m[j]) / (1.0 - u[j]))
        tabs.append(np.asarray(t, dtype=np.float64))
        offs[j + 1] = offs[j] + tabs[-1].shape[0]
    return np.concatenate(tabs), offs, use_tf, dis


def target_offsets(fields, scales, only=None):
    """Per target, ``sum_v log2 c_v(a_v)`` over its held exactly compared fields (see :func:`likelihood_tables`)."""
    off = np.zeros(fields[0].codes_a.shape[0])
    for j, f in enumerate(fields):
        if f.kind != "exact" or (only is not None and j not in only):
            continue
        c = f.codes_a
        off += np.where(c >= 0, np.log2(scales[j][np.clip(c, 0, None)]), 0.0)
    return off
