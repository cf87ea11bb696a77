"""Sample and population frequencies of each record's key: ``fk`` and ``Fk``.

``fk`` is the number of records that match record r on the quasi-identifiers (QIs) and
``Fk`` the sum of their sampling weights (the estimated population frequency; ``Fk = fk``
without weights). How a missing value matches is the *missing-value convention*:

``"category"``
    A missing value is one more category: ``NA == NA`` and ``NA != value``. Classes
    partition the data (``groupby(dropna=False)``; sdcMicro's ``ldiversity`` grouping).
``"wildcard"``
    sdcMicro ``freqCalc`` semantics (sdcMicro 5.8.1, verified against its outputs): a
    missing value stands for any category, asymmetrically. With ``c(r, s)`` the
    contribution of record s to record r:

    ==================  ==============  ===========  =====================  ==============
    r \\ s               same key as r   s complete   s some (not all) NA    s all NA
    ==================  ==============  ===========  =====================  ==============
    r complete           1               0            alpha if compatible    0
    r some NA            1               1 if compat.  alpha if compatible    alpha
    r all NA             fk = n, Fk = sum of all weights (alpha ignored)
    ==================  ==============  ===========  =====================  ==============

    "Compatible" means equal on every QI where neither is missing; "same key" means
    identical values and identical missing positions. With a single QI, complete
    records get their own class plus ``alpha`` times the number of missing records.
``"never"``
    A missing value matches nothing, not even another missing value: a record with a
    missing QI is alone in its class (the convention of SUDA's itemsets).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._encode import Encoded, encode
from .._kernels.groups import gather, group_ids, group_sums
from .._validation import as_frame, check_columns, check_fraction, check_missing, check_weights

__all__ = ["frequencies", "class_ids", "frequency_arrays"]


def _prepare(data, quasi_identifiers):
    if isinstance(data, Encoded):
        enc = data.subset(check_columns_enc(data, quasi_identifiers))
        return None, enc
    frame = as_frame(data)
    qis = check_columns(frame, quasi_identifiers)
    return frame, encode(frame, qis)


def check_columns_enc(enc: Encoded, qis):
    from .._validation import as_column_list
    from ..exceptions import DataValidationError

    cols = as_column_list(qis, role="quasi-identifier")
    missing = [str(c) for c in cols if c not in enc.codes]
    if missing:
        raise DataValidationError(f"quasi-identifier columns not found in the data: {', '.join(missing)}")
    return cols


def class_ids(enc: Encoded, qis, missing: str = "category"):
    """Dense equivalence-class ids and sizes over ``qis`` (``"category"`` or ``"never"``).

    Returns ``(gid, sizes)``; with ``"never"`` every record with a missing QI is its own class.
    """
    check_missing(missing)
    if missing == "wildcard":
        raise ValueError("wildcard matching does not partition records into classes")
    mat, cards = enc.codes_for(qis, "category")
    if missing == "category":
        return group_ids(mat, cards)
    anymiss = np.zeros(enc.n_rows, dtype=bool)
    for c in qis:
        anymiss |= enc.codes[c] < 0
    if not anymiss.any():
        return group_ids(mat, cards)
    # rows with a missing value get a unique extra code on a synthetic column
    extra = np.zeros(enc.n_rows, dtype=np.int32)
    extra[anymiss] = np.arange(1, int(anymiss.sum()) + 1, dtype=np.int32)
    mat = np.vstack([mat, extra[None, :]])
    cards = np.append(cards, int(anymiss.sum()) + 1)
    return group_ids(mat, cards)


def _wildcard(enc: Encoded, qis, w: np.ndarray | None, alpha: float):
    """fk and Fk under sdcMicro freqCalc's asymmetric wildcard rule (see module docstring)."""
    n = enc.n_rows
    m = len(qis)
    wt = np.ones(n) if w is None else w
    miss = np.vstack([enc.codes[c] < 0 for c in qis])  # (m, n)
    n_miss = miss.sum(axis=0)
    complete = n_miss == 0
    allna = n_miss == m
    some = ~complete & ~allna
    fk = np.zeros(n, dtype=np.float64)
    Fk = np.zeros(n, dtype=np.float64)
    total_w = float(wt.sum())

    # same key (identical values and NA positions) counts 1 for everyone
    gid, sizes = class_ids(enc, qis, "category")
    wsum = group_sums(gid, len(sizes), wt)
    fk += sizes[gid]
    Fk += wsum[gid]

    if m == 1:
        # one key variable: NA records match everything, complete records get alpha * #NA
        n_na = int(allna.sum())
        w_na = float(wt[allna].sum())
        fk[complete] += alpha * n_na
        Fk[complete] += alpha * w_na
        fk[allna] = n
        Fk[allna] = total_w
        return fk, Fk

    some_idx = np.flatnonzero(some)
    if some_idx.size:
        # distinct NA patterns among the some-NA records
        patterns, pat_of = np.unique(miss[:, some_idx].T, axis=0, return_inverse=True)
        pat_of = pat_of.ravel()
        members = [some_idx[pat_of == p] for p in range(len(patterns))]
        mat_cat, cards_cat = enc.codes_for(qis, "category")
        comp_idx = np.flatnonzero(complete)
        for p, pat in enumerate(patterns):
            obs = np.flatnonzero(~pat)
            rows_p = members[p]
            # complete records vs pattern-p records, on the variables p observes
            if comp_idx.size:
                rows = np.concatenate([comp_idx, rows_p])
                g, sz = group_ids(mat_cat[np.ix_(obs, rows)], cards_cat[obs])
                nc = len(comp_idx)
                ng = len(sz)
                cnt_c = np.bincount(g[:nc], minlength=ng).astype(np.float64)
                w_c = np.bincount(g[:nc], weights=wt[comp_idx], minlength=ng)
                cnt_p = np.bincount(g[nc:], minlength=ng).astype(np.float64)
                w_p = np.bincount(g[nc:], weights=wt[rows_p], minlength=ng)
                # some-NA r gets every compatible complete record at full weight
                fk[rows_p] += cnt_c[g[nc:]]
                Fk[rows_p] += w_c[g[nc:]]
                # complete r gets alpha per compatible pattern-p record
                fk[comp_idx] += alpha * cnt_p[g[:nc]]
                Fk[comp_idx] += alpha * w_p[g[:nc]]
            # some-NA r vs some-NA s of another pattern q: alpha if compatible
            for q in range(len(patterns)):
                if q == p:
                    continue
                both = np.flatnonzero(~pat & ~patterns[q])
                rows_q = members[q]
                if both.size == 0:
                    fk[rows_p] += alpha * len(rows_q)
                    Fk[rows_p] += alpha * float(wt[rows_q].sum())
                    continue
                rows = np.concatenate([rows_p, rows_q])
                g, sz = group_ids(mat_cat[np.ix_(both, rows)], cards_cat[both])
                npp = len(rows_p)
                cnt_q = np.bincount(g[npp:], minlength=len(sz)).astype(np.float64)
                w_q = np.bincount(g[npp:], weights=wt[rows_q], minlength=len(sz))
                fk[rows_p] += alpha * cnt_q[g[:npp]]
                Fk[rows_p] += alpha * w_q[g[:npp]]
        # some-NA r gets alpha per all-NA record
        n_all = int(allna.sum())
        if n_all:
            fk[some_idx] += alpha * n_all
            Fk[some_idx] += alpha * float(wt[allna].sum())
    fk[allna] = n
    Fk[allna] = total_w
    return fk, Fk


