"""asv benchmarks for idrisk.datasets: population generation, writing, auxiliary sources.

    asv run --quick --python=same --show-stderr --bench bench_datasets
"""

from __future__ import annotations

import os
import tempfile

import idrisk.datasets as ds


class Population:
    params = [100_000, 1_000_000]
    param_names = ["n"]
    timeout = 300

    def setup(self, n):
        ds.make_population(1_000, seed=0)  # imports, first-call costs outside the timer

    def time_make_population(self, n):
        ds.make_population(n, seed=1)

    def peakmem_make_population(self, n):
        ds.make_population(n, seed=1)

    def track_bytes_per_pupil(self, n):
        return float(ds.make_population(n, seed=1).memory_usage(deep=True).sum() / n)

    track_bytes_per_pupil.unit = "bytes"


class Write:
    params = [["parquet", "csv"]]
    param_names = ["format"]
    timeout = 300

    def setup(self, fmt):
        self.df = ds.make_population(300_000, seed=1)
        self.dir = tempfile.mkdtemp()

    def time_write_frame(self, fmt):
        ds.io.write_frame(self.df, os.path.join(self.dir, f"p.{fmt}"), overwrite=True)


class Auxiliary:
    timeout = 300

    def setup_cache(self):
        return ds.make_population(300_000, seed=2)

    def time_school_tables(self, pop):
        ds.school_tables(pop)

    def time_social_media_profiles_20k(self, pop):
        ds.social_media_profiles(pop, 20_000, seed=1, time_lag_years=1)

    def time_nosy_neighbour_1k(self, pop):
        ds.nosy_neighbour(pop, 1_000, seed=1)

    def time_extract_ks4(self, pop):
        ds.extract(pop, "ks4")

    def track_profile_error_rate(self, pop):
        # guards against silent drift of the configured error rate (5%)
        p = ds.social_media_profiles(pop, 20_000, seed=1)
        return float(p.filter(like="_error_").to_numpy().mean())
