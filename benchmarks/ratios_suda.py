"""Timings, ratios and peak memory for special uniques.

    .venv/bin/python benchmarks/ratios_suda.py [--n 1000000] [--repeat 3] [--skip-pupil]

Cases, each with a baseline measured in the same run:

* SUDA2, full depth, 8 keys of ``make(n, 20240601)`` (benchmarks/make_synth.py) against a
  vectorised brute force (numpy ``unique`` per subset of keys over the distinct rows, then
  the minimality test), the obvious way to compute MSUs without SUDA2. The issue quotes
  sdcMicro's C++ ``suda2`` at about 11.6 s on this machine (R is not installed here, so it
  is not re-measured).
* SUDA2 with ``max_size=4`` on 10 QIs of the synthetic pupil population
  (``idrisk.datasets.make_population(n, seed=1)``) against the same brute force over the
  385 subsets of at most 4 QIs.
* ``combination_sweep`` over all 63 subsets of 6 keys against DuckDB ``GROUP BY CUBE``.

Peak memory is measured in a fresh subprocess per case: resident set size before the
call (data built, kernels compiled) and the peak during it (``/proc/self/statm`` polled
every 2 ms), whose difference is the call's own peak.
The machine may be shared: read the ratios, not only the absolute times.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_suda import KEYS, PUPIL_QIS, SWEEP_QIS, duckdb_cube, pupil_qis, synth_keys  # noqa: E402


def brute_force_msus(df, qis, max_size=None):
    """Baseline: MSU counts per size by grouping every subset of columns (numpy)."""
    import pandas as pd  # noqa: PLC0415

    g = df.groupby(list(qis), sort=False, dropna=False, observed=True).size()
    X = np.column_stack([pd.factorize(g.index.get_level_values(i))[0] for i in range(len(qis))])
    w = np.minimum(g.to_numpy(), 2)
    m = X.shape[1]
    max_size = m if max_size is None else max_size
    card = X.max(axis=0) + 1
    uniq = {(): np.zeros(len(X), dtype=bool)}
    counts = {}
    for k in range(1, max_size + 1):
        nxt = {}
        for S in itertools.combinations(range(m), k):
            key = np.zeros(len(X), dtype=np.int64)
            for j in S:
                key = key * card[j] + X[:, j]
            _, inv = np.unique(key, return_inverse=True)
            sup = np.bincount(inv, weights=w)
            u = sup[inv] == 1
            nxt[S] = u
            ok = u.copy()
            if k > 1:
                for y in S:
                    ok &= ~uniq[tuple(x for x in S if x != y)]
            counts[k] = counts.get(k, 0) + int(ok.sum())
        uniq = nxt
    return counts


def best(fn, repeat):
    ts = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), out


_CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from benchmarks.bench_suda import KEYS, PUPIL_QIS, SWEEP_QIS, pupil_qis, synth_keys
import idrisk
case, n = sys.argv[2], int(sys.argv[3])
if case == "suda8":
    df = synth_keys(n); f = lambda d: idrisk.suda(d, KEYS); qis = KEYS
elif case == "pupil":
    df = pupil_qis(n); f = lambda d: idrisk.suda(d, PUPIL_QIS, max_size=4)
else:
    df = synth_keys(n)[SWEEP_QIS]; f = lambda d: idrisk.combination_sweep(d, SWEEP_QIS)
f(df.head(300))
import gc, os, threading, time
gc.collect()
page = os.sysconf("SC_PAGE_SIZE") / 2**20
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * page
before = rss()
peak = [before]
stop = threading.Event()
def poll():
    while not stop.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
th = threading.Thread(target=poll, daemon=True); th.start()
f(df)
stop.set(); th.join()
peak[0] = max(peak[0], rss())
print(json.dumps({"rss_before_mb": before, "peak_rss_mb": peak[0], "call_extra_mb": peak[0] - before,
                  "max_rss_process_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "data_mb": float(df.memory_usage(deep=True).sum()) / 2**20}))
"""


def peak_memory(case, n):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", _CHILD, root, case, str(n)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-pupil", action="store_true")
    ap.add_argument("--skip-baselines", action="store_true", help="skip the slow brute-force baselines")
    args = ap.parse_args(argv)
    import idrisk  # noqa: PLC0415

    n = args.n
    results = {}

    df = synth_keys(n)
    idrisk.suda(df.head(300), KEYS)
    t_ours, res = best(lambda: idrisk.suda(df, KEYS), args.repeat)
    row = {"idrisk_s": t_ours, "msus": res.msu_counts}
    if not args.skip_baselines:
        t_base, counts = best(lambda: brute_force_msus(df, KEYS), 1)
        assert {k: v for k, v in counts.items()} == res.msu_counts, (counts, res.msu_counts)
        row.update(brute_force_s=t_base, ratio=t_base / t_ours)
    row["sdcmicro_s_quoted"] = 11.6
    row["peak"] = peak_memory("suda8", n)
    results["suda_8keys_full"] = row
    print(json.dumps({"suda_8keys_full": row}), flush=True)

    sw = df[SWEEP_QIS]
    idrisk.combination_sweep(sw.head(300), SWEEP_QIS)
    duckdb_cube(sw.head(300), SWEEP_QIS)
    # interleave the two so that both see the same machine load
    t_s, t_d = [], []
    for _ in range(max(args.repeat, 5)):
        t0 = time.perf_counter(); idrisk.combination_sweep(sw, SWEEP_QIS); t_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); duckdb_cube(sw, SWEEP_QIS); t_d.append(time.perf_counter() - t0)
    row = {"idrisk_s": min(t_s), "duckdb_cube_s": min(t_d), "ratio": min(t_d) / min(t_s),
           "ratio_median": float(np.median(t_d) / np.median(t_s)), "peak": peak_memory("sweep", n)}
    results["combination_sweep_6"] = row
    print(json.dumps({"combination_sweep_6": row}), flush=True)
    del df, sw

    if not args.skip_pupil:
        try:
            pdf = pupil_qis(n)
        except ImportError:
            print(json.dumps({"suda_pupil_10": "idrisk.datasets is not available"}))
            return results
        idrisk.suda(pdf.head(300), PUPIL_QIS, max_size=4)
        t_ours, res = best(lambda: idrisk.suda(pdf, PUPIL_QIS, max_size=4), args.repeat)
        row = {"idrisk_s": t_ours, "msus": res.msu_counts}
        if not args.skip_baselines:
            t_base, counts = best(lambda: brute_force_msus(pdf, PUPIL_QIS, max_size=4), 1)
            assert counts == res.msu_counts, (counts, res.msu_counts)
            row.update(brute_force_s=t_base, ratio=t_base / t_ours)
        row["peak"] = peak_memory("pupil", n)
        results["suda_pupil_10_cap4"] = row
        print(json.dumps({"suda_pupil_10_cap4": row}), flush=True)
    return results


if __name__ == "__main__":
    main()
