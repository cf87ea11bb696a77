"""The Spark path against the pandas path: time and peak memory on a synthetic pupil table.

    PYTHONPATH=. /work/venv/bin/python benchmarks/ratios_spark.py [--n 1000000 10000000] [--dir DIR]
    PYTHONPATH=. /work/venv/bin/python benchmarks/ratios_spark.py --intruder 100000 20000 [--no-term-frequency]

Needs the ``spark`` extra and Java. For each n, a synthetic pupil table (sex, year group,
birth month, ethnicity, region, SEN; FSM as the sensitive attribute; skewed like the
national pupil database) is written once as Parquet. Then, each in a fresh subprocess so
that peak memory is its own:

* **pandas**: the Parquet file read into pandas, then ``k_anonymity``, ``l_diversity``
  (sensitive FSM), ``suda`` (``max_size=4``) and ``combination_sweep`` (6 QIs: 63 subsets);
* **spark**: a local Spark session (``local[2]``) reads the same file and the same four
  calls take the Spark DataFrame (classes counted on Spark, finished by idrisk's kernels
  on the driver; per-record outputs stay lazy Spark DataFrames).

With ``--intruder N TARGETS`` it runs instead the simulated intruder through Splink on a
synthetic population of N pupils with TARGETS targets (perturbed scenario, blocking on local
authority, sex and year group), once with Splink's DuckDB backend and once with its Spark
backend on a local session, and prints the counts of both (``--intruder 100000 20000`` is
the 100k x 20k case; ``--no-term-frequency`` runs the scenario without term-frequency
adjustments, the case of tests/spark/test_spark_intruder_scale.py).

Reported: the time of each call, the peak resident memory of the Python process (the
driver's, where the reduced table lives) and, for Spark, of the JVM as well (in local mode
it holds the executors too), and the number of distinct key combinations. The machine may
be shared: read the ratios, not only the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
QIS = ["sex", "year_group", "birth_month", "ethnicity", "region", "sen"]

_WRITE = r"""
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
n, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(20261206)
eth = np.array(["WBRI", "WIRI", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
                "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU"])
p_eth = np.array([60, 1, 8, .5, 2, 1, 2, 3, 3, 4, 2, 2, 1, 5, 1, .5, 3, 1.])
p_reg = np.array([5, 13, 10, 9, 11, 11, 16, 17, 8.])
writer = None
for start in range(0, n, 1_000_000):
    m = min(1_000_000, n - start)
    sen = rng.choice(np.array(["N", "K", "E"]), m, p=[.816, .136, .048])
    t = pa.table({
        "pupil_id": np.arange(start, start + m, dtype=np.int64),
        "sex": rng.choice(np.array(["F", "M"]), m),
        "year_group": rng.integers(0, 14, m).astype(np.int16),
        "birth_month": rng.integers(1, 13, m).astype(np.int16),
        "ethnicity": rng.choice(eth, m, p=p_eth / p_eth.sum()),
        "region": rng.choice(np.arange(1, 10, dtype=np.int16), m, p=p_reg / p_reg.sum()),
        "sen": sen,
        "fsm": rng.random(m) < np.where(sen == "N", 0.22, 0.38),
    })
    writer = writer or pq.ParquetWriter(path, t.schema)
    writer.write_table(t)
writer.close()
"""

_RUN = r"""
import json, os, resource, sys, time, warnings
warnings.simplefilter("ignore")
engine, path = sys.argv[1], sys.argv[2]
qis = %(qis)r
import idrisk
t0 = time.perf_counter()
if engine == "spark":
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "4").config("spark.driver.memory", "3g")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    data = spark.read.parquet(path)
else:
    import pandas as pd
    data = pd.read_parquet(path)
times = {"load": time.perf_counter() - t0}
def timed(name, fn):
    t = time.perf_counter(); out = fn(); times[name] = time.perf_counter() - t; return out
k = timed("k_anonymity", lambda: idrisk.k_anonymity(data, qis))
timed("l_diversity", lambda: idrisk.l_diversity(data, qis, "fsm"))
s = timed("suda_cap4", lambda: idrisk.suda(data, qis, max_size=4))
sw = timed("sweep_63", lambda: idrisk.combination_sweep(data, qis))
jvm_mb = None
if engine == "spark":
    me = os.getpid()
    peaks = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                if int(stat[1]) == me:
                    for line in open(f"/proc/{pid}/status"):
                        if line.startswith("VmHWM:"):
                            peaks.append(int(line.split()[1]) / 1024)
            except OSError:
                pass
    jvm_mb = max(peaks) if peaks else None
    spark.stop()
