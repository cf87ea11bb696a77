"""Slow, obviously correct references for SUDA and the QI-combination sweep (no numba, no idrisk).

MSUs by brute force over every subset of columns (docs/methods.md#suda; Elliot, Manning &
Ford 2002):
a record's itemset on columns ``S`` is unique when no other record has the same non-missing
values on ``S``; it is an MSU when it is unique, the record has no missing value on ``S``,
and no ``S`` minus one column is unique. A missing value never matches anything.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pandas as pd


def _cell(v):
    return None if pd.isna(v) else v


def msus(df: pd.DataFrame, qis, max_size=None):
    """{row position: [tuple of column names, ...]} of every record's MSUs."""
    rows = [tuple(_cell(v) for v in r) for r in df[list(qis)].itertuples(index=False)]
    m = len(qis)
    max_size = m if max_size is None else min(max_size, m)
    unique = {}  # (subset of column positions) -> set of unique row positions
    for k in range(1, m + 1):
        for S in itertools.combinations(range(m), k):
            keys = [tuple(r[j] for j in S) if all(r[j] is not None for j in S) else None for r in rows]
            counts = Counter(key for key in keys if key is not None)
            unique[S] = {i for i, key in enumerate(keys) if key is not None and counts[key] == 1}
    out = {i: [] for i in range(len(rows))}
    for k in range(1, max_size + 1):
        for S in itertools.combinations(range(m), k):
            for i in unique[S]:
                if all(i not in unique[tuple(x for x in S if x != y)] for y in S if k > 1):
                    out[i].append(tuple(qis[j] for j in S))
    return out


def weights(m, score="sdcmicro"):
    big_m = max(m, 3)
    if score == "sdcmicro":
        return {k: math.factorial(big_m - k) for k in range(1, m + 1)}
    return {k: (2 ** (big_m - k) - 1) * math.factorial(k) * math.factorial(big_m - k) / math.factorial(big_m)
            for k in range(1, m + 1)}


def suda(df: pd.DataFrame, qis, max_size=None, sampling_fraction=0.01, score="sdcmicro"):
    """Per-record DataFrame (positional index) with score, dis_score, contributions, MSU counts."""
    qis = list(qis)
    m = len(qis)
    found = msus(df, qis, max_size)
    wt = weights(m, score)
    n = len(df)
    res = pd.DataFrame(index=range(n))
    sc = np.zeros(n)
    contrib = {q: np.zeros(n) for q in qis}
    cap = m if max_size is None else min(max_size, m)
    sizes = {k: np.zeros(n, dtype=int) for k in range(1, cap + 1)}
    min_size = [None] * n
    for i, lst in found.items():
        for S in lst:
            sc[i] += wt[len(S)]
            sizes[len(S)][i] += 1
            for q in S:
                contrib[q][i] += wt[len(S)]
        if lst:
            min_size[i] = min(len(S) for S in lst)
    # full-key classes, missing compared as a value
    keys = [tuple("<NA>" if pd.isna(v) else v for v in r) for r in df[qis].itertuples(index=False)]
    fk = Counter(keys)
    n_pairs = sum(1 for key in keys if fk[key] == 2)
    big_m = max(m, 3)
    q = 1 + (8 - big_m) / 20
    a = sum(s ** -q for s in sc if s > 0)
    dis = np.zeros(n)
    for i in range(n):
        if sc[i] > 0:
            dis[i] = 1 / (1 + n_pairs * (1 - sampling_fraction) / sampling_fraction / (sc[i] ** q * a))
    res["score"] = sc
    res["dis_score"] = dis
    for qn in qis:
        res[f"{qn}_contribution"] = [contrib[qn][i] / sc[i] if sc[i] > 0 else 0.0 for i in range(n)]
    for k in range(1, cap + 1):
        res[f"msu_size_{k}"] = sizes[k]
    res["min_msu_size"] = pd.array(min_size, dtype="Int64")
    return res


def attribute_contributions(df, qis, per_record):
    """sdcMicro's two aggregate tables from a per-record result of :func:`suda`."""
    sc = per_record["score"].to_numpy()
    total = sc.sum()
    attr = {q: 100 * (per_record[f"{q}_contribution"] * sc).sum() / total if total > 0 else float("nan")
            for q in qis}
    levels = []
    for q in qis:
        cs = (per_record[f"{q}_contribution"] * sc).to_numpy()
        col = df[q].reset_index(drop=True)
        tot = cs.sum()
        for v in sorted(col.dropna().unique()):
            part = cs[(col == v).to_numpy()].sum()
            levels.append((q, v, 100 * part / tot if tot > 0 else float("nan")))
    return attr, levels


def combination_sweep(df: pd.DataFrame, qis, max_size=None, k=(2, 3, 5, 10)):
    """A pandas loop over every QI subset (missing values are one more category)."""
    qis = list(qis)
    max_size = len(qis) if max_size is None else min(max_size, len(qis))
    out = []
    for size in range(1, max_size + 1):
        for S in itertools.combinations(qis, size):
            fk = df.groupby(list(S), dropna=False, sort=False)[list(S)[0]].transform("size")
            fk = fk.to_numpy()
            sizes = df.groupby(list(S), dropna=False, sort=False).size().to_numpy()
            row = {"quasi_identifiers": S, "size": size, "n_classes": len(sizes),
                   "sample_uniques": int((fk == 1).sum())}
            for kk in sorted(set(k)):
                row[f"records_below_{kk}"] = int((fk < kk).sum())
            row["smallest_class"] = int(sizes.min())
            out.append(row)
    return pd.DataFrame(out)
