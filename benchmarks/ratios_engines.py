"""idrisk against polars and DuckDB, timed in the same process, at 1M and 10M rows.

Usage::

    .venv/bin/python benchmarks/ratios_engines.py            # 1M and 10M rows
    .venv/bin/python benchmarks/ratios_engines.py --quick    # 1M rows only
    .venv/bin/python benchmarks/ratios_engines.py --n 1000000 --cases fk_typed,sweep_mixed

Cases (data: benchmarks/make_synth.py, seed 20240601):

* ``fk_typed``: per-record fk over 6 typed keys (bool, int64, categorical, int16, int8,
  categorical) against polars ``group_by(keys).len()`` (class sizes only, not per record:
  the stricter baseline) and, for information, polars ``pl.len().over(keys)``;
* ``fk_object`` / ``fk_arrow``: fk over 6 mixed keys as a CSV gives them (sex, SEN code and
  LA code as text, plus a categorical, a bool and an integer), the text columns as object
  strings and as pandas 3's Arrow-backed ``str`` dtype; polars gets the same columns as its
  own String type;
* ``ldiv``: l-diversity (distinct, entropy and recursive together, per record) over the 6
  typed keys and ``sens`` against polars' distinct count alone
  (``group_by(keys).agg(pl.col("sens").n_unique())``);
* ``sweep_typed`` / ``sweep_mixed``: ``combination_sweep`` over all 63 subsets against
  DuckDB ``GROUP BY CUBE`` (benchmarks/bench_suda.py ``duckdb_cube``);
* ``suda``: SUDA2 at full depth on the 8 keys (1M rows only; the target is <= 1 s).

Every figure is the best of ``--reps`` calls, idrisk and its baseline interleaved so both see
the same machine load; the load average is printed before and after. Read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import idrisk  # noqa: E402
from benchmarks.bench_suda import duckdb_cube  # noqa: E402
from benchmarks.make_synth import make  # noqa: E402

KEYS6 = ["k1", "k2", "k3", "k4", "k5", "k6"]
MIXED6 = ["sex", "sen", "la", "k3", "k5b", "k2"]
KEYS8 = [f"k{j}" for j in range(1, 9)]
CASES = ["fk_typed", "fk_object", "fk_arrow", "ldiv", "sweep_typed", "sweep_mixed", "suda"]


def typed_frame(cols, sens) -> pd.DataFrame:
    return pd.DataFrame({
        "k1": cols["k1"] == 1,
        "k2": cols["k2"],
        "k3": pd.Categorical.from_codes(cols["k3"] - 1, [f"c{i}" for i in range(18)]),
        "k4": cols["k4"].astype(np.int16),
        "k5": cols["k5"].astype(np.int8),
        "k6": pd.Categorical.from_codes(cols["k6"] - 1, [f"r{i}" for i in range(30)]),
        "sens": sens,
    })


def mixed_frame(cols, arrow: bool) -> pd.DataFrame:
    """Sex, SEN code and LA code as text, a categorical, a bool and an integer."""
    sex = np.array(["F", "M"], dtype=object)[cols["k1"] - 1]
    sen = np.array(["N", "K", "E", "S", "A"], dtype=object)[cols["k4"] - 1]
    la = np.array([f"E0{9000000 + 13 * v:07d}" for v in range(30)], dtype=object)[cols["k6"] - 1]
    text = {"sex": sex, "sen": sen, "la": la}
    if arrow:
        text = {c: pd.array(v, dtype=pd.StringDtype("pyarrow", na_value=np.nan)) for c, v in text.items()}
    else:
        text = {c: pd.Series(v, dtype=object) for c, v in text.items()}
    return pd.DataFrame({
        **text,
        "k3": pd.Categorical.from_codes(cols["k3"] - 1, [f"c{i}" for i in range(18)]),
        "k5b": cols["k5"] == 1,
        "k2": cols["k2"],
    })


def to_polars(df):
    import polars as pl  # noqa: PLC0415

    out = {}
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = pl.Series(c, s.astype(str).to_numpy(dtype=object), dtype=pl.Categorical)
        elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            out[c] = pl.Series(c, s.to_numpy(dtype=object), dtype=pl.String)
        else:
            out[c] = pl.Series(c, s.to_numpy())
    return pl.DataFrame(out)


def interleaved(fns: dict, reps: int) -> dict:
    """Best time of each function over ``reps`` rounds, one call of each per round. A call's
    result is kept until its time is taken: freeing it (idrisk's per-record sizes are 80 MB
    at 10M rows, polars' class table a few MB) is the caller's later work, not the call's."""
    out = {k: float("inf") for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t = time.perf_counter()
            result = fn()
            out[k] = min(out[k], time.perf_counter() - t)
            del result
    return out


def polars_len(pdf, keys):
    import polars as pl  # noqa: PLC0415

    return pdf.group_by(keys).agg(pl.len())


def polars_len_over(pdf, keys):
    import polars as pl  # noqa: PLC0415

    return pdf.select(pl.len().over(keys))


def polars_distinct(pdf, keys, s):
    import polars as pl  # noqa: PLC0415

    return pdf.group_by(keys).agg(pl.col(s).n_unique())


def case_fk(df, keys, reps, label, n):
    import polars as pl  # noqa: PLC0415

    pdf = to_polars(df[keys])
    ours = idrisk.frequencies(df, keys)["fk"].to_numpy()
    theirs = pdf.select(pl.len().over(keys)).to_series().to_numpy()
    assert np.array_equal(ours, theirs), "fk differs from polars"
    t = interleaved({"idrisk": lambda: idrisk.frequencies(df, keys),
                     "polars": lambda: polars_len(pdf, keys),
                     "polars_over": lambda: polars_len_over(pdf, keys)}, reps)
    return {"case": label, "n": n, "idrisk_ms": t["idrisk"] * 1e3, "base_ms": t["polars"] * 1e3,
            "ratio": t["polars"] / t["idrisk"], "over_ratio": t["polars_over"] / t["idrisk"],
            "baseline": "polars group_by.len"}


def case_ldiv(df, reps, n):
    pdf = to_polars(df[KEYS6 + ["sens"]])
    res = idrisk.l_diversity(df, KEYS6, "sens").per_record["sens_distinct"].to_numpy()
    assert res.min() >= 1
    t = interleaved({"idrisk": lambda: idrisk.l_diversity(df, KEYS6, "sens"),
                     "polars": lambda: polars_distinct(pdf, KEYS6, "sens")}, reps)
    return {"case": "ldiv", "n": n, "idrisk_ms": t["idrisk"] * 1e3, "base_ms": t["polars"] * 1e3,
            "ratio": t["polars"] / t["idrisk"], "baseline": "polars n_unique alone"}


def case_sweep(df, keys, reps, label, n):
    ours = idrisk.combination_sweep(df, keys)
    base = duckdb_cube(df[keys], keys)
    assert len(ours) == 63 and len(base) == 64
    t = interleaved({"idrisk": lambda: idrisk.combination_sweep(df, keys),
                     "duckdb": lambda: duckdb_cube(df[keys], keys)}, reps)
    return {"case": label, "n": n, "idrisk_ms": t["idrisk"] * 1e3, "base_ms": t["duckdb"] * 1e3,
            "ratio": t["duckdb"] / t["idrisk"], "baseline": "duckdb GROUP BY CUBE"}


def case_suda(cols, reps, n):
    df = pd.DataFrame({k: cols[k] for k in KEYS8})
    t = interleaved({"idrisk": lambda: idrisk.suda(df, KEYS8)}, reps)
    return {"case": "suda", "n": n, "idrisk_ms": t["idrisk"] * 1e3, "base_ms": 1000.0,
            "ratio": 1.0 / t["idrisk"], "baseline": "target 1 s"}


def run(n, cases, reps):
    cols, _, _, sens = make(n, 20240601)
    typed = typed_frame(cols, sens)
    out = []
    for case in cases:
        if case == "suda" and n > 1_000_000:
            continue
        if case == "fk_typed":
            r = case_fk(typed, KEYS6, reps, case, n)
        elif case in ("fk_object", "fk_arrow"):
            r = case_fk(mixed_frame(cols, case == "fk_arrow"), MIXED6, reps, case, n)
        elif case == "ldiv":
            r = case_ldiv(typed, reps, n)
        elif case == "sweep_typed":
            r = case_sweep(typed, KEYS6, reps, case, n)
        elif case == "sweep_mixed":
            r = case_sweep(mixed_frame(cols, True), MIXED6, reps, case, n)
        else:
            r = case_suda(cols, max(2, reps // 2), n)
        extra = f"  (polars over(): {r['over_ratio']:.1f}x)" if "over_ratio" in r else ""
        print(f"{r['case']:12s} n={n:>10,}: idrisk {r['idrisk_ms']:8.1f} ms  {r['baseline']:22s} "
              f"{r['base_ms']:8.1f} ms  ratio {r['ratio']:5.1f}x{extra}  load {os.getloadavg()[0]:.1f}",
              flush=True)
        out.append(r)
    return out


_MEM_CHILD = r"""
import gc, json, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import numpy as np, pandas as pd, idrisk
from make_synth import make
from ratios_engines import typed_frame, mixed_frame, KEYS6, MIXED6, KEYS8

def rss():
    with open("/proc/self/status") as f:
        s = f.read()
    get = lambda k: int(s.split(k + ":")[1].split()[0]) * 1024
    return get("VmRSS"), get("VmHWM")

case, n = sys.argv[1], int(sys.argv[2])
cols, _, _, sens = make(n, 20240601)
if case == "suda":
    df, keys = pd.DataFrame({{k: cols[k] for k in KEYS8}}), KEYS8
elif case in ("fk_typed", "ldiv", "sweep_typed"):
    df, keys = typed_frame(cols, sens), KEYS6
else:
    df, keys = mixed_frame(cols, case != "fk_object"), MIXED6
call = {{"ldiv": lambda: idrisk.l_diversity(df, KEYS6, "sens"), "suda": lambda: idrisk.suda(df, keys)}}.get(
    case, (lambda: idrisk.combination_sweep(df, keys)) if case.startswith("sweep") else (lambda: idrisk.frequencies(df, keys)))
del cols
small = df.head(1000)
(idrisk.l_diversity(small, KEYS6, "sens") if case == "ldiv" else idrisk.frequencies(small, keys))
gc.collect()
import ctypes, threading
try:
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # give the data building's freed memory back first
except OSError:
    pass
try:  # reset the high-water mark VmHWM to the current RSS: the kernel then keeps the exact peak
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    exact = True
except OSError:
    exact = False
# the RSS right after the reset (VmHWM): an RSS read before it could still count memory freed
# just before (read 200 MB high at 10M rows, and the growth came out negative)
before = rss()[1] if exact else rss()[0]
peak = [before]
stop = threading.Event()

def poll():  # without clear_refs: sample RSS every millisecond (a peak between samples is missed)
    while not stop.is_set():
        peak[0] = max(peak[0], rss()[0])
        time.sleep(0.001)

th = threading.Thread(target=poll, daemon=True)
if not exact:
    th.start()
out = call()
stop.set()
if not exact:
    th.join()
peak[0] = rss()[1] if exact else max(peak[0], rss()[0])
print(json.dumps(dict(case=case, n=n, before=before, peak=peak[0], growth=peak[0] - before, exact=exact)))
"""


def peak_memory(cases, n, root):
    """Peak RSS growth of each idrisk call, each in a fresh process (Linux): the high-water mark
    VmHWM reset through ``/proc/self/clear_refs`` just before the call and read after it (where
    that file cannot be written, RSS sampled every millisecond, which misses short peaks: it read
    about zero growth at 10M rows); ``root`` is the idrisk tree to import (another checkout for a
    before)."""
    import subprocess  # noqa: PLC0415

    bench = os.path.dirname(os.path.abspath(__file__))
    out = []
    for case in cases:
        code = _MEM_CHILD.format(root=root, bench=bench)
        # a fixed mmap threshold: freed arrays go back to the system, so the RSS growth is the call's
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072")
        proc = subprocess.run([sys.executable, "-c", code, case, str(n)], capture_output=True, text=True, env=env)
        if proc.returncode:
            print(f"memory run {case} failed: {proc.stderr[-800:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"peak memory {case:12s} n={n:>10,}: call growth {r['growth'] / 2**20:8.1f} MiB "
              f"(data {r['before'] / 2**20:.0f} MiB{'' if r['exact'] else ', sampled'})  [{root}]", flush=True)
        out.append(r)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1M rows only")
    ap.add_argument("--n", type=int, action="append", help="row counts (default 1M and 10M)")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--memory", action="store_true",
                    help="instead of timings: peak memory of each idrisk call at the largest --n")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="idrisk tree the memory runs import (default: this one)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    import duckdb  # noqa: PLC0415
    import polars as pl  # noqa: PLC0415

    cases = args.cases.split(",")
    sizes = args.n or ([1_000_000] if args.quick else [1_000_000, 10_000_000])
    if args.memory:
        peak_memory(cases, max(sizes), args.root)
        return
    small = run(2000, [c for c in cases if c != "suda"], 1) if cases else None  # JIT outside the timings
    del small
    print(f"idrisk vs polars {pl.__version__} / DuckDB {duckdb.__version__} (pandas {pd.__version__}, "
          f"{os.cpu_count()} CPUs); load average {os.getloadavg()}", flush=True)
    res = []
    for n in sizes:
        res += run(n, cases, args.reps)  # as many at 10M: the best of 3 there swung 2x between runs
    print(f"load average at the end {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