print(json.dumps({"engine": engine, "times": times, "n_classes": k.n_classes,
                  "n_sample_uniques": s.n_sample_uniques, "subsets": len(sw),
                  "python_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "jvm_peak_mb": jvm_mb, "records_below_10": k.records_below_k[10]}))
"""


_INTRUDER = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
n, targets, ckpt, tf = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
from pyspark.sql import SparkSession
from splink.backends.spark import similarity_jar_location
spark = (SparkSession.builder.master("local[2]").config("spark.jars", similarity_jar_location())
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.shuffle.partitions", "8")
         .config("spark.driver.memory", "4g").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.sparkContext.setCheckpointDir(ckpt)
from idrisk.datasets import make_population
from idrisk.intruder import IntruderScenario, make_auxiliary, simulate_intruder
qis = ["la_code", "sex", "year_group", "birth_month", "ethnicity_major", "sen_provision", "eal", "fsm"]
ext = make_population(n, seed=3, progress=False)[qis].copy()
sc = IntruderScenario(name="perturbed", quasi_identifiers=qis, blocking=[["la_code", "sex", "year_group"]],
                      targets=targets, error_rate={"birth_month": 0.05, "ethnicity_major": 0.10,
                                                   "sen_provision": 0.05},
                      missing_rate={"ethnicity_major": 0.10}, term_frequency=tf)
aux = make_auxiliary(ext, sc, seed=2)
out = {}
for backend, kw in (("duckdb", {}), ("spark", {"splink_backend": "spark", "spark_session": spark})):
    t = time.perf_counter()
    r = simulate_intruder(ext, aux, sc, seed=2, engine="splink", **kw)
    out[backend] = [time.perf_counter() - t] + [getattr(r, k) for k in
        ("n_candidate_pairs", "unique_matches", "unique_matches_correct", "claims", "correct_claims", "precision")]
for backend, v in out.items():
    print(f"{backend:>6}: {v[0]:7.1f}s  pairs {v[1]:,}  unique matches {v[2]:,} ({v[3]:,} correct)  "
          f"claims {v[4]:,} ({v[5]:,} correct)  precision {v[6]:.4f}")
"""


def _run(code, *args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                         text=True, env=env, check=False)
    if out.returncode:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"child failed: {args}")
    return out.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "idrisk-ratios-spark"))
    ap.add_argument("--engines", default="pandas,spark")
    ap.add_argument("--intruder", type=int, nargs=2, metavar=("N", "TARGETS"),
                    help="run the Splink intruder on DuckDB and on Spark instead")
    ap.add_argument("--no-term-frequency", action="store_true", help="the intruder without term frequencies")
    args = ap.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    if args.intruder:
        print(_run(_INTRUDER, *args.intruder, os.path.join(args.dir, "checkpoints"),
                   0 if args.no_term_frequency else 1), end="")
        return 0
    for n in args.n:
        path = os.path.join(args.dir, f"pupils_{n}.parquet")
        if not os.path.exists(path):
            _run(_WRITE, n, path)
        res = {}
        for engine in args.engines.split(","):
            res[engine] = json.loads(_run(_RUN % {"qis": QIS}, engine, path).strip().splitlines()[-1])
            r = res[engine]
            t = r["times"]
            print(f"n={n:>11,} {engine:>6}: load {t['load']:6.1f}s  k {t['k_anonymity']:6.1f}s  "
                  f"l {t['l_diversity']:6.1f}s  suda(4) {t['suda_cap4']:6.1f}s  sweep(63) "
                  f"{t['sweep_63']:6.1f}s | python peak {r['python_peak_mb']:7.0f} MB"
                  + (f", JVM peak {r['jvm_peak_mb']:7.0f} MB" if r["jvm_peak_mb"] else "")
                  + f" | {r['n_classes']:,} distinct keys", flush=True)
        if len(res) == 2:
            a, b = res["pandas"], res["spark"]
            same = all(a[key] == b[key] for key in ("n_classes", "n_sample_uniques", "subsets",
                                                    "records_below_10"))
            print(f"  same aggregates on both paths: {same}")
            if not same:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
