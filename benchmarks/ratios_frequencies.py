"""Speed and memory of idrisk.frequencies against baselines timed in the same run.

Usage::

    .venv/bin/python benchmarks/ratios_frequencies.py            # 1M and 10M rows
    .venv/bin/python benchmarks/ratios_frequencies.py --quick    # 1M rows only, no 10M memory run

What is measured:

1. per-record fk over 6 QIs with ``missing="category"``, encoding included, against pandas
   ``df.groupby(qis, dropna=False, observed=True)[qis[0]].transform("size")`` (and DuckDB
   ``count(*) OVER (PARTITION BY ...)`` for information) on
   a. typed columns as Parquet/Stata/SPSS load them (bool, int64, int16, int8, categorical),
   b. object-string columns (our share spent encoding is printed, and pandas' factorize
      alone): "string" with equal strings as one shared object (read_csv, pyarrow),
      "string*" with every cell its own object (.astype(str); 1M rows only);
2. ``missing="wildcard"`` with 1% missing values in one of 7 QIs at 1M rows (target < 1 s);
3. peak memory of a call at 10M rows x 8 QIs (target < 2 GB), in a fresh subprocess
   (Linux: the peak RSS, VmHWM, is reset after the data are built, so the peak is the call's);
4. first-call time in a fresh process with an empty numba cache (JIT compile), separately.

Timings are the best of several warm calls, ours and the baseline interleaved, because the
machine is shared: read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import idrisk  # noqa: E402
from idrisk._encode import key_columns  # noqa: E402
from idrisk._kernels.groups import fold_columns, key_counts  # noqa: E402
from make_synth import make  # noqa: E402

QIS6 = ["k1", "k2", "k3", "k4", "k5", "k6"]


def typed_frame(n: int, seed: int = 20240601) -> pd.DataFrame:
    """make_synth keys as the dtypes a Parquet/Stata/SPSS file loads."""
    cols, w, _, _ = make(n, seed)
    return pd.DataFrame({
        "k1": cols["k1"] == 1,                                  # bool
        "k2": cols["k2"],                                       # int64
        "k3": pd.Categorical.from_codes(cols["k3"] - 1, [f"c{i}" for i in range(18)]),
        "k4": cols["k4"].astype(np.int16),                      # Stata int
        "k5": cols["k5"].astype(np.int8),                       # Stata byte
        "k6": pd.Categorical.from_codes(cols["k6"] - 1, [f"r{i}" for i in range(30)]),
        "k7": cols["k7"],
        "k8": cols["k8"].astype(np.int8),
        "w": w,
    })


def string_frame(n: int, seed: int = 20240601, distinct_objects: bool = False) -> pd.DataFrame:
    """Object-string keys. By default equal strings are one shared Python object, as
    pd.read_csv, pyarrow's to_pandas and categorical decoding produce them; with
    ``distinct_objects`` every cell holds its own str object (as ``.astype(str)`` makes
    them): the worst case for idrisk's identity pre-grouping, which then falls back to
    pandas' factorize."""
    cols, w, _, _ = make(n, seed)
    out = {}
    for c in QIS6:
        if distinct_objects:
            out[c] = (f"{c}_value_" + pd.Series(cols[c]).astype(str)).to_numpy(dtype=object)
        else:
            labels = np.array([f"{c}_value_{v}" for v in range(int(cols[c].max()) + 1)], dtype=object)
            out[c] = labels[cols[c]]
    return pd.DataFrame(out)


