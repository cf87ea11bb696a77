"""Slow, obviously correct references for k-anonymity, l-diversity, t-closeness and sample risks.

Pure Python over the raw values (no numba, no idrisk internals): every record's key is a
tuple of its QI values, classes are dictionaries of keys, and every formula is written
out term by term from its definition (docs/methods.md#k-anonymity, #l-diversity,
#t-closeness and #attacker-models; tests/peer/arx/README.md).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import pandas as pd


class _NA:
    """Stands for a missing value; all instances are equal (missing as a category)."""

    def __eq__(self, other):
        return isinstance(other, _NA)

    def __hash__(self):
        return 7

    def __repr__(self):
        return "NA"


class _Unique:
    """A missing value that equals nothing else (missing="never")."""

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)


def _is_na(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def keys(df: pd.DataFrame, qis, missing="category"):
    """One tuple per record; missing values are NA (category) or a fresh object (never)."""
    out = []
    for row in df[list(qis)].itertuples(index=False, name=None):
        if missing == "never" and any(_is_na(v) for v in row):
            out.append((_Unique(),))
        else:
            out.append(tuple(_NA() if _is_na(v) else v for v in row))
    return out


def class_sizes(df, qis, missing="category"):
    ks = keys(df, qis, missing)
    cnt = Counter(ks)
    return [cnt[k] for k in ks]


def wildcard_fk(df, qis):
    """sdcMicro freqCalc fk with alpha = 1, pair by pair (sdcmicro-definitions.md table,
    including its special case of exactly one key variable)."""
    rows = [tuple(None if _is_na(v) else v for v in r) for r in df[list(qis)].itertuples(index=False, name=None)]
    n, m = len(rows), len(qis)
    out = []
    for r in rows:
        nr = sum(v is None for v in r)
        if nr == m:
            out.append(n)
            continue
        f = 0
        for s in rows:
            ns = sum(v is None for v in s)
            same = all((a is None and b is None) or (a is not None and b is not None and a == b) for a, b in zip(r, s))
            compat = all(a is None or b is None or a == b for a, b in zip(r, s))
            if same:
                f += 1
            elif not compat:
                continue
            elif nr == 0:  # r complete: counts partly-missing s; all-missing s only when m == 1
                f += 1 if (0 < ns < m or m == 1) else 0
            else:  # r has some NA
                f += 1
        out.append(f)
    return out


def class_weight_sums(df, qis, weights, missing="category"):
    """Fk: the sum of the weights of the record's class (exact matching)."""
    ks = keys(df, qis, missing)
    tot = defaultdict(float)
    for k, w in zip(ks, weights):
        tot[k] += w
    return [tot[k] for k in ks]


def k_summary(df, qis, ks, missing="category"):
    fk = wildcard_fk(df, qis) if missing == "wildcard" else class_sizes(df, qis, missing)
    kk = keys(df, qis, "category" if missing == "wildcard" else missing)
    classes = {}
    for key, f in zip(kk, fk):
        classes[key] = f
    if missing == "wildcard":
        hist = dict(sorted(Counter(fk).items()))
    else:
        hist = dict(sorted(Counter(classes.values()).items()))
    return {
        "n_records": len(fk),
        "n_classes": len(classes),
        "min_class_size": min(fk),
        "class_size_histogram": hist,
        "records_below_k": {k: sum(f < k for f in fk) for k in ks},
        "n1": sum(f == 1 for f in fk),
        "n2": sum(f == 2 for f in fk),
        "fk": fk,
    }


def _members(df, qis, missing):
    ks = keys(df, qis, missing)
    groups = defaultdict(list)
    for i, k in enumerate(ks):
        groups[k].append(i)
    return ks, groups


def ldiversity(df, qis, sens, c=2.0, missing="category", sensitive_na="distinct", missing_code=None):
    """Per-record distinct / entropy / recursive, sdcMicro rules, written out."""
    ks, groups = _members(df, qis, missing)
    out = {}
    for s in sens:
        vals = df[s].tolist()
        per_class = {}
        for key, idx in groups.items():
            f = len(idx)
            cats = Counter()
            n_na = 0
            n_mc = 0
            for i in idx:
                v = vals[i]
                if _is_na(v):
                    if sensitive_na == "distinct":
                        n_na += 1
                    else:
                        cats["<NA>"] += 1
                elif missing_code is not None and v == missing_code:
                    n_mc += 1
                else:
                    cats[v] += 1
            counts = list(cats.values()) + [1] * n_na  # every NA a category of one
            m = len(counts)
            distinct = m + (1 if (n_mc > 0 and m > 0) else 0)
            probs = [x / f for x in counts] + ([n_mc / f] if (n_mc > 0 and m > 0) else [])
            entropy = math.exp(-sum(p * math.log(p) for p in probs))
            r = sorted(counts, reverse=True)
            if m == 0:
                rec = 0
            elif m == 1:
                rec = 1
            else:
                rec = 1
                for ell in range(2, m + 1):
                    if r[0] < c * sum(r[ell - 1:]):
                        rec = ell
            per_class[key] = (distinct, entropy, rec)
        out[f"{s}_distinct"] = [per_class[k][0] for k in ks]
        out[f"{s}_entropy"] = [per_class[k][1] for k in ks]
        out[f"{s}_recursive"] = [per_class[k][2] for k in ks]
    return out


