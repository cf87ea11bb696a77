"""The simulated intruder through Splink's Spark backend, with the test session.

Splink's Spark and DuckDB backends run the same model specification. Splink draws the random
pairs for u by a hash of the record ids, each backend with its own hash, so the two backends
trained different models (on this fixture with seeds 0-2 Spark made 0.82-0.92 of DuckDB's
claims); idrisk now draws u on the driver for both (docs/methods.md#splink-on-spark), and EM
starts from the same m with the same settings, so everything agrees: this fixture keeps
term-frequency adjustments (EM iterates over the pairs, brought to the driver), the 100k x 20k
case of test_spark_intruder_scale.py has none (EM over the agreement-pattern counts).
"""

from __future__ import annotations

import math

import pytest

from idrisk.exceptions import InvalidParameterError
from idrisk.intruder import IntruderScenario, make_auxiliary, simulate_intruder

PERT_VARS = ["la_code", "sex", "year_group", "birth_month", "ethnicity_major", "sen_provision", "eal", "fsm"]
SAME = ("n_targets", "n_candidate_pairs", "pairs_per_pass", "targets_without_candidates",
        "targets_with_true_candidate", "unique_matches", "unique_matches_correct", "sample_uniques",
        "sample_pairs")


@pytest.fixture(scope="module")
def case():
    from idrisk.datasets import make_population

    ext = make_population(1500, seed=3, progress=False)[PERT_VARS].copy()
    sc = IntruderScenario(
        name="perturbed", quasi_identifiers=PERT_VARS, blocking=[["la_code", "sex"]], targets=250,
        error_rate={"birth_month": 0.05, "ethnicity_major": 0.10, "sen_provision": 0.05},
        missing_rate={"ethnicity_major": 0.10})
    return ext, make_auxiliary(ext, sc, seed=2), sc


def test_splink_spark_backend_agrees_with_duckdb(spark, case):
    ext, aux, sc = case
    duck = simulate_intruder(ext, aux, sc, seed=2, engine="splink")
    res = simulate_intruder(ext, aux, sc, seed=2, engine="splink", splink_backend="spark", spark_session=spark)
    for k in SAME:
        assert getattr(res, k) == getattr(duck, k), k
    assert duck.claims > 50
    assert (res.claims, res.correct_claims) == (duck.claims, duck.correct_claims)
    for name, levels in duck.em["levels"].items():
        for mine, ref in zip(res.em["levels"][name], levels):
            assert mine["u"] == ref["u"], name  # the same sample, drawn on the driver
            assert math.isclose(mine["m"], ref["m"], rel_tol=1e-9, abs_tol=1e-12), name
    assert res.precision > 0.8


def test_spark_backend_needs_a_checkpoint_directory(case):
    """A session without one is refused before any work (a stand-in: one Spark context per JVM)."""
    ext, aux, sc = case

    class Context:
        def getCheckpointDir(self):
            return None

    class Session:
        sparkContext = Context()

        def createDataFrame(self, *a):
            raise AssertionError("no work before the check")

        def sql(self, *a):
            raise AssertionError("no work before the check")

    with pytest.raises(InvalidParameterError, match="setCheckpointDir"):
        simulate_intruder(ext, aux, sc, engine="splink", splink_backend="spark", spark_session=Session())
