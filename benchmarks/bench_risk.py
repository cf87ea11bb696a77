"""asv suite for probabilistic risk: individual, global and household risk,
population uniqueness.

The baseline ratios (plain pandas timed in the same run) are printed by
benchmarks/ratios_risk.py; this suite tracks our own timings across commits. Setup calls
each function once on a small frame so JIT compilation (or numba's cache load) stays
outside the timed region.
"""

import numpy as np
import pandas as pd

import idrisk

try:
    from .make_synth import make
except ImportError:  # run as a plain module
    from make_synth import make

QIS8 = [f"k{j}" for j in range(1, 9)]


def _frame(n, seed=20240601):
    cols, w, hid, _ = make(n, seed)
    df = pd.DataFrame(cols)
    df["w"] = w
    df["hid"] = hid
    return df


class IndividualRisk:
    params = ([100_000, 1_000_000],)
    param_names = ["n_records"]
    timeout = 600

    def setup(self, n):
        self.df = _frame(n)
        idrisk.global_risk(self.df.head(500), QIS8, weights="w", household="hid")
        idrisk.individual_risk(self.df.head(500), QIS8, weights="w", method="exact")

    def time_global_with_household(self, n):
        """fk/Fk + BF risk + household risk + ER + threshold (sdcMicro measure_risk(hid=))."""
        idrisk.global_risk(self.df, QIS8, weights="w", household="hid")

    def time_individual_with_household(self, n):
        idrisk.individual_risk(self.df, QIS8, weights="w", household="hid")

    def time_individual_exact(self, n):
        idrisk.individual_risk(self.df, QIS8, weights="w", method="exact")

    def track_expected_reidentifications(self, n):
        """Guards against silent drift of the result itself."""
        return idrisk.global_risk(self.df, QIS8, weights="w").expected_reidentifications

    track_expected_reidentifications.unit = "records"


class PopulationUniqueness:
    params = ([100_000, 1_000_000],)
    param_names = ["n_records"]
    timeout = 600

    def setup(self, n):
        self.df = _frame(n)[QIS8]
        idrisk.population_uniqueness(self.df.head(500), QIS8, population_size=5000)

    def time_population_uniqueness(self, n):
        idrisk.population_uniqueness(self.df, QIS8, population_size=10 * n)
