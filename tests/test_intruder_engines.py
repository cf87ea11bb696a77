"""The linking contract, the one ground-truth convention, results and ``run_scenarios(engine=)``."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from idrisk.exceptions import InvalidParameterError
from idrisk.intruder import (
    TRUTH_COLUMN,
    IntruderResult,
    IntruderScenario,
    LinkingEngine,
    ScenarioRunsResult,
    make_auxiliary,
    run_scenarios,
    simulate_intruder,
)
from idrisk.intruder.divergence import change_probability, truth_id_column, truth_positions
from idrisk.intruder.engine import class_size_counts, log2_nonmember, membership_prior
from idrisk.intruder.numba_engine import NumbaEngine
from idrisk.intruder.splink_engine import SplinkEngine

# 5 records, classes on (sex, yob) of sizes 2, 1, 1, 1 (the worked example of simulate_intruder)
DF = pd.DataFrame({"pid": ["p1", "p2", "p3", "p4", "p5"], "sex": list("FFMMF"),
                   "yob": [2012, 2012, 2012, 2013, 2013]})


def test_both_engines_implement_the_contract():
    assert isinstance(NumbaEngine(), LinkingEngine) and NumbaEngine().name == "idrisk"
    eng = SplinkEngine.create("duckdb", None, None)
    assert isinstance(eng, LinkingEngine) and eng.name == "splink"
    assert eng.options["probability"] == "normalised"


def test_shared_prior_and_class_sizes_by_hand():
    rk = IntruderScenario(name="a", quasi_identifiers=["sex"])
    assert membership_prior(rk) == 1.0 and log2_nonmember(1.0, 10) == -math.inf
    no_rk = dataclasses.replace(rk, response_knowledge=False)
    assert membership_prior(no_rk) == 0.5  # uninformative
    assert membership_prior(dataclasses.replace(no_rk, membership_prior=0.2)) == 0.2
    # (1 - 0.2) * 10 / 0.2 = 40
    assert log2_nonmember(0.2, 10) == pytest.approx(math.log2(40.0))
    assert class_size_counts(DF, ["sex", "yob"]) == (3, 1)
    assert change_probability(0.1, 2) == pytest.approx(0.19)


def test_truth_by_id_column_equals_truth_by_row():
    """``_truth_<id>`` (ids, as idrisk.datasets writes them) gives the same attack as ``_truth_row``."""
    sc = IntruderScenario(name="exact", quasi_identifiers=["sex", "yob"])
    aux = make_auxiliary(DF, sc, seed=0)
    by_id = aux.drop(columns=[TRUTH_COLUMN]).assign(
        **{truth_id_column("pid"): DF["pid"].to_numpy()[aux[TRUTH_COLUMN].to_numpy()]})
    assert list(truth_positions(DF, by_id, id_column="pid")) == list(aux[TRUTH_COLUMN])
    a = simulate_intruder(DF, aux, sc, seed=0)
    b = simulate_intruder(DF, by_id, sc, seed=0, id_column="pid")
    assert a.to_dict() == b.to_dict()
    # 4 up to the floor of 1e-15 on a field's error rate (docs/methods.md#joint-frequencies)
    assert (a.claims, a.unique_matches_correct) == (5, 3) and a.expected_correct == pytest.approx(4.0, rel=1e-12)


def test_results_are_frozen_and_follow_the_one_rule():
    sc = IntruderScenario(name="exact", quasi_identifiers=["sex", "yob"], claim_threshold=0.6)
    r = simulate_intruder(DF, make_auxiliary(DF, sc, seed=0), sc, seed=0)
    assert isinstance(r, IntruderResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.claims = 0
    d = r.to_dict()
    # the two records of the size-2 class are not claimed at 0.6: their band is empty (NaN -> None)
    assert d["claims"] == 3 and d["skinner_elliot_theta"] == 1.0
    assert all(row["precision"] is None for row in d["by_confidence"] if row["claims"] == 0)
    json.dumps(d, allow_nan=False)


@pytest.fixture(scope="module")
def population():
    rng = np.random.default_rng(5)
    n = 400
    return pd.DataFrame({"pupil_id": [f"x{i}" for i in range(n)], "sex": rng.choice(list("FM"), n),
                         "yob": rng.integers(2008, 2014, n), "la": rng.integers(0, 4, n)})


def test_run_scenarios_takes_engine(population):
    ext = population.iloc[::2].reset_index(drop=True)
    sc = IntruderScenario(name="z", quasi_identifiers=["sex", "yob", "la"], targets=60)
    with pytest.raises(InvalidParameterError, match="engine must be one of"):
        run_scenarios(ext, population, sc, engine="recordlinkage")
    rk = IntruderScenario(name="y", quasi_identifiers=["sex", "yob", "la"], targets=60, response_knowledge=False)
    a = run_scenarios(ext, population, [sc, rk], seed=2, n_repeats=2)
    b = run_scenarios(ext, population, [sc, rk], seed=2, n_repeats=2, engine="splink")
    assert isinstance(a, ScenarioRunsResult) and isinstance(b, ScenarioRunsResult)
    # Splink makes the pairs, idrisk's estimators score them: every figure of every run is equal
    # (exact comparisons), with response knowledge and without it (targets from the population,
    # non-members among them)
    assert (a.runs["n_targets_in_extract"] < a.runs["n_targets"]).sum() == 2
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.seed = 3
    d = a.to_dict()
    assert list(d) == ["level", "n_repeats", "seed", "scenarios", "runs", "summary"]
    assert d["scenarios"][0]["quasi_identifiers"] == ["sex", "yob", "la"]
    json.dumps(d, allow_nan=False)


def test_run_scenarios_id_column_defaults_to_the_profile_truth_id(population):
    from idrisk.profiles import get_profile

    assert get_profile(None).truth_id == "pupil_id"
    ext = population.iloc[::3]
    sc = IntruderScenario(name="z", quasi_identifiers=["sex", "yob"], targets=20)
    a = run_scenarios(ext, population, sc, seed=1, n_repeats=1)
    b = run_scenarios(ext, population, sc, seed=1, n_repeats=1, id_column="pupil_id")
    pd.testing.assert_frame_equal(a.runs, b.runs)


def test_extract_keyword_is_a_deprecated_name_of_data(population):
    sc = IntruderScenario(name="exact", quasi_identifiers=["sex", "yob"])
    with pytest.warns(DeprecationWarning, match=r"make_auxiliary\(extract=...\)"):
        aux = make_auxiliary(extract=DF, scenario=sc, seed=0)
    pd.testing.assert_frame_equal(aux, make_auxiliary(DF, sc, seed=0))
    with pytest.warns(DeprecationWarning, match=r"simulate_intruder\(extract=...\)"):
        old = simulate_intruder(extract=DF, auxiliary=aux, scenario=sc, seed=0)
    assert old.to_dict() == simulate_intruder(DF, aux, sc, seed=0).to_dict()
    sc2 = IntruderScenario(name="z", quasi_identifiers=["sex", "yob"], targets=20)
    with pytest.warns(DeprecationWarning, match=r"run_scenarios\(extract=...\)"):
        r = run_scenarios(extract=population.iloc[::3], population=population, scenarios=sc2, n_repeats=1)
    pd.testing.assert_frame_equal(r.runs, run_scenarios(population.iloc[::3], population, sc2, n_repeats=1).runs)
    with pytest.warns(DeprecationWarning), pytest.raises(InvalidParameterError, match="give data only"):
        make_auxiliary(DF, sc, extract=DF)
