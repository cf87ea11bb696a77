"""asv suites for special uniques: SUDA2 and the QI-combination sweep.

* ``Suda8Keys``: SUDA2 at full depth on the 8 key variables of ``make(n, 20240601)``
  (benchmarks/make_synth.py), the issue's headline case at 1M records.
* ``SudaPupil10``: 10 QIs of the synthetic pupil population (``idrisk.datasets``) with
  ``max_size=4``.
* ``Sweep6``: ``combination_sweep`` over all 63 subsets of 6 QIs, with the DuckDB
  ``GROUP BY CUBE`` baseline timed in the same run.

benchmarks/ratios_suda.py prints the same timings with ratios and peak memory.
"""

from __future__ import annotations


import pandas as pd

KEYS = [f"k{j}" for j in range(1, 9)]
PUPIL_QIS = ["la_code", "school_type", "year_group", "birth_month", "sex", "ethnicity_minor",
             "fsm", "sen_provision", "eal", "first_language"]
SWEEP_QIS = KEYS[:6]


def _make():
    """``make(n, seed)`` of benchmarks/make_synth.py (the generator the issues' speed goals use)."""
    try:
        from .make_synth import make  # noqa: PLC0415  (asv, and ``python -m``)
    except ImportError:
        from make_synth import make  # noqa: PLC0415  (run as a script from benchmarks/)
    return make


def synth_keys(n: int, seed: int = 20240601) -> pd.DataFrame:
    cols = _make()(n, seed)[0]
    return pd.DataFrame(cols)[KEYS]


def pupil_qis(n: int, seed: int = 1) -> pd.DataFrame:
    import idrisk.datasets as ds  # noqa: PLC0415

    return ds.make_population(n, seed=seed, progress=False)[PUPIL_QIS]


def duckdb_cube(df: pd.DataFrame, qis) -> list:
    """The baseline: one DuckDB query grouping by every subset (CUBE), then per subset the
    number of classes, sample uniques, records below k and the smallest class."""
    import duckdb  # noqa: PLC0415

    cols = ", ".join(qis)
    below = ", ".join(f"sum(CASE WHEN c < {k} THEN c ELSE 0 END)" for k in (2, 3, 5, 10))
    q = (f"SELECT g, count(*), sum(CASE WHEN c = 1 THEN 1 ELSE 0 END), {below}, min(c) FROM "
         f"(SELECT GROUPING({cols}) AS g, count(*) AS c FROM t GROUP BY CUBE ({cols})) GROUP BY g")
    con = duckdb.connect()
    con.register("t", df)
    try:
        return con.execute(q).fetchall()
    finally:
        con.close()


class Suda8Keys:
    params = [100_000, 1_000_000]
    param_names = ["n_records"]
    timeout = 600

    def setup(self, n):
        from idrisk import suda  # noqa: PLC0415

        self.suda = suda
        self.df = synth_keys(n)
        suda(self.df.head(200), KEYS)  # compile outside the timer

    def time_suda_full_depth(self, n):
        self.suda(self.df, KEYS)

    def peakmem_suda_full_depth(self, n):
        self.suda(self.df, KEYS)

    def track_msus(self, n):
        return int(sum(self.suda(self.df, KEYS).msu_counts.values()))


class SudaPupil10:
    timeout = 600

    def setup_cache(self):
        return pupil_qis(1_000_000)

    def setup(self, df):
        from idrisk import suda  # noqa: PLC0415

        self.suda = suda
        suda(df.head(200), PUPIL_QIS, max_size=4)

    def time_suda_cap4(self, df):
        self.suda(df, PUPIL_QIS, max_size=4)

    def peakmem_suda_cap4(self, df):
        self.suda(df, PUPIL_QIS, max_size=4)


class Sweep6:
    timeout = 300

    def setup(self):
        from idrisk import combination_sweep  # noqa: PLC0415

        self.sweep = combination_sweep
        self.df = synth_keys(1_000_000)[SWEEP_QIS]
        combination_sweep(self.df.head(200), SWEEP_QIS)

    def time_combination_sweep(self):
        self.sweep(self.df, SWEEP_QIS)

    def time_duckdb_group_by_cube(self):
        duckdb_cube(self.df, SWEEP_QIS)

    def peakmem_combination_sweep(self):
        self.sweep(self.df, SWEEP_QIS)
