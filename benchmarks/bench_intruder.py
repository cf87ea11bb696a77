"""asv suites for the simulated intruder (issue 6).

Data: the synthetic pupil population (idrisk.datasets.make_population), an extract of
all of it and an auxiliary table of 20% of the pupils with divergence (the scenario of
benchmarks/ratios_intruder.py: 8 known variables, errors, missing values, a one-year time
lag, blocking on LA x sex). ``time_`` and ``peakmem_`` cover the whole linkage
(encoding, blocking, comparison, EM, scoring); ``track_`` guards against silent accuracy
drift. The comparison with recordlinkage's ECMClassifier and Splink lives in
benchmarks/ratios_intruder.py (those take minutes, too long for asv).
"""

from __future__ import annotations

import numpy as np

VARS = ["la_code", "sex", "year_group", "birth_month", "ethnicity_major", "postcode_district",
        "sen_provision", "eal"]


def _scenario(n_aux):
    from idrisk.intruder import IntruderScenario

    return IntruderScenario(
        name="bench_bulk", quasi_identifiers=VARS, blocking=[["la_code", "sex"]], targets=n_aux,
        error_rate={"year_group": 0.02, "birth_month": 0.05, "ethnicity_major": 0.10, "eal": 0.05,
                    "sen_provision": 0.05},
        missing_rate={"sen_provision": 0.20, "ethnicity_major": 0.10},
        change_rate={"postcode_district": 0.08}, time_lag_years=1.0,
    )


def _data(n):
    from idrisk.datasets import make_population
    from idrisk.intruder import make_auxiliary

    pop = make_population(n, seed=0, progress=False)
    ext = pop[VARS].copy()
    sc = _scenario(n // 5)
    return ext, make_auxiliary(ext, sc, seed=0), sc


class SimulateIntruder:
    params = [20_000, 100_000]
    param_names = ["n_extract"]
    timeout = 600

    def setup(self, n):
        from idrisk.intruder import simulate_intruder

        self.ext, self.aux, self.sc = _data(n)
        small = self.aux[self.aux["_truth_row"] < 1000]
        simulate_intruder(self.ext.iloc[:1000], small, self.sc)  # compile outside the timer

    def time_simulate_intruder(self, n):
        from idrisk.intruder import simulate_intruder

        simulate_intruder(self.ext, self.aux, self.sc, seed=0)

    def peakmem_simulate_intruder(self, n):
        from idrisk.intruder import simulate_intruder

        simulate_intruder(self.ext, self.aux, self.sc, seed=0)


class IntruderAccuracy:
    timeout = 600

    def setup_cache(self):
        from idrisk.intruder import simulate_intruder

        ext, aux, sc = _data(20_000)
        r = simulate_intruder(ext, aux, sc, seed=0)
        return {"precision": r.precision, "correct": r.correct_claims, "brier": r.brier_score}

    def track_precision(self, res):
        return res["precision"]

    def track_correct_claims(self, res):
        return res["correct"]

    def track_brier_score(self, res):
        return res["brier"]


class Kernels:
    """The numba kernels on pre-built arrays (no encoding): EM over patterns and scoring."""

    def setup(self):
        from idrisk._kernels import linkage as K

        rng = np.random.default_rng(0)
        self.n_a, per = 20_000, 300
        self.ptr = np.arange(0, self.n_a * per + 1, per, dtype=np.int64)
        n = int(self.ptr[-1])
        self.pe = rng.integers(0, 100_000, n).astype(np.int64)
        self.gamma = rng.integers(-1, 2, size=(6, n)).astype(np.int8)
        self.W = rng.normal(size=n)
        self.draw = rng.random(self.n_a)
        self.rows = np.arange(6, dtype=np.int64)
        K.pattern_counts(self.gamma[:, :10], self.rows, np.zeros(0, dtype=np.bool_))
        K.score_targets(self.ptr[:3], self.pe, self.W, self.gamma, -np.inf, self.draw, 1e-9)

    def time_pattern_counts(self):
        from idrisk._kernels import linkage as K

        K.pattern_counts(self.gamma, self.rows, np.zeros(0, dtype=np.bool_))

    def time_score_targets(self):
        from idrisk._kernels import linkage as K

        K.score_targets(self.ptr, self.pe, self.W, self.gamma, -np.inf, self.draw, 1e-9)


class Calibration:
    """Calibration on a real file as population (tests/calibration/, UCI Adult subset): with
    moderate noise and response knowledge, the ratio of the stated expected correct claims to
    the actual (1 is calibrated), the correct claims, and those of the exact-match intruder
    beside. The full grid over both real files is benchmarks/calibration.py."""

    timeout = 600

    def setup_cache(self):
        import os
        import sys

        import pandas as pd

        from idrisk.intruder import IntruderScenario, simulate_intruder

        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, here)
        from calibration import NOISE, diverge

        path = os.path.join(here, "..", "tests", "calibration", "adult_train_first4000.csv.gz")
        pop = pd.read_csv(path, keep_default_na=False)
        key = list(pop.columns)
        ext = pop.astype({"age": "float64"})
        stated = correct = base = 0.0
        for seed in range(3):
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(len(pop), 1000, replace=False))
            aux = diverge(pop, rows, key, NOISE["moderate"], rng).assign(_truth_row=rows)
            r = simulate_intruder(ext, aux, IntruderScenario(name="cal", quasi_identifiers=key), seed=seed)
            stated += r.expected_correct
            correct += r.correct_claims
            base += r.exact_match_correct
        return {"ratio": stated / correct, "correct": correct, "exact_match": base}

    def track_calibration_ratio(self, res):
        return res["ratio"]

    def track_correct_claims(self, res):
        return res["correct"]

    def track_exact_match_correct_claims(self, res):
        return res["exact_match"]
