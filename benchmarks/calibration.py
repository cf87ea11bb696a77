"""Calibration of the simulated intruder on real files as populations, with our own divergence model.

Usage::

    PYTHONPATH=. python benchmarks/calibration.py                 # full grid, 5 seeds, both files
    PYTHONPATH=. python benchmarks/calibration.py --seeds 2 --files adult --settings 1,2,8

Populations: UCI Adult (48,842 records; Becker & Kohavi 1996, CC BY 4.0) and the ONS 2011
Census teaching-file extract of 50,000 records (QUIPP copy, OGL), read from ``--data``
(default ``/work/shared/data``; see the READMEs there). The extract is the population
(sampling fraction 1) or a simple random sample of it (0.15 or 0.2); the intruder's targets
are drawn from the extract with response knowledge, from the population without it.

Divergence (our own model, not :func:`idrisk.intruder.make_auxiliary`): per target and key
variable, in this order, a +-1 shift of an ordered variable (age, age band) with rate
``shift``; a recording error with rate ``error`` (another value drawn from the population's
column, different from the true one); a blank with rate ``missing``. ``--divergence`` places
them otherwise (:data:`DIVERGENCE`: wrong values drawn evenly from the other values, shifts of
up to three steps, blanks more often on rare values). Coarsening gives the
intruder and the extract a coarser key: adult's age in 5-year bands; the census teaching file's
``Age`` is already eight bands (0-15, 16-24, then ten-year bands to 75+), merged in adjacent pairs
(0-24, 25-44, 45-64, 65+). A shift of the coarsened variable moves it one band.

For each setting and seed the script runs :func:`idrisk.intruder.simulate_intruder` and reads,
pooled over seeds: the stated expected correct claims (sum of the claims' confidences) against
the actual; the >= 0.9 band's mean stated confidence against its precision; the correct claims
of the exact-match intruder beside. Criteria (issue 15): stated within 10 % of actual in every
setting; >= 0.9 band precision within 0.05 of its stated mean; with response knowledge the
simulated intruder at least as many correct claims as the exact-match intruder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd

DATA = "/work/shared/data"
ADULT_KEY = ["age", "sex", "race", "education", "marital-status", "relationship", "workclass", "native-country"]
CENSUS_KEY = ["Region", "Sex", "Age", "Marital Status", "Ethnic Group", "Religion", "Country of Birth",
              "Economic Activity"]
ORDERED = {"age", "Age", "age_band"}
#: the variable each file coarsens, and the step of one band of its coarsened codes
COARSE = {"adult": ("age", 5), "census": ("Age", 1)}
#: multi-pass blocking of the issue's report (adult) and its census counterpart
PASSES = {"adult": [["sex", "age"], ["education", "marital-status", "sex"], ["relationship", "age"]],
          "census": [["Sex", "Age"], ["Region", "Marital Status", "Sex"], ["Economic Activity", "Age"]]}

NOISE = {
    "none": {"error": 0.0, "missing": 0.0, "shift": 0.0},
    "moderate": {"error": 0.05, "missing": 0.05, "shift": 0.05},
    "heavy": {"error": 0.15, "missing": 0.10, "shift": 0.15},
}
#: targets per run with response knowledge: 10,000 (50,000 over five seeds) measures the
#: ratio to a few per cent
TARGETS = 10_000
#: targets per run without response knowledge: None, every person of the population. At a
#: sampling fraction of 0.1 to 0.2 most targets are not in the extract and few are claimed: on
#: the census file 10,000 targets gave 28 to 57 claims a run, a binomial sd near 15 % of the
#: correct claims, above the 10 % the criterion allows (two settings failed on noise alone and
#: read 0.99 and 1.01 over the whole population)
TARGETS_NORK = None
#: (noise, sampling fraction, response knowledge, blocking, coarsen)
SETTINGS = [
    ("none", 1.0, True, "default", False),
    ("moderate", 1.0, True, "default", False),
    ("heavy", 1.0, True, "default", False),
    ("moderate", 1.0, True, "default", True),
    ("none", 1.0, True, "multi", False),
    ("moderate", 1.0, True, "multi", False),
    ("moderate", 0.15, True, "default", False),
    ("heavy", 0.2, True, "multi", False),
    ("none", 0.15, False, "default", False),
    ("moderate", 0.15, False, "default", False),
    ("heavy", 0.15, False, "default", False),
    ("moderate", 0.2, False, "multi", False),
    ("moderate", 0.1, False, "default", True),
]


def load(name: str, data: str) -> tuple[pd.DataFrame, list]:
    if name == "adult":
        df = pd.read_csv(os.path.join(data, "uci_adult", "adult_full.csv.gz"), keep_default_na=False)
        df = df[ADULT_KEY].copy()
        df["age_band"] = (df["age"] // 5) * 5
        return df, list(ADULT_KEY)
    df = pd.read_csv(os.path.join(data, "ons_census2011_teaching", "census2011_teaching_quipp50k.csv.gz"))
    df = df[CENSUS_KEY].copy()
    df["age_band"] = (df["Age"] + 1) // 2  # bands 1-8 merged in pairs: 1 (0-24), 2 (25-44), 3 (45-64), 4 (65+)
    return df, list(CENSUS_KEY)


#: divergence models (``--divergence``): how the errors, shifts and blanks of a noise level fall
DIVERGENCE = {
    "own": "a wrong value drawn from the population's column; shifts of one step; blanks at random",
    "uniform": "a wrong value drawn evenly from the column's other values",
    "wide-shift": "shifts of one to three steps (either way, evenly)",
    "mnar": "blanks more often on rare values: rate x sqrt(1 / (L p(x))), at most 0.6",
}


def diverge(pop: pd.DataFrame, rows: np.ndarray, key: list, noise: dict, rng, band_step: int = 5,
            model: str = "own") -> pd.DataFrame:
    """The intruder's values for population ``rows``: shifts, recording errors, blanks, as the
    divergence ``model`` of :data:`DIVERGENCE` places them."""
    out = {}
    for v in key:
        col = pop[v].to_numpy()
        vals = col[rows].astype(object)
        n = rows.shape[0]
        if v in ORDERED and noise["shift"]:
            s = rng.random(n) < noise["shift"]
            size = rng.integers(1, 4, n) if model == "wide-shift" else 1
            step = np.where(rng.random(n) < 0.5, -1, 1) * size * (band_step if v == "age_band" else 1)
            vals[s] = (vals[s].astype(np.int64) + step[s]).astype(object)
        if noise["error"]:
            e = np.flatnonzero(rng.random(n) < noise["error"])
            levels = pd.unique(col)
            for i in e:
                if model == "uniform":  # another value of the column, each as likely
                    others = [x for x in levels if x != vals[i]]
                    vals[i] = others[rng.integers(len(others))]
                    continue
                for _ in range(50):  # another value of the column, drawn from the population
                    x = col[rng.integers(len(col))]
                    if x != vals[i]:
                        vals[i] = x
                        break
        if noise["missing"]:
            if model == "mnar":
                share = pd.Series(col).value_counts(normalize=True)
                p = share.reindex(pd.Series(col[rows])).to_numpy(dtype=np.float64)
                rate = np.clip(noise["missing"] * np.sqrt(1.0 / (share.shape[0] * p)), 0.0, 0.6)
                vals[rng.random(n) < rate] = None
            else:
                vals[rng.random(n) < noise["missing"]] = None
        out[v] = vals
    aux = pd.DataFrame(out)
    for v in key:
        if pd.api.types.is_integer_dtype(pop[v].dtype):
            aux[v] = pd.array(aux[v].to_list(), dtype="Int64").astype("float64")
        else:
            aux[v] = aux[v].astype(object)
    return aux


def one_run(pop, key, file, setting, seed, n_targets, divergence="own"):
    from idrisk.intruder import IntruderScenario, simulate_intruder

    noise, pi, rk, blocking, coarse = setting
    rng = np.random.default_rng(seed)
    fine, step = COARSE[file]
    key = [("age_band" if (coarse and v == fine) else v) for v in key]
    n = len(pop)
    in_ext = np.sort(rng.choice(n, size=int(round(pi * n)), replace=False)) if pi < 1 else np.arange(n)
    ext = pop.iloc[in_ext][key].reset_index(drop=True)
    for v in key:
        if pd.api.types.is_integer_dtype(ext[v].dtype):
            ext[v] = ext[v].astype("float64")
    pos = np.full(n, -1)
    pos[in_ext] = np.arange(in_ext.shape[0])
    pool = in_ext if rk else np.arange(n)
    size = pool.shape[0] if n_targets is None else min(n_targets, pool.shape[0])
    rows = np.sort(rng.choice(pool, size=size, replace=False))
    aux = diverge(pop, rows, key, NOISE[noise], rng, step, divergence)
    aux["_truth_row"] = pos[rows]
    passes = None
    if blocking == "multi":
        passes = [[("age_band" if (coarse and v == fine) else v) for v in p] for p in PASSES[file]]
    sc = IntruderScenario(name=f"cal_{file}", quasi_identifiers=key, blocking=passes, response_knowledge=rk,
                          membership_prior=None if rk else pi)
    t = time.perf_counter()
    r = simulate_intruder(ext, aux, sc, seed=seed, sampling_fraction=pi)
    dt = time.perf_counter() - t
    top = r.by_confidence.set_index("band").loc[">=0.9"]
    return {"claims": r.claims, "correct": r.correct_claims, "stated": r.expected_correct,
            "top_claims": int(top["claims"]), "top_correct": int(top["correct"]),
            "top_stated": float(top["mean_confidence"]) * int(top["claims"]) if top["claims"] else 0.0,
            "baseline_claims": r.exact_match_claims, "baseline_correct": r.exact_match_correct,
            "seconds": dt, "m": r.em["m"]}


def label(setting) -> str:
    noise, pi, rk, blocking, coarse = setting
    return f"{noise}{'+coarse' if coarse else ''} pi={pi:g} {'RK' if rk else 'noRK'} {blocking}"


def summarise(rows: list) -> dict:
    agg = {k: float(sum(r[k] for r in rows)) for k in ("claims", "correct", "stated", "top_claims", "top_correct",
                                                          "top_stated", "baseline_claims", "baseline_correct")}
    agg["ratio"] = agg["stated"] / agg["correct"] if agg["correct"] else float("nan")
    agg["top_mean"] = agg["top_stated"] / agg["top_claims"] if agg["top_claims"] else float("nan")
    agg["top_precision"] = agg["top_correct"] / agg["top_claims"] if agg["top_claims"] else float("nan")
    return agg


def criteria(setting, a) -> dict:
    rk = setting[2]
    within = (abs(a["stated"] - a["correct"]) <= 0.10 * a["correct"]) if a["correct"] else a["stated"] < 1.0
    band = (abs(a["top_precision"] - a["top_mean"]) <= 0.05) if a["top_claims"] else True
    base = (a["correct"] >= a["baseline_correct"]) if rk else True
    return {"stated_within_10pct": bool(within), "top_band_within_0.05": bool(band), "beats_baseline": bool(base)}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--files", default="adult,census")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--targets", type=int, default=TARGETS, help="targets per run with response knowledge")
    ap.add_argument("--targets-nork", type=int, default=TARGETS_NORK,
                    help="targets per run without response knowledge (default: the whole population)")
    ap.add_argument("--settings", default="")
    ap.add_argument("--divergence", default="own", choices=sorted(DIVERGENCE),
                    help="how errors, shifts and blanks fall: " + "; ".join(f"{k}: {v}" for k, v in DIVERGENCE.items()))
    ap.add_argument("--json", default="")
    args = ap.parse_args(argv)
    chosen = [int(x) for x in args.settings.split(",") if x] or list(range(1, len(SETTINGS) + 1))
    table = []
    for file in args.files.split(","):
        pop, key = load(file, args.data)
        for i in chosen:
            setting = SETTINGS[i - 1]
            n_t = args.targets if setting[2] else args.targets_nork
            rows = [one_run(pop, key, file, setting, seed, n_t, args.divergence) for seed in range(args.seeds)]
            a = summarise(rows)
            c = criteria(setting, a)
            table.append({"file": file, "setting": i, "label": label(setting), **a, **c,
                          "seconds": sum(r["seconds"] for r in rows)})
            print(f"{file:6s} {i:2d} {label(setting):34s} claims {a['claims']:6.0f} stated {a['stated']:8.1f} "
                  f"actual {a['correct']:6.0f} ratio {a['ratio']:5.3f} | >=0.9: {a['top_claims']:5.0f} "
                  f"stated {a['top_mean']:.3f} actual {a['top_precision']:.3f} | exact-match "
                  f"{a['baseline_correct']:5.0f} | {' '.join(k for k, ok in c.items() if not ok) or 'ok'}",
                  flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(table, fh, indent=1)
    failed = [t for t in table if not all(t[k] for k in ("stated_within_10pct", "top_band_within_0.05",
                                                           "beats_baseline"))]
    print(f"{len(table) - len(failed)} of {len(table)} settings meet every criterion")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
