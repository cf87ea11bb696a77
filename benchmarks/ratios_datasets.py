"""Timings, ratios and peak memory for the synthetic pupil population (idrisk.datasets).

    .venv/bin/python benchmarks/ratios_datasets.py [--n 1000000 10000000] [--naive-n 20000]

For each n, in a fresh subprocess (so that peak RSS is the generator's own): the time of
``make_population(n)``, its peak resident memory, and the time to write the same frame
with pyarrow to Parquet and CSV. Baselines measured in the same run:

* a naive per-row Python generator (one loop iteration per pupil, the same sequence of
  draws: school, year, date of birth, sex, ethnicity, EAL, SEN, FSM, attainment,
  absence, exclusions) timed at ``--naive-n`` pupils and scaled linearly;
* pandas ``DataFrame.to_parquet`` of the frame (the cost of merely writing it).

The machine may be shared: read the ratios, not only the absolute times.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CHILD = r"""
import json, resource, sys, tempfile, time, os
import idrisk.datasets as ds
n = int(sys.argv[1])
ds.make_population(1000, seed=0)
t0 = time.perf_counter(); df = ds.make_population(n, seed=1); t_gen = time.perf_counter() - t0
rss_gen = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
d = tempfile.mkdtemp()
t0 = time.perf_counter(); ds.io.write_frame(df, os.path.join(d, "p.parquet"), overwrite=True); t_pq = time.perf_counter() - t0
size_pq = os.path.getsize(os.path.join(d, "p.parquet"))
t0 = time.perf_counter(); df.to_parquet(os.path.join(d, "q.parquet")); t_pd = time.perf_counter() - t0
t_csv = None
if n <= 2_000_000:
    t0 = time.perf_counter(); ds.io.write_frame(df, os.path.join(d, "p.csv"), overwrite=True); t_csv = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n": n, "gen_s": t_gen, "peak_mb_gen": rss_gen, "peak_mb_all": rss,
                  "parquet_s": t_pq, "pandas_parquet_s": t_pd, "csv_s": t_csv,
                  "parquet_mb": size_pq / 2**20,
                  "bytes_per_row": float(df.memory_usage(deep=True).sum() / n)}))
"""


def naive_generator(n, seed=0):
    """Per-row Python generator of the same attributes (baseline, not used by idrisk)."""
    rnd = random.Random(seed)
    eth = ["WBRI", "WOTH", "BAFR", "APKN", "AIND", "MOTH", "OOTH"]
    w_eth = [0.62, 0.08, 0.05, 0.05, 0.04, 0.03, 0.13]
    rows = []
    n_schools = max(1, n // 300)
    for i in range(n):
        school = rnd.randrange(n_schools)
        year = rnd.randrange(14)
        dob_day = rnd.randrange(365)
        sex = "M" if rnd.random() < 0.512 else "F"
        e = rnd.choices(eth, w_eth)[0]
        eal = rnd.random() < (0.005 if e == "WBRI" else 0.7)
        u = rnd.random()
        sen = "E" if u < 0.048 else ("K" if u < 0.184 else "N")
        p_fsm = 1 / (1 + math.exp(-(-1.1 + (0.9 if sen != "N" else 0.0))))
        fsm = rnd.random() < p_fsm
        z = rnd.gauss(0, 1) - 0.6 * fsm - (1.0 if sen != "N" else 0.0)
        ks2 = min(120, max(80, round(105 + 7.7 * z))) if year >= 6 else None
        a8 = min(90, max(0, round(46 + 19 * z))) if year >= 11 else None
        m = 0.074 * (1.8 if fsm else 1.0)
        absence = rnd.betavariate(m * 3, (1 - m) * 3)
        susp = 1 + int(rnd.expovariate(1 / 2.7)) if rnd.random() < 0.025 else 0
        rows.append((f"P{i:09d}", school, year, dob_day, sex, e, eal, sen, fsm, ks2, a8,
                     absence, susp))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--naive-n", type=int, default=20_000)
    args = ap.parse_args(argv)
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} (shared machine)")

    t0 = time.perf_counter()
    naive_generator(args.naive_n)
    naive_per_row = (time.perf_counter() - t0) / args.naive_n
    print(f"naive per-row Python generator: {naive_per_row * 1e6:.1f} us/pupil "
          f"(measured at n={args.naive_n:,}, simplified: fewer attributes than idrisk)")

    for n in args.n:
        out = subprocess.run([sys.executable, "-c", _CHILD, str(n)], check=True,
                             capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        naive_est = naive_per_row * n
        print(f"\nn = {n:,}")
        print(f"  make_population        {r['gen_s']:8.2f} s   peak RSS {r['peak_mb_gen']:8.0f} MB"
              f"   ({r['bytes_per_row']:.0f} bytes/pupil in memory)")
        print(f"  naive per-row (scaled) {naive_est:8.2f} s   -> idrisk is {naive_est / r['gen_s']:.0f}x faster")
        print(f"  write Parquet (idrisk) {r['parquet_s']:8.2f} s   ({r['parquet_mb']:.0f} MB file); "
              f"pandas to_parquet {r['pandas_parquet_s']:.2f} s; "
              f"generation / pandas write = {r['gen_s'] / r['pandas_parquet_s']:.1f}")
        if r["csv_s"] is not None:
            print(f"  write CSV              {r['csv_s']:8.2f} s")
        print(f"  peak RSS incl. writing {r['peak_mb_all']:8.0f} MB")


if __name__ == "__main__":
    main()
