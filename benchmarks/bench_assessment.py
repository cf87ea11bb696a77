"""Benchmarks for idrisk.assess.

asv suite: a school-census extract of the synthetic pupil population with three scenarios
(each with an intruder preset), at 100k rows (asv; quick) and, run as a script, at 1M rows:

    .venv/bin/python benchmarks/bench_assessment.py [N_ROWS]     # default 1_000_000

The script shows the progress bar (forced on, on stderr), prints the wall time of each step
and the total, against the 3-minute target, and the time of a plain pandas groupby over
the same three keys measured in the same run (a floor: counting class sizes only).
"""

from __future__ import annotations

import sys
import time

SEED = 20240601


def scenarios():
    from idrisk.assessment import Scenario

    return [
        Scenario("nosy neighbour", ["urn", "year_group", "sex", "birth_month", "birth_year", "ethnicity_major"],
                 intruder="nosy_neighbour"),
        Scenario("journalist", ["urn", "year_group", "sex", "ethnicity_major", "sen_provision"],
                 intruder="journalist_fishing"),
        Scenario("bulk linkage", ["la_code", "postcode_district", "sex", "birth_month", "birth_year"],
                 intruder="bulk_linkage"),
    ]


def make_extract(n: int):
    from idrisk.datasets import extract, make_population

    ex = extract(make_population(n, seed=SEED), "school_census", include_date_of_birth=True)
    return ex


def options(ex, progress=False):
    tiers = dict(ex.sensitive_tiers)
    return dict(scenarios=scenarios(), direct_identifiers=list(ex.direct_identifiers), seed=SEED,
                sensitive={s: {"tier": tiers.get(s), "special_category": s == "sen_primary_need"}
                           for s in ex.sensitive if s != "sen_provision"},
                tiers={c: t for c, t in tiers.items() if c not in ex.sensitive and c not in ex.direct_identifiers},
                max_msu_size=4, sweep_max_size=3, intruder_targets=2000, progress=progress)


class Assess:
    timeout = 600
    params = [100_000]
    param_names = ["n_rows"]

    def setup(self, n):
        import idrisk

        self.ex = make_extract(n)
        idrisk.assess(self.ex.data.head(500), **options(self.ex))  # compile outside the timer

    def time_assess_three_scenarios(self, n):
        import idrisk

        idrisk.assess(self.ex.data, **options(self.ex))


def main(argv):
    import pandas as pd

    import idrisk

    n = int(argv[1]) if len(argv) > 1 else 1_000_000
    t0 = time.perf_counter()
    ex = make_extract(n)
    t_make = time.perf_counter() - t0
    df = ex.data
    print(f"extract: {len(df):,} rows x {df.shape[1]} columns (made in {t_make:.1f} s)", flush=True)
    t0 = time.perf_counter()
    idrisk.assess(df.head(2000), **options(ex))
    t_compile = time.perf_counter() - t0
    print(f"warm-up on 2,000 rows (numba compile / cache load): {t_compile:.1f} s", flush=True)
    t0 = time.perf_counter()
    res = idrisk.assess(df, **options(ex, progress=True))
    total = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in scenarios():
        df.groupby(s.quasi_identifiers, dropna=False, observed=True)[s.quasi_identifiers[0]].transform("size")
    t_pd = time.perf_counter() - t0
    steps = sorted(res.timings.items(), key=lambda kv: -kv[1])
    print("\nslowest steps:")
    for k, v in steps[:12]:
        print(f"  {k:<45} {v:7.1f} s")
    print(f"\nassess, {len(df):,} rows, 3 scenarios: {total:.1f} s (target <= 180 s: "
          f"{'met' if total <= 180 else 'NOT met'})")
    print(f"pandas groupby class sizes for the same 3 keys: {t_pd:.1f} s (assess / groupby = {total / t_pd:.0f}x; "
          "assess runs ~10 measures per key)")
    print(f"route: {res.route.recommended}; not computed: "
          f"{sum(len(s.not_computed) for s in res.scenarios)} measure(s)")
    for s in res.scenarios:
        for k, v in s.not_computed.items():
            print(f"  [{s.name}] {k}: {v}")


if __name__ == "__main__":
    main(sys.argv)
