"""Simulated-intruder linkage: idrisk vs a recordlinkage ECMClassifier pipeline vs Splink (DuckDB).

Usage::

    .venv/bin/python benchmarks/ratios_intruder.py            # 100k x 20k (+ 1M x 100k idrisk only)
    .venv/bin/python benchmarks/ratios_intruder.py --quick    # 20k x 4k, no 1M run

Setup (the issue's): an extract of ``n`` synthetic pupils (idrisk.datasets.make_population),
an auxiliary table of ``n_aux`` of them with divergence (make_auxiliary: errors, missing
values, a one-year time lag on postcode district), blocking on LA x sex, m (and, for ECM,
u) fitted by EM. Each engine runs in its own subprocess on the same parquet inputs, so
the peak resident memory (ru_maxrss) is the engine's own; the ratios are taken from the
same run. Every engine claims, per target, its top candidate when the match probability
is at least 0.5 (recordlinkage: ECM's per-pair posterior; Splink: ``match_probability``
with the prior set to 1/n, one true match per target; idrisk: block-normalised
probability), and claims are scored against the hidden truth.

Splink is optional (``pip install splink``); if it is not installed its row says so. It
runs with exact comparisons and term-frequency adjustments on all 8 variables, u by random
sampling, m by EM (one session blocked on LA x sex, one on postcode district x year group
for the blocking fields), DuckDB capped at 4 GB, and returns pairs with P >= 0.01.
That hand-written pipeline stays the baseline. The row ``splink_engine`` runs the same
scenario through ``simulate_intruder(..., engine="splink")`` (Splink's blocking and
comparison vectors scored by idrisk's estimators: the idrisk row's claims), DuckDB capped
at 4 GB likewise; it is not in the default list (``--engines idrisk,splink_engine``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
VARS = ["la_code", "sex", "year_group", "birth_month", "ethnicity_major", "postcode_district",
        "sen_provision", "eal"]
COMPARED = ["year_group", "birth_month", "ethnicity_major", "postcode_district", "sen_provision", "eal"]


def scenario(blocking):
    from idrisk.intruder import IntruderScenario

    return IntruderScenario(
        name="bench_bulk", quasi_identifiers=VARS, blocking=blocking,
        error_rate={"year_group": 0.02, "birth_month": 0.05, "ethnicity_major": 0.10, "eal": 0.05,
                    "sen_provision": 0.05},
        missing_rate={"sen_provision": 0.20, "ethnicity_major": 0.10},
        change_rate={"postcode_district": 0.08}, time_lag_years=1.0,
    )


def make_inputs(n, n_aux, tmp, seed=0, blocking=(("la_code", "sex"),)):
    from idrisk.datasets import make_population
    from idrisk.intruder import make_auxiliary

    pop = make_population(n, seed=seed, progress=False)
    ext = pop[VARS].copy()
    for c in ("la_code", "sex", "ethnicity_major", "postcode_district", "sen_provision"):
        ext[c] = ext[c].astype(str)
    ext["year_group"] = ext["year_group"].astype("int64")
    ext["birth_month"] = ext["birth_month"].astype("int64")
    sc = scenario([list(b) for b in blocking])
    sc.targets = n_aux
    aux = make_auxiliary(ext, sc, seed=seed)
    pe = os.path.join(tmp, f"ext_{n}.parquet")
    pa = os.path.join(tmp, f"aux_{n}.parquet")
    ext.to_parquet(pe)
    aux.to_parquet(pa)
    return pe, pa


def _claims(best_e, best_p, truth):
    claimed = best_p >= 0.5
    correct = claimed & (best_e == truth)
    C, TP = int(claimed.sum()), int(correct.sum())
    return {"claims": C, "correct": TP, "precision": TP / C if C else float("nan")}


def run_idrisk(pe, pa, blocking):
    from idrisk.intruder import simulate_intruder

    ext, aux = pd.read_parquet(pe), pd.read_parquet(pa)
    sc = scenario([list(b) for b in blocking])
    simulate_intruder(ext.head(2000), aux[aux["_truth_row"] < 2000].head(200), sc)  # JIT outside the timer
    t = time.perf_counter()
    r = simulate_intruder(ext, aux, sc, seed=0)
    dt = time.perf_counter() - t
    return {"seconds": dt, "pairs": r.n_candidate_pairs, "claims": r.claims, "correct": r.correct_claims,
            "precision": r.precision}


def run_recordlinkage(pe, pa, blocking):
    import recordlinkage

    ext, aux = pd.read_parquet(pe), pd.read_parquet(pa)
    truth = aux.pop("_truth_row").to_numpy()
    t = time.perf_counter()
    idx = recordlinkage.Index()
    for b in blocking:
        idx.block(left_on=list(b), right_on=list(b))
    pairs = idx.index(aux, ext)
    comp = recordlinkage.Compare(n_jobs=1)
    for c in COMPARED:
        comp.exact(c, c, label=c)
    feats = comp.compute(pairs, aux, ext)
    ecm = recordlinkage.ECMClassifier(binarize=None)
    ecm.fit(feats)
    prob = ecm.prob(feats)
    # top candidate per target
    df = pd.DataFrame({"a": pairs.get_level_values(0), "e": pairs.get_level_values(1), "p": prob.to_numpy()})
    df = df.sort_values(["a", "p"], ascending=[True, False]).drop_duplicates("a")
    best_e = np.full(len(aux), -1)
    best_p = np.zeros(len(aux))
    best_e[df["a"].to_numpy()] = df["e"].to_numpy()
    best_p[df["a"].to_numpy()] = df["p"].to_numpy()
    dt = time.perf_counter() - t
    return {"seconds": dt, "pairs": int(len(pairs)), **_claims(best_e, best_p, truth)}


def run_splink(pe, pa, blocking):
    try:
        import splink  # noqa: F401
    except ImportError:
        return {"skipped": "splink is not installed (pip install splink)"}
    import logging

    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    logging.getLogger("splink").setLevel(logging.ERROR)
    ext, aux = pd.read_parquet(pe), pd.read_parquet(pa)
    truth = aux.pop("_truth_row").to_numpy()
    ext = ext.assign(unique_id=np.arange(len(ext)))
    aux = aux.assign(unique_id=np.arange(len(aux)))
    import duckdb

    t = time.perf_counter()
    # a memory cap (DuckDB spills to disk beyond it) keeps the shared machine usable
    db = DuckDBAPI(connection=duckdb.connect(config={"memory_limit": "4GB", "threads": os.cpu_count()}))
    sdf_a = db.register(aux, table_name="aux")
    sdf_e = db.register(ext, table_name="ext")
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[cl.ExactMatch(c).configure(term_frequency_adjustments=True) for c in VARS],
        blocking_rules_to_generate_predictions=[block_on(*b) for b in blocking],
        probability_two_random_records_match=1.0 / len(ext),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([sdf_a, sdf_e], settings, log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=0)
    for b in blocking:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*b))
    # the blocking fields get their m from a session blocked on other fields
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode_district", "year_group"))
    # every pair is scored; only pairs with P >= 0.01 are returned (a claim needs P >= 0.5),
    # since materialising all 15M scored rows in pandas took 18 GB
    pred = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    left_is_aux = (pred["source_dataset_l"] == "aux").to_numpy()
    a = np.where(left_is_aux, pred["unique_id_l"], pred["unique_id_r"])
    e = np.where(left_is_aux, pred["unique_id_r"], pred["unique_id_l"])
    df = pd.DataFrame({"a": a, "e": e, "p": pred["match_probability"].to_numpy()})
    df = df.sort_values(["a", "p"], ascending=[True, False]).drop_duplicates("a")
    best_e = np.full(len(aux), -1)
    best_p = np.zeros(len(aux))
    best_e[df["a"].to_numpy()] = df["e"].to_numpy()
    best_p[df["a"].to_numpy()] = df["p"].to_numpy()
    dt = time.perf_counter() - t
    # candidate pairs scored (same blocking as the others), counted outside the timer
    scored = 0
    for b in blocking:
        ce = ext.groupby(list(b), observed=True).size()
        ca = aux.groupby(list(b), observed=True).size()
        scored += int((ce * ca.reindex(ce.index, fill_value=0)).sum())
    return {"seconds": dt, "pairs": scored, "returned_pairs": int(len(pred)), **_claims(best_e, best_p, truth)}


def run_splink_engine(pe, pa, blocking):
    try:
        import splink  # noqa: F401
    except ImportError:
        return {"skipped": "splink is not installed (pip install 'idrisk[splink]')"}
    import duckdb

    from idrisk.intruder import simulate_intruder

    ext, aux = pd.read_parquet(pe), pd.read_parquet(pa)
    sc = scenario([list(b) for b in blocking])
    con = duckdb.connect(config={"memory_limit": "4GB", "threads": os.cpu_count()})
    t = time.perf_counter()
    r = simulate_intruder(ext, aux, sc, seed=0, engine="splink", splink_options={"duckdb_connection": con})
    dt = time.perf_counter() - t
    return {"seconds": dt, "pairs": r.n_candidate_pairs, "claims": r.claims, "correct": r.correct_claims,
            "precision": r.precision}


ENGINES = {"idrisk": run_idrisk, "recordlinkage": run_recordlinkage, "splink": run_splink,
           "splink_engine": run_splink_engine}


def child(engine, pe, pa, blocking):
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = ENGINES[engine](pe, pa, blocking)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rss_before_mb"] = base / 1024
    print("RESULT " + json.dumps(out))


def spawn(engine, pe, pa, blocking):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", engine, pe, pa, json.dumps(blocking)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (proc.stderr or proc.stdout)[-800:]}


def fmt(name, r, ref=None):
    if "seconds" not in r:
        return f"  {name:14s} {r.get('skipped') or r.get('error')}"
    s = (f"  {name:14s} {r['seconds']:8.2f} s  pairs {r['pairs']:>11,}  claims {r['claims']:>6}  "
         f"correct {r['correct']:>6}  precision {r['precision']:.4f}  peak RSS {r['peak_rss_mb']:7.0f} MB")
    if ref is not None:
        s += f"  | {r['seconds'] / ref['seconds']:5.1f}x idrisk's time"
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=4)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--engines", default="idrisk,recordlinkage,splink")
    args = ap.parse_args()
    if args.child:
        engine, pe, pa, blocking = args.child
        child(engine, pe, pa, [tuple(b) for b in json.loads(blocking)])
        return
    n, n_aux = (20_000, 4_000) if args.quick else (100_000, 20_000)
    blocking = [["la_code", "sex"]]
    with tempfile.TemporaryDirectory() as tmp:
        pe, pa = make_inputs(n, n_aux, tmp)
        print(f"extract {n:,} x auxiliary {n_aux:,}, blocking LA x sex, 8 known variables "
              f"(cpu count {os.cpu_count()}, shared machine: read the ratios)")
        res = {}
        for eng in args.engines.split(","):
            res[eng] = spawn(eng, pe, pa, blocking)
            print(fmt(eng, res[eng], res.get("idrisk") if eng != "idrisk" else None), flush=True)
        ref = res.get("idrisk")
        if ref and "seconds" in ref:
            for eng in ("recordlinkage", "splink", "splink_engine"):
                r = res.get(eng, {})
                if "seconds" in r:
                    print(f"  speed-up vs {eng}: {r['seconds'] / ref['seconds']:.1f}x; precision "
                          f"{ref['precision']:.4f} vs {r['precision']:.4f} "
                          f"({'equal or better' if ref['precision'] >= r['precision'] - 1e-12 else 'WORSE'})")
        if not (args.quick or args.skip_1m):
            pe1, pa1 = make_inputs(1_000_000, 100_000, tmp)
            blocking1 = [["la_code", "sex", "year_group"]]
            r = spawn("idrisk", pe1, pa1, blocking1)
            print("extract 1,000,000 x auxiliary 100,000, blocking LA x sex x year group")
            print(fmt("idrisk", r))
            if "seconds" in r:
                print(f"  under 2 minutes: {'yes' if r['seconds'] < 120 else 'NO'}")


if __name__ == "__main__":
    main()
