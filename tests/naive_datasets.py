"""Slow, obviously-correct reference implementations for idrisk.datasets (tests only).

No numpy vectorisation tricks and no idrisk internals: plain loops over rows / schools.
"""

from __future__ import annotations

import math

import pandas as pd


def draw_by_group(u, probs, group):
    """Inverse-CDF draw per row: the first category whose cumulative probability exceeds u."""
    out = []
    for ui, g in zip(u, group):
        row = [float(p) for p in probs[g]]
        total = sum(row)
        acc = 0.0
        chosen = None
        last_positive = max(k for k, p in enumerate(row) if p > 0)
        for k, p in enumerate(row):
            acc += p / total
            if p > 0 and ui < acc:
                chosen = k
                break
        out.append(last_positive if chosen is None else chosen)
    return out


def largest_remainder(total, shares):
    """Hamilton apportionment; ties broken by lower index first."""
    s = sum(shares)
    raw = [total * x / s for x in shares]
    base = [math.floor(r) for r in raw]
    rest = total - sum(base)
    order = sorted(range(len(shares)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[:rest]:
        base[i] += 1
    return base


def school_table(population: pd.DataFrame, min_cohort: int = 6) -> dict:
    """urn -> dict of *unrounded* published figures (None = suppressed), school by school."""
    out = {}
    for urn in sorted(set(population["urn"].tolist())):
        rows = population[population["urn"] == urn]
        n = len(rows)
        big = n >= min_cohort
        sen = [str(v) for v in rows["sen_provision"]]
        rec = {
            "pupils": n,
            "pct_fsm": 100 * sum(bool(v) for v in rows["fsm"]) / n if big else None,
            "pct_eal": 100 * sum(bool(v) for v in rows["eal"]) / n if big else None,
            "pct_sen_support": 100 * sen.count("K") / n if big else None,
            "pct_ehc_plan": 100 * sen.count("E") / n if big else None,
        }
        y6 = rows[rows["year_group"] == 6]
        rec["ks2_cohort"] = len(y6)
        ok6 = len(y6) >= min_cohort
        for subj in ("reading", "maths"):
            got = [int(v) for v in y6[f"ks2_{subj}"] if not pd.isna(v)]
            rec[f"ks2_{subj}_avg"] = sum(got) / len(got) if ok6 and got else None
            # % of the whole cohort reaching 100+ (pupils not scored count as not reaching it)
            rec[f"ks2_{subj}_exp_pct"] = 100 * sum(v >= 100 for v in got) / len(y6) if ok6 else None
        y11 = rows[rows["year_group"] == 11]
        rec["ks4_cohort"] = len(y11)
        a8 = [int(v) for v in y11["attainment8"] if not pd.isna(v)]
        rec["attainment8_avg"] = sum(a8) / len(a8) if len(y11) >= min_cohort and a8 else None
        out[int(urn)] = rec
    return out
