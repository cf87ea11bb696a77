"""Speed of idrisk's individual, global and household risk against a plain pandas baseline.

Usage::

    .venv/bin/python benchmarks/ratios_risk.py            # 1M rows
    .venv/bin/python benchmarks/ratios_risk.py --n 200000 # smaller, quicker

What is measured: on ``make_synth.make(1_000_000, 20240601)`` with the
8 keys k1..k8, weights ``w`` and households ``hid``:

1. ``global_risk(df, k1..k8, weights="w", household="hid")``: one call computing fk/Fk,
   every record's Benedetti-Franconi risk, the household risk, ER, ER_h and sdcMicro's
   global threshold (what sdcMicro's ``measure_risk(..., hid=)`` returns; it took about
   17.5 s on this machine, target <= 1.7 s);
2. ``individual_risk(..., household="hid")`` (the per-record frame) followed by
   ``global_risk(...)``: the worst case when a user wants both;
3. the same quantities in plain pandas/NumPy (groupby-transform for fk/Fk and household
   sums, vectorised closed forms), timed in the same run, interleaved with ours.

Best of several warm calls (JIT compilation is excluded and reported separately): the
machine is shared and noisy, so read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import idrisk  # noqa: E402
from make_synth import make  # noqa: E402

QIS8 = [f"k{j}" for j in range(1, 9)]


def frame(n: int, seed: int = 20240601) -> pd.DataFrame:
    cols, w, hid, _ = make(n, seed)
    df = pd.DataFrame(cols)
    df["w"] = w
    df["hid"] = hid
    return df


def pandas_risk(df: pd.DataFrame, qis):
    """fk, Fk, approx BF risk, household risk, ER, ER_h in plain pandas/NumPy."""
    g = df.groupby(qis, sort=False, observed=True)
    fk = g["w"].transform("size").to_numpy(dtype=np.float64)
    Fk = g["w"].transform("sum").to_numpy()
    p = fk / Fk
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = p / q * np.log(1.0 / p)
        r2 = p / q - (p / q) ** 2 * np.log(1.0 / p)
        r3 = p / (fk - q)
    risk = np.where(fk == 1, r1, np.where(fk == 2, r2, r3))
    risk = np.where(fk == Fk, 1.0 / fk, risk)
    logs = pd.Series(np.log1p(-risk)).groupby(df["hid"].to_numpy()).transform("sum").to_numpy()
    hrisk = -np.expm1(logs)
    return risk, hrisk, risk.sum(), hrisk.sum()


def ours_global(df):
    return idrisk.global_risk(df, QIS8, weights="w", household="hid")


def ours_both(df):
    out = idrisk.individual_risk(df, QIS8, weights="w", household="hid")
    res = idrisk.global_risk(df, QIS8, weights="w", household="hid")
    return out, res


def best(fn, *args, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return min(times)


def first_call_seconds() -> float:
    """First call in a fresh process (includes numba compilation or cache load)."""
    code = ("import time, pandas as pd, idrisk; df = pd.DataFrame({'a': [1, 1, 2], 'w': [5.0, 5, 9], "
            "'h': [1, 1, 2]}); t = time.perf_counter(); idrisk.global_risk(df, ['a'], weights='w', "
            "household='h'); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    df = frame(args.n)
    print(f"make_synth.make({args.n:_}, 20240601): {len(df):_} rows, keys {', '.join(QIS8)}, "
          f"{df['hid'].nunique():_} households")
    ours_both(df.head(1000))                                   # JIT / cache load outside timing
    # correctness cross-check of the baseline
    out, res = ours_both(df)
    r, hr, er, her = pandas_risk(df, QIS8)
    assert np.allclose(out["risk"].to_numpy(), r, rtol=1e-9)
    assert np.allclose(out["household_risk"].to_numpy(), hr, rtol=1e-9, atol=1e-15)
    print(f"ER = {res.expected_reidentifications:.6f} (pandas {er:.6f}), "
          f"ER_h = {res.household_expected_reidentifications:.6f} (pandas {her:.6f}), "
          f"global threshold = {res.global_threshold}")

    t_g, t_b, t_p = [], [], []
    for _ in range(args.repeat):                               # interleaved
        t_g.append(best(ours_global, df, repeat=1))
        t_b.append(best(ours_both, df, repeat=1))
        t_p.append(best(pandas_risk, df, QIS8, repeat=1))
    tg, tb, tp = min(t_g), min(t_b), min(t_p)
    print(f"idrisk global_risk(..., household) [indiv+hh+global+threshold]: {tg:.3f} s "
          f"(target <= 1.7 s; sdcMicro measure_risk(hid=) ~17.5 s here -> {17.5 / tg:.1f}x)")
    print(f"idrisk individual_risk + global_risk (both, with household):      {tb:.3f} s")
    print(f"plain pandas (fk/Fk, approx risk, household risk, sums):          {tp:.3f} s")
    print(f"ratio pandas / idrisk global_risk:  {tp / tg:.2f}x")
    print(f"ratio pandas / idrisk both calls:   {tp / tb:.2f}x")
    t_exact = best(lambda: idrisk.individual_risk(df, QIS8, weights="w", method="exact"), repeat=2)
    t_pop = best(lambda: idrisk.population_uniqueness(df, QIS8, population_size=10 * len(df)), repeat=2)
    print(f"(info) individual_risk(method='exact'): {t_exact:.3f} s; "
          f"population_uniqueness(N = 10 n): {t_pop:.3f} s")
    print(f"(info) first call in a fresh process (numba cache load or compile): {first_call_seconds():.2f} s")


if __name__ == "__main__":
    main()
