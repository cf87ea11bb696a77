"""Timings and ratios for k_anonymity / l_diversity (and t_closeness, sample_risks) against
pandas groupby baselines measured in the same run, on benchmarks/make_synth.py data.

    .venv/bin/python benchmarks/ratios_diversity.py [--n 1000000] [--repeat 3]

The 'idrisk' column starts from the raw frame (all encoding included); 'pre-enc' starts
from an :class:`idrisk.Encoded` of the same columns. Each figure is the best of
``--repeat`` runs after one warm-up call (numba compilation excluded). The machine may be
shared: read the ratios, not the absolute times alone. The issue quotes pycanon at 7 s
(k-anonymity) and 66 s (l-diversity) for 1M rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import idrisk  # noqa: E402
from benchmarks.bench_diversity import KEYS, pandas_k_anonymity, pandas_l_diversity, synth_frame  # noqa: E402


def best(fn, repeat):
    fn()  # warm-up (JIT compile, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    df = synth_frame(args.n)
    print(f"data: make_synth n={args.n:,}, 8 keys (int64) + sens (10 values); {os.cpu_count()} CPUs, "
          f"numba threads {numba.get_num_threads()}")

    # the answers agree before we time them
    k = idrisk.k_anonymity(df, KEYS)
    kb = pandas_k_anonymity(df, KEYS)
    assert k.min_class_size == kb[0] and k.n_classes == kb[1] and k.records_below_k == kb[3]
    ld = idrisk.l_diversity(df, KEYS, "sens").per_record
    lb = pandas_l_diversity(df, KEYS, "sens")
    assert np.array_equal(ld["sens_distinct"].to_numpy(), lb["distinct"].to_numpy())
    assert np.array_equal(ld["sens_recursive"].to_numpy(), lb["recursive"].to_numpy())
    assert np.allclose(ld["sens_entropy"].to_numpy(), lb["entropy"].to_numpy(), rtol=1e-12)

    from idrisk._encode import encode  # noqa: PLC0415

    enc = encode(df, KEYS + ["sens"], warn_identifiers=False)
    t_enc = best(lambda: encode(df, KEYS), args.repeat)
    rows = [
        ("k_anonymity (8 keys)", lambda: idrisk.k_anonymity(df, KEYS),
         lambda: idrisk.k_anonymity(enc, KEYS), lambda: pandas_k_anonymity(df, KEYS)),
        ("l_diversity (8 keys, sens)", lambda: idrisk.l_diversity(df, KEYS, "sens"),
         lambda: idrisk.l_diversity(enc, KEYS, "sens"), lambda: pandas_l_diversity(df, KEYS, "sens")),
        ("sample_risks (8 keys)", lambda: idrisk.sample_risks(df, KEYS),
         lambda: idrisk.sample_risks(enc, KEYS), lambda: df.groupby(KEYS, sort=False).size()),
        ("t_closeness ordered (8 keys, sens)",
         lambda: idrisk.t_closeness(df, KEYS, "sens", distance="ordered"), None, None),
    ]
    print(f"encode() of the 8 keys, for reference: {t_enc:.3f} s (the raw-frame calls below fold raw "
          "integer columns directly and do not pay it; the 'pre-enc' calls start from Encoded)")
    print(f"{'measure':36s} {'idrisk s':>9s} {'pre-enc s':>10s} {'pandas s':>9s} {'ratio':>7s} {'ratio pre-enc':>14s}")
    for name, ours, ours_enc, base in rows:
        t_ours = best(ours, args.repeat)
        if base is None:
            print(f"{name:36s} {t_ours:9.3f} {'-':>10s} {'-':>9s} {'-':>7s} {'-':>14s}")
            continue
        t_pre = best(ours_enc, args.repeat)
        t_base = best(base, args.repeat)
        print(f"{name:36s} {t_ours:9.3f} {t_pre:10.3f} {t_base:9.3f} {t_base / t_ours:6.1f}x "
              f"{t_base / t_pre:13.1f}x")
    print("'pre-enc' = the same idrisk call on an Encoded object (everything except encoding).")
    print("baselines: k = groupby(...).transform('size') + class-size groupby; l = groupby(keys+[sens]).size()"
          " then per-class distinct / entropy / recursive and a merge back to records;"
          " sample_risks baseline = groupby(keys).size() alone (class sizes only)")


if __name__ == "__main__":
    main()
