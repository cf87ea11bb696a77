# Provenance: verbatim copy of /work/shared/bench/make_synth.py (the shared benchmark data
# generator of the idrisk project, copied 2026-11-25 so that benchmarks do not read
# /work/shared at run time). Only this header was added (and the #! line dropped). Other benchmark suites import
# `make(n, seed)` from here: keep its signature and output unchanged.
"""Deterministic synthetic microdata for identification-risk benchmarks.

Usage:
    python3 make_synth.py N OUT.csv [--seed S]

Only numpy is required. Same (N, seed) -> byte-identical CSV.

Columns
  k1..k8  categorical key variables coded 1..c with cardinalities
          c = (2, 7, 18, 5, 3, 30, 12, 4); each drawn independently from a
          skewed (Zipf-like, p_j ∝ 1/j^1.8) distribution over its categories,
          with the category order randomly permuted per variable (so code 1 is
          not always the most frequent). k6 (30 cats) and k7 (12 cats) are made
          mildly dependent on k2 (region-like): with prob. 0.3 the value is
          re-drawn from a distribution shifted by k2, so there are realistic
          correlations and rare combinations.
  w       sampling weight, lognormal(log 100, 0.6) rounded to 2 decimals,
          clipped to >= 1
  hid     household id 1.. (households of size 1..6, consecutive rows)
  sens    sensitive categorical variable 1..10 (skewed, dependent on k1,k3)
No missing values.

Resulting sample-unique share on k1..k8 (fk == 1): ~53% at 10k rows, ~33% at
50k, ~10% at 1M (seed 20240601).
"""
import sys
import numpy as np

CARDS = (2, 7, 18, 5, 3, 30, 12, 4)
KEY_SKEW = 1.8


def zipf_probs(c, s):
    p = 1.0 / np.arange(1, c + 1) ** s
    return p / p.sum()


def make(n, seed=20240601):
    rng = np.random.default_rng(seed)
    cols = {}
    for j, c in enumerate(CARDS, start=1):
        perm = rng.permutation(c) + 1          # category codes 1..c, shuffled
        idx = rng.choice(c, size=n, p=zipf_probs(c, KEY_SKEW))
        cols[f"k{j}"] = perm[idx].astype(np.int64)
    # dependence of k6 and k7 on k2
    for name, c in (("k6", 30), ("k7", 12)):
        redraw = rng.random(n) < 0.3
        shifted = (cols["k2"] * 3 + rng.choice(c, size=n, p=zipf_probs(c, 1.5))) % c + 1
        cols[name] = np.where(redraw, shifted, cols[name]).astype(np.int64)
    w = np.round(rng.lognormal(mean=np.log(100.0), sigma=0.6, size=n), 2)
    w = np.maximum(w, 1.0)
    # households: sizes 1..6
    sizes = rng.choice(np.arange(1, 7), size=n, p=[0.28, 0.32, 0.16, 0.14, 0.07, 0.03])
    hid = np.repeat(np.arange(1, n + 1), sizes)[:n]
    # sensitive variable, depends on k1 and k3
    base = rng.choice(10, size=n, p=zipf_probs(10, 0.8))
    sens = (base + cols["k1"] + 2 * cols["k3"] * (rng.random(n) < 0.25)) % 10 + 1
    return cols, w, hid, sens


def write_csv(path, cols, w, hid, sens):
    n = len(w)
    names = list(cols) + ["w", "hid", "sens"]
    mat_int = np.column_stack([cols[k] for k in cols])
    with open(path, "w", newline="\n") as f:
        f.write(",".join(names) + "\n")
        # write in chunks for speed
        step = 100_000
        for s in range(0, n, step):
            e = min(n, s + step)
            lines = []
            for i in range(s, e):
                lines.append(",".join(map(str, mat_int[i])) + f",{w[i]:.2f},{hid[i]},{sens[i]}")
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    seed = 20240601
    if "--seed" in args:
        i = args.index("--seed"); seed = int(args[i + 1]); del args[i:i + 2]
    n = int(args[0]); out = args[1]
    write_csv(out, *make(n, seed))