def best(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def interleaved(fns: dict, reps: int) -> dict:
    """Best time of each function, calling them in turn reps times (shared-machine noise)."""
    out = {k: float("inf") for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            out[k] = min(out[k], best(fn, 1))
    return out


def pandas_fk(df, qis):
    return df.groupby(qis, dropna=False, observed=True)[qis[0]].transform("size").to_numpy()


def duckdb_fk(df, qis):
    import duckdb

    con = duckdb.connect()
    con.register("t", df[qis])
    part = ", ".join(qis)
    res = con.execute(f"SELECT count(*) OVER (PARTITION BY {part}) AS fk FROM t").fetchnumpy()["fk"]
    con.close()
    return res


def fk_vs_pandas(kind: str, n: int, reps: int, with_duckdb: bool):
    df = typed_frame(n) if kind == "typed" else string_frame(n, distinct_objects=kind == "string*")
    ours = idrisk.frequencies(df, QIS6)["fk"].to_numpy()
    assert np.array_equal(ours, pandas_fk(df, QIS6)), "fk differs from pandas"
    fns = {
        "idrisk": lambda: idrisk.frequencies(df, QIS6),
        "pandas": lambda: pandas_fk(df, QIS6),
    }
    if with_duckdb:
        try:
            import duckdb  # noqa: F401
            fns["duckdb"] = lambda: duckdb_fk(df, QIS6)
        except ImportError:
            pass
    t = interleaved(fns, reps)
    enc_share = encoding_share(df, QIS6, max(2, reps // 2))
    line = (f"fk 6 QIs {kind:6s} n={n:>10,}: idrisk {t['idrisk']*1e3:8.1f} ms  "
            f"pandas {t['pandas']*1e3:8.1f} ms  ratio {t['pandas']/t['idrisk']:6.1f}x")
    if "duckdb" in t:
        line += f"  (duckdb {t['duckdb']*1e3:8.1f} ms, ratio {t['duckdb']/t['idrisk']:5.1f}x)"
    line += f"  encoding share of idrisk {enc_share:.0%}"
    if kind.startswith("string"):
        fac = best(lambda: [pd.factorize(df[c]) for c in QIS6], max(2, reps // 2))
        line += f"  (factorize alone {fac*1e3:.1f} ms = {fac / t['pandas']:.0%} of pandas' time)"
    print(line, flush=True)
    return {"kind": kind, "n": n, **{k: v for k, v in t.items()}, "ratio": t["pandas"] / t["idrisk"],
            "encoding_share": enc_share}


def encoding_share(df, qis, reps):
    """Share of idrisk's time spent turning the columns into key inputs (for object strings:
    pandas' factorize), from the same calls as the rest of the pipeline (fold + counts)."""
    n = len(df)
    enc_t = rest_t = 0.0
    for _ in range(reps):
        t0 = time.perf_counter()
        cols = key_columns(df, qis)
        t1 = time.perf_counter()
        key, space = fold_columns(cols, n)
        key_counts(key, space, None, copies=2)
        t2 = time.perf_counter()
        enc_t += t1 - t0
        rest_t += t2 - t1
    return enc_t / (enc_t + rest_t)


def wildcard_1m(reps: int):
    n = 1_000_000
    cols, w, _, _ = make(n, 20240601)
    df = pd.DataFrame({f"k{j}": cols[f"k{j}"] for j in range(1, 8)})
    rng = np.random.default_rng(1)
    df["k3"] = df["k3"].astype("float64")
    df.loc[rng.random(n) < 0.01, "k3"] = np.nan
    qis = [f"k{j}" for j in range(1, 8)]
    t = interleaved({
        "wildcard": lambda: idrisk.frequencies(df, qis, missing="wildcard"),
        "wildcard_w_alpha": lambda: idrisk.frequencies(df, qis, weights=w, missing="wildcard", alpha=0.5),
        "category": lambda: idrisk.frequencies(df, qis, missing="category"),
    }, reps)
    print(f"wildcard 7 QIs, 1% NA in one, n={n:,}: {t['wildcard']*1e3:.1f} ms "
          f"(weights + alpha=0.5: {t['wildcard_w_alpha']*1e3:.1f} ms; missing='category' "
          f"{t['category']*1e3:.1f} ms)  target < 1000 ms: {'OK' if t['wildcard'] < 1 else 'MISSED'}",
          flush=True)
    return t


_MEM_CHILD = r"""
import gc, json, os, sys, time, warnings
import numpy as np, pandas as pd
sys.path.insert(0, {here!r}); sys.path.insert(0, {root!r})
from ratios_frequencies import typed_frame
import idrisk

def rss():
    with open("/proc/self/status") as f:
        s = f.read()
    get = lambda k: int(s.split(k + ":")[1].split()[0]) * 1024
    return get("VmRSS"), get("VmHWM")

which = sys.argv[1]
df = typed_frame(10_000, 1)
qis = ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"]
idrisk.frequencies(df, qis)  # compile / load the cache outside the measurement
df = typed_frame({n})
gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak RSS to the current RSS
before, _ = rss()
t = time.perf_counter()
if which == "idrisk":
    out = idrisk.frequencies(df, qis)
else:
    out = df.groupby(qis, dropna=False, observed=True)["k1"].transform("size")
dt = time.perf_counter() - t
after, peak = rss()
print(json.dumps(dict(before=before, peak=peak, after=after, seconds=dt)))
"""


def peak_memory(n: int = 10_000_000):
    res = {}
    for which in ("idrisk", "pandas"):
        code = _MEM_CHILD.format(here=str(HERE), root=str(HERE.parent), n=n)
        proc = subprocess.run([sys.executable, "-c", code, which], capture_output=True, text=True)
        if proc.returncode:
            print(f"memory run for {which} failed:\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        res[which] = r
        gb = 1 << 30
        print(f"peak memory 8 QIs n={n:,} {which:6s}: process peak {r['peak']/gb:.2f} GB "
              f"(data alone {r['before']/gb:.2f} GB, growth during the call "
              f"{(r['peak']-r['before'])/gb:.2f} GB; call {r['seconds']*1e3:.0f} ms)"
              + (f"  target < 2 GB: {'OK' if r['peak'] < 2 * gb else 'MISSED'}" if which == "idrisk" else ""),
              flush=True)
    return res


_COMPILE_CHILD = r"""
import sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd, idrisk
t1 = time.perf_counter()
df = pd.DataFrame({"a": [1, 2, 2], "b": pd.Categorical(["x", "y", "y"]), "c": [True, False, False],
                   "d": ["u", "v", "v"], "e": np.array([1, 2, 2], dtype=np.int8), "f": [1.0, None, 2.0]})
idrisk.frequencies(df, ["a", "b", "c", "d", "e"])
t2 = time.perf_counter()
idrisk.frequencies(df, ["a", "b", "c", "d", "e", "f"], weights=[1.0, 2.0, 3.0], missing="wildcard")
t3 = time.perf_counter()
print(f"{t1-t0:.3f} {t2-t1:.3f} {t3-t2:.3f}")
"""


def compile_time():
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = []
        for label in ("empty cache", "warm cache"):
            proc = subprocess.run([sys.executable, "-c", _COMPILE_CHILD], capture_output=True, text=True,
                                  env=env, cwd=str(HERE.parent))
            imp, first, wild = map(float, proc.stdout.split())
            out.append((label, imp, first, wild))
            print(f"first calls, fresh process, {label}: import {imp:.2f} s, first frequencies() "
                  f"{first:.2f} s, first wildcard call {wild:.2f} s", flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1M rows only; skip the 10M memory run")
    ap.add_argument("--reps", type=int, default=9,
                    help="interleaved repetitions at 1M rows (a third of them at 10M); best kept")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    idrisk.frequencies(typed_frame(1000), QIS6)  # JIT outside the timings
    idrisk.frequencies(string_frame(1000), QIS6)
    print(f"idrisk.frequencies ratios (numpy {np.__version__}, pandas {pd.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})", flush=True)
    sizes = [1_000_000] if args.quick else [1_000_000, 10_000_000]
    for n in sizes:
        reps = args.reps if n <= 1_000_000 else max(2, args.reps // 3)
        fk_vs_pandas("typed", n, reps, with_duckdb=True)
        fk_vs_pandas("string", n, reps, with_duckdb=False)
        if n <= 1_000_000:
            fk_vs_pandas("string*", n, reps, with_duckdb=False)
    wildcard_1m(max(2, args.reps // 3))
    if not args.quick:
        peak_memory()
    compile_time()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