def frequency_arrays(enc: Encoded, qis, *, weights: np.ndarray | None = None,
                     missing: str = "category", alpha: float = 1.0):
    """``(fk, Fk)`` as NumPy arrays for already encoded data (no validation of ``enc``).

    ``fk`` is int64 unless ``missing="wildcard"`` with ``alpha < 1`` (then float64).
    ``Fk`` is float64 when weights are given, else equal to ``fk``.
    """
    check_missing(missing)
    has_na = any(enc.codes[c].min() < 0 for c in qis)
    if missing == "wildcard" and has_na:
        fk, Fk = _wildcard(enc, qis, weights, alpha)
        if alpha == 1.0:
            fk = fk.astype(np.int64)
        if weights is None:
            Fk = fk.copy()
        return fk, Fk
    gid, sizes = class_ids(enc, qis, "never" if missing == "never" else "category")
    fk = gather(sizes, gid)
    if weights is None:
        return fk, fk.copy()
    Fk = gather(group_sums(gid, len(sizes), weights), gid)
    return fk, Fk


def frequencies(data, quasi_identifiers, *, weights=None, missing: str = "category",
                alpha: float = 1.0) -> pd.DataFrame:
    """Sample frequency ``fk`` and weighted frequency ``Fk`` of every record's key.

    Matches sdcMicro ``freqCalc(x, keyVars, w, alpha)`` with ``missing="wildcard"``
    (sdcMicro's only convention) on every reference file; the other conventions are
    described in the module docstring. One difference on purpose: sdcMicro turns
    *character* key columns into all-missing (``as.numeric``), so every record gets
    ``fk = n``; idrisk compares strings as categories.

    Parameters
    ----------
    data : pandas.DataFrame, pyarrow/polars table, or :class:`idrisk.Encoded`
        One row per record. Not modified.
    quasi_identifiers : sequence of str
        The key: columns an intruder could know.
    weights : str or array-like, optional
        Sampling weights (column name or one value per row): ``Fk`` is their sum over
        the matching records. Must be finite and non-negative; below 1 is warned about.
    missing : {"category", "wildcard", "never"}, default "category"
    alpha : float in [0, 1], default 1
        sdcMicro's down-weighting of matches that involve another record's missing
        values (``"wildcard"`` only).

    Returns
    -------
    pandas.DataFrame indexed like ``data`` with columns ``fk`` and ``Fk``.

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"sex": ["F", "F", "M"], "yob": [2012, 2012, 2013]})
    >>> idrisk.frequencies(df, ["sex", "yob"])["fk"].tolist()
    [2, 2, 1]
    """
    check_missing(missing)
    alpha = check_fraction(alpha, name="alpha")
    frame, enc = _prepare(data, quasi_identifiers)
    qis = list(enc.names)
    w = check_weights(frame, weights) if (frame is not None and weights is not None) else (
        None if weights is None else np.asarray(weights, dtype=np.float64))
    fk, Fk = frequency_arrays(enc, qis, weights=w, missing=missing, alpha=alpha)
    return pd.DataFrame({"fk": fk, "Fk": Fk if w is not None else Fk.astype(fk.dtype)},
                        index=enc.index)
