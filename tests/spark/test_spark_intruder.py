"""The simulated intruder through Splink's Spark backend, with the test session.

By default Splink (here on Spark) makes the candidate pairs and their comparison vectors and
idrisk's estimators score them on the driver (docs/methods.md#splink-engine), so the Spark
backend, the DuckDB backend and the idrisk engine give the same result. With
``probability="match_probability"`` Splink's own model is trained: Splink draws the random
pairs for u by a hash of the record ids, each backend with its own hash, so the two backends
trained different models (on this fixture with seeds 0-2 Spark made 0.82-0.92 of DuckDB's
claims); idrisk draws u on the driver for both (docs/methods.md#splink-on-spark), and EM
starts from the same m with the same settings, so everything agrees, without term-frequency
adjustments (EM over the agreement-pattern counts) and with them (EM iterates over the pairs,
brought to the driver).
"""

from __future__ import annotations

import dataclasses
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


def _without_backend(result):
    d = result.to_dict()
    for k in ("engine", "backend", "splink_version", "probability", "pairs"):
        d["em"].pop(k, None)
    return d


def test_splink_spark_backend_agrees_with_duckdb(spark, case):
    ext, aux, sc = case
    duck = simulate_intruder(ext, aux, sc, seed=2, engine="splink")
    res = simulate_intruder(ext, aux, sc, seed=2, engine="splink", splink_backend="spark", spark_session=spark)
    ref = simulate_intruder(ext, aux, sc, seed=2)
    assert duck.claims > 50 and res.em["backend"] == "spark"
    assert _without_backend(res) == _without_backend(duck) == _without_backend(ref)


@pytest.mark.parametrize("term_frequency", [False, True], ids=["pattern-counts", "term-frequency"])
def test_splinks_own_model_on_spark_agrees_with_duckdb(spark, case, term_frequency):
    ext, aux, sc = case
    sc = dataclasses.replace(sc, term_frequency=term_frequency)
    opts = {"probability": "match_probability"}
    duck = simulate_intruder(ext, aux, sc, seed=2, engine="splink", splink_options=opts)
    res = simulate_intruder(ext, aux, sc, seed=2, engine="splink", splink_backend="spark", spark_session=spark,
                            splink_options=opts)
    for k in SAME:
        assert getattr(res, k) == getattr(duck, k), k
    assert duck.claims > 50
    assert (res.claims, res.correct_claims) == (duck.claims, duck.correct_claims)
    for name, levels in duck.em["levels"].items():
        for mine, ref in zip(res.em["levels"][name], levels):
            assert mine["u"] == ref["u"], name  # the same sample, drawn on the driver
            assert math.isclose(mine["m"], ref["m"], rel_tol=1e-9, abs_tol=1e-12), name
    assert res.precision == duck.precision


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