def tcloseness(df, qis, s, distance="equal", order=None, missing="category"):
    """Per-class EMD, classes in order of first appearance: list of (size, distance)."""
    ks, groups = _members(df, qis, missing)
    vals = ["<NA>" if _is_na(v) else v for v in df[s].tolist()]
    n = len(vals)
    if distance == "equal":
        domain = list(dict.fromkeys(vals))
    elif order is not None:
        domain = sorted(set(vals), key=order.index)
    else:
        domain = sorted(set(vals))
    q = {v: vals.count(v) / n for v in domain}
    out = []
    seen = []
    for k in ks:
        if k not in seen:
            seen.append(k)
    for k in seen:
        idx = groups[k]
        p = Counter(vals[i] for i in idx)
        f = len(idx)
        if distance == "equal":
            d = sum(abs(p[v] / f - q[v]) for v in domain) / 2
        else:
            m = len(domain)
            cum, d = 0.0, 0.0
            for v in domain:
                cum += p[v] / f - q[v]
                d += abs(cum)
            d = d / (m - 1) if m > 1 else 0.0
        out.append((f, d))
    return out


def sample_risks(df, qis, thresholds, population=None, missing="category"):
    """ARX sample risks and summaries from per-record class sizes (README formulas)."""
    ks, groups = _members(df, qis, missing)
    n = len(ks)
    f = {k: len(v) for k, v in groups.items()}
    u = len(f)
    sizes = list(f.values())
    if population is None:
        F = dict(f)
    else:
        pk = Counter(keys(population, qis, missing))
        F = {k: pk[k] for k in f}
    out = {
        "average_risk": u / n,
        "highest_risk": 1 / min(sizes),
        "fraction_highest_risk": sum(x for x in sizes if x == min(sizes)) / n,
        "lowest_risk": 1 / max(sizes),
        "fraction_lowest_risk": sum(x for x in sizes if x == max(sizes)) / n,
        "sample_uniques": sum(x == 1 for x in sizes),
        "records_at_risk": {t: sum(f[k] for k in f if 1 / f[k] > t) / n for t in thresholds},
        "journalist_records_at_risk": {t: sum(f[k] for k in f if 1 / F[k] > t) / n for t in thresholds},
        "journalist_highest": 1 / min(F.values()),
        "journalist_lowest": 1 / max(F.values()),
        "marketer": sum(f[k] / F[k] for k in f) / n,
    }
    out["journalist_success"] = max(u / sum(F.values()), out["marketer"])
    out["distinction"] = u / n
    pairs = n * (n - 1) / 2
    same = sum(1 for i in range(n) for j in range(i + 1, n) if ks[i] == ks[j])
    out["separation"] = (pairs - same) / pairs if pairs else 0.0
    return out


# ---------------------------------------------------------------------------------------
# random frames for hypothesis tests
# ---------------------------------------------------------------------------------------

def frames(max_rows=30, max_qis=4, max_card=4, sensitive=True, na=True, n_qis=None):
    """Hypothesis strategy: (frame, qis, sens) with mixed column kinds, missing values
    and a default, shuffled, non-unique, filtered or string index."""
    import numpy as np
    from hypothesis import strategies as st

    @st.composite
    def _frames(draw):
        n = draw(st.integers(1, max_rows))
        m = n_qis if n_qis is not None else draw(st.integers(1, max_qis))
        cols = {}
        for j in range(m + (1 if sensitive else 0)):
            card = draw(st.integers(1, max_card))
            codes = draw(st.lists(st.integers(0, card - 1), min_size=n, max_size=n))
            kind = draw(st.sampled_from(["int", "str", "float", "category"]))
            miss = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if (na and draw(st.booleans())) else [False] * n
            if kind == "int" and not any(miss):
                col = pd.Series(np.array(codes, dtype=np.int64) * 3 - 2)
            elif kind in ("int", "float"):
                col = pd.Series([np.nan if mi else float(c) / 2 for c, mi in zip(codes, miss)])
            elif kind == "str":
                col = pd.Series([None if mi else f"v{c}" for c, mi in zip(codes, miss)], dtype=object)
            else:
                col = pd.Series(pd.Categorical([None if mi else f"c{c}" for c, mi in zip(codes, miss)],
                                               categories=[f"c{c}" for c in range(card + 1)]))
            name = f"s" if (sensitive and j == m) else f"q{j}"
            cols[name] = col
        df = pd.DataFrame(cols)
        how = draw(st.sampled_from(["default", "shuffled", "nonunique", "filtered", "str"]))
        if how == "shuffled":
            df.index = list(reversed(range(n)))
        elif how == "nonunique":
            df.index = [i // 2 for i in range(n)]
        elif how == "filtered":
            df.index = [3 * i + 5 for i in range(n)]
        elif how == "str":
            df.index = [f"r{i}" for i in range(n)]
        qis = [f"q{j}" for j in range(m)]
        return df, qis, ("s" if sensitive else None)

    return _frames()
