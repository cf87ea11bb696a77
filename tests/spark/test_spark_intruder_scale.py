"""The Splink-Spark intruder on the 100k x 20k case against its DuckDB counterpart.

The case of ``benchmarks/ratios_spark.py --intruder 100000 20000 --no-term-frequency`` (Spark
about 70 s, DuckDB about 5 s in one run on 2 shared cores at a load of 6): a synthetic population of
100,000 pupils as the extract, 20,000 targets with the perturbed scenario (wrong birth
month, ethnicity and SEN provision; blanked ethnicity), blocking on local authority, sex and
year group (1.7 million candidate pairs), here without term-frequency adjustments.

Splink makes the candidate pairs and comparison vectors on Spark, they come to the driver
and idrisk's estimators score them (docs/methods.md#splink-engine), so the result is the
DuckDB backend's (Splink's reference backend) to the last digit.
"""

from __future__ import annotations

import pytest

from idrisk.intruder import IntruderScenario, make_auxiliary, simulate_intruder

QIS = ["la_code", "sex", "year_group", "birth_month", "ethnicity_major", "sen_provision", "eal", "fsm"]
COUNTS = ("n_targets", "n_candidate_pairs", "pairs_per_pass", "targets_without_candidates",
          "targets_with_true_candidate", "unique_matches", "unique_matches_correct", "sample_uniques",
          "sample_pairs", "claims", "correct_claims")
N, TARGETS = 100_000, 20_000


@pytest.fixture(scope="module")
def case():
    from idrisk.datasets import make_population

    ext = make_population(N, seed=3, progress=False)[QIS].copy()
    sc = IntruderScenario(name="perturbed", quasi_identifiers=QIS, blocking=[["la_code", "sex", "year_group"]],
                          targets=TARGETS, term_frequency=False,
                          error_rate={"birth_month": 0.05, "ethnicity_major": 0.10, "sen_provision": 0.05},
                          missing_rate={"ethnicity_major": 0.10})
    return ext, make_auxiliary(ext, sc, seed=2), sc


def test_splink_spark_matches_duckdb_on_100k_by_20k(spark, case):
    ext, aux, sc = case
    partitions = spark.conf.get("spark.sql.shuffle.partitions")  # the session's own (tests/spark/conftest.py)
    duck = simulate_intruder(ext, aux, sc, seed=2, engine="splink")
    res = simulate_intruder(ext, aux, sc, seed=2, engine="splink", splink_backend="spark", spark_session=spark)
    assert duck.n_candidate_pairs > 1_500_000 and duck.claims > 4000
    for k in COUNTS:
        assert getattr(res, k) == getattr(duck, k), k
    assert res.precision == duck.precision
    assert res.em["m"] == duck.em["m"] and res.em["u"] == duck.em["u"]
    assert res.expected_correct == duck.expected_correct
    ref = simulate_intruder(ext, aux, sc, seed=2)  # the idrisk engine on its own pairs
    assert (ref.claims, ref.correct_claims, ref.expected_correct) == (res.claims, res.correct_claims,
                                                                      res.expected_correct)
    assert spark.conf.get("spark.sql.shuffle.partitions") == partitions  # the run set its own, then restored it
