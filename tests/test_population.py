"""population_uniqueness / unique_match_probability: ARX parity, WE6, estimating equations,
census collapse, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import idrisk
from idrisk.exceptions import DataValidationError, InvalidParameterError
from idrisk.metrics import uniqueness_from_histogram

import naive_risk as naive

ROOT = Path(__file__).resolve().parents[1]
ARX = ROOT / "tests" / "peer" / "arx"
ADULT = Path(idrisk.__file__).resolve().parent / "_data" / "public" / "arx_adult"
ARX_FILES = ["adult_qi3.json", "adult_qi4.json", "adult_qi6.json", "adult_subset_qi6.json",
             "test_age_gender_zip.json"]
MODEL = {"ZAYATZ": "zayatz", "PITMAN": "pitman", "SNB": "snb"}


def _reports():
    for name in ARX_FILES:
        for i, rep in enumerate(json.loads((ARX / name).read_text())["reports"]):
            yield pytest.param(rep, id=f"{name}:{rep['population_model']['population_size']}")


def _hist(rep):
    h = rep["equivalence_classes"]["histogram_size_count_pairs"]
    return dict(zip(h[0::2], h[1::2]))


@pytest.mark.parametrize("rep", list(_reports()))
def test_arx_parity(rep):
    """ARX to 1e-6 where it converged (ARX writes 0 for a failure); where it failed, idrisk
    gives None with a reason or a root of the estimating equations. Census: every model = c1."""
    hist = _hist(rep)
    N = rep["population_model"]["population_size"]
    pu = rep["population_uniques"]
    res = uniqueness_from_histogram(rep["equivalence_classes"]["histogram_size_count_pairs"], N)
    c1 = hist.get(1, 0)
    assert res.sample_uniques == c1 and res.sample_size == rep["population_model"]["sample_size"]
    if N == res.sample_size:
        # census: the population is the sample (ARX's Pitman still extrapolates: deliberate difference)
        for m in ("zayatz", "pitman", "snb", "dankar"):
            assert getattr(res, m) == c1
        assert pu["zayatz_count"] == pytest.approx(c1, rel=1e-12)
        if pu["snb_count"] != 0:
            assert pu["snb_count"] == pytest.approx(c1, rel=1e-6)
        return
    assert res.zayatz == pytest.approx(pu["zayatz_count"], rel=1e-6)
    for m in ("pitman", "snb"):
        ours, theirs = getattr(res, m), pu[f"{m}_count"]
        if theirs != 0:
            assert ours == pytest.approx(theirs, rel=1e-6)
        elif ours is None:
            assert res.reasons[m]
        elif m == "pitman":
            e = naive.pitman_equations(res.pitman_parameters["theta"], res.pitman_parameters["alpha"], hist)
            assert abs(e[0]) < 1e-8 and abs(e[1]) < 1e-8
        else:
            p = res.snb_parameters
            e = naive.snb_equations(p["alpha"], p["beta"], p["K"], res.sampling_fraction, c1, hist.get(2, 0))
            assert abs(e[0]) < 1e-6 * c1 and abs(e[1]) < 1e-6 * c1
    assert res.dankar == pytest.approx(pu["dankar_count"], rel=1e-6)
    assert res.dankar_model == MODEL[pu["dankar_selected_model"]]
    assert res.fraction("dankar") == pytest.approx(pu["dankar_fraction"], rel=1e-6)
    json.dumps(res.to_dict())


def test_arx_snb_failures_are_none_with_reason():
    """SNB failed in ARX on every sampled real data set; idrisk finds no admissible root either."""
    rep = json.loads((ARX / "adult_qi6.json").read_text())["reports"][3]
    res = uniqueness_from_histogram(rep["equivalence_classes"]["histogram_size_count_pairs"],
                                    rep["population_model"]["population_size"])
    assert rep["population_uniques"]["snb_count"] == 0
    assert res.snb is None and "no solution" in res.reasons["snb"]


def test_from_data_matches_arx_histogram():
    """Classes built from the data reproduce ARX's histogram and estimates (adult, QI3, f = 0.1)."""
    df = pd.read_csv(ADULT / "adult.csv.gz", sep=";", dtype=str)
    before = df.copy()
    rep = json.loads((ARX / "adult_qi3.json").read_text())["reports"][3]
    assert rep["population_model"]["population_size"] == 301620
    res = idrisk.population_uniqueness(df, rep["quasi_identifiers"], population_size=301620)
    pd.testing.assert_frame_equal(df, before)
    assert res.sample_uniques == _hist(rep)[1] and res.n_classes == rep["equivalence_classes"]["num_classes"]
    assert res.pitman == pytest.approx(rep["population_uniques"]["pitman_count"], rel=1e-6)
    assert res.dankar_model == "pitman"


def test_arx_decision_rule_expectations():
    """ARX's own JUnit expectations (tests_expected.md), from the adult 9-QI data."""
    df = pd.read_csv(ADULT / "adult.csv.gz", sep=";", dtype=str)
    qis = list(df.columns)
    n = len(df)
    r01 = idrisk.population_uniqueness(df, qis, population_size=301_620)
    assert r01.dankar_model == "pitman"
    assert r01.fraction() == pytest.approx(0.27684993883653597, rel=1e-6)
    assert r01.fraction("zayatz") == pytest.approx(0.3207402393466189, rel=1e-6)
    r02 = idrisk.population_uniqueness(df, qis, population_size=150_810)
    assert r02.dankar_model == "zayatz" and r02.fraction() == pytest.approx(0.3577099234829125, rel=1e-6)
    r001 = idrisk.population_uniqueness(df, qis, population_size=3_016_200)
    assert r001.fraction() == pytest.approx(0.1446083531167384, rel=1e-6)
    r1 = idrisk.population_uniqueness(df, qis, population_size=n)
    assert r1.fraction() == pytest.approx(15512 / 30162, rel=1e-15)


def test_we6_zayatz():
    df = pd.DataFrame({"a": [1, 1, 1, 2, 3, 4, 5, 5]})       # c1 = 3, c2 = 1, c3 = 1
    res = idrisk.population_uniqueness(df, ["a"], population_size=80)
    assert res.zayatz == pytest.approx(12.309229, rel=0, abs=5e-7)
    assert res.fraction("zayatz") == pytest.approx(0.15386536, rel=0, abs=5e-9)
    assert res.zayatz == pytest.approx(naive.zayatz({1: 3, 2: 1, 3: 1}, 80), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.integers(1, 9), st.integers(1, 60), min_size=1, max_size=6),
       st.sampled_from([0.001, 0.05, 0.1, 0.3, 0.7, 0.99]))
def test_models_against_references(hist, pi):
    n = sum(j * c for j, c in hist.items())
    N = max(n, int(round(n / pi)))
    res = uniqueness_from_histogram(hist, N)
    c1 = hist.get(1, 0)
    if c1 == 0:
        assert (res.zayatz, res.pitman, res.snb, res.dankar) == (0, 0, 0, 0)
        return
    if N == n:
        assert res.dankar == c1
        return
    assert res.zayatz == pytest.approx(naive.zayatz(hist, N), rel=1e-9)
    for m in ("pitman", "snb"):
        v = getattr(res, m)
        assert (v is None) == (m in res.reasons)
        if v is not None:
            assert 0 <= v <= N
    if res.pitman is not None:
        p = res.pitman_parameters
        e = naive.pitman_equations(p["theta"], p["alpha"], hist)
        assert abs(e[0]) < 1e-8 and abs(e[1]) < 1e-8
    if res.snb is not None:
        p = res.snb_parameters
        e = naive.snb_equations(p["alpha"], p["beta"], p["K"], n / N, c1, hist.get(2, 0))
        assert abs(e[0]) < 1e-7 * c1 and abs(e[1]) < 1e-7 * c1
        assert res.snb == pytest.approx(p["K"] * p["beta"] ** p["alpha"], rel=1e-12)
    # Dankar's rule
    if n / N <= 0.1:
        assert res.dankar == (res.pitman if res.pitman else res.zayatz)
    else:
        assert res.dankar == (min(res.snb, res.zayatz) if res.snb else res.zayatz)


def test_snb_converged_case_satisfies_equations():
    """A histogram where the SNB equations do have a root (so the check above is not vacuous)."""
    hist = {1: 97, 2: 24, 3: 196}
    n = 97 + 48 + 588
    res = uniqueness_from_histogram(hist, 916)
    assert res.snb is not None and res.dankar_model == "snb"
    p = res.snb_parameters
    e = naive.snb_equations(p["alpha"], p["beta"], p["K"], n / 916, 97, 24)
    assert abs(e[0]) < 1e-7 and abs(e[1]) < 1e-7


def test_census_collapse_and_no_uniques():
    df = pd.DataFrame({"a": [1, 1, 2, 3, 3, 3, 4]})
    res = idrisk.population_uniqueness(df, ["a"], population_size=7)
    assert (res.zayatz, res.pitman, res.snb, res.dankar) == (2, 2, 2, 2)
    assert "census" in res.reasons["all"]
    res = idrisk.population_uniqueness(pd.DataFrame({"a": [1, 1, 2, 2]}), ["a"], population_size=400)
    assert (res.zayatz, res.pitman, res.snb, res.dankar) == (0, 0, 0, 0) and res.dankar_model is None


def test_all_unique_pitman_is_none_with_reason():
    res = idrisk.population_uniqueness(pd.DataFrame({"a": range(7)}), ["a"], population_size=70)
    assert res.pitman is None and "diverges" in res.reasons["pitman"]
    assert res.dankar_model == "zayatz" and res.zayatz == pytest.approx(70.0, rel=1e-12)


# ---------------------------------------------------------------------------------------
# unique match probability (Skinner-Elliot; docs/methods.md#skinner-elliot, hand-worked WE3)
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("pi, expected", [(0.1, 0.14285714), (0.01, 0.01492537), (0.5, 0.6), (1, 1.0)])
def test_unique_match_probability_we3(pi, expected):
    assert idrisk.unique_match_probability(n1=3, n2=1, sampling_fraction=pi) == pytest.approx(
        expected, rel=0, abs=5e-9)
    we3 = pd.DataFrame({"sex": list("FFMMF"), "yob": [2012, 2012, 2012, 2013, 2013],
                        "eth": ["W", "W", "A", "W", "W"], "fsm": list("NNNYY")})
    got = idrisk.unique_match_probability(we3, ["sex", "yob", "eth", "fsm"], sampling_fraction=pi)
    assert got == pytest.approx(naive.unique_match_probability(3, 1, pi), rel=1e-14)


def test_unique_match_probability_population_size_and_edge():
    df = pd.DataFrame({"a": [1, 2, 3, 3]})
    assert idrisk.unique_match_probability(df, ["a"], population_size=40) == pytest.approx(
        naive.unique_match_probability(2, 1, 0.1), rel=1e-14)
    assert math.isnan(idrisk.unique_match_probability(n1=0, n2=4, sampling_fraction=0.2))


def test_bad_input():
    df = pd.DataFrame({"a": [1, 2, 3, 3]})
    before = df.copy()
    with pytest.raises(DataValidationError, match="smaller than the sample"):
        idrisk.population_uniqueness(df, ["a"], population_size=3)
    with pytest.raises(InvalidParameterError, match="at most 1"):
        idrisk.unique_match_probability(df, ["a"], sampling_fraction=1.2)
    with pytest.raises(InvalidParameterError):
        idrisk.unique_match_probability(n1=2, n2=1, sampling_fraction=0)
    with pytest.raises(DataValidationError, match="smaller than the sample"):
        idrisk.unique_match_probability(df, ["a"], population_size=2)
    with pytest.raises(InvalidParameterError):
        idrisk.unique_match_probability(n1=2, sampling_fraction=0.1)
    with pytest.raises(InvalidParameterError):
        idrisk.population_uniqueness(df, ["a"], population_size=10.5)
    with pytest.raises(DataValidationError):
        idrisk.population_uniqueness(df, ["b"], population_size=10)
    pd.testing.assert_frame_equal(df, before)


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(st.integers(1, 7), st.integers(1, 30), min_size=2, max_size=5),
       st.floats(0.01, 500), st.floats(0.01, 0.99))
def test_pitman_kernel_matches_plain_loops(hist, theta, alpha):
    """The numba sums behind the Pitman fit equal ARX's iterative form written as loops."""
    from idrisk._kernels.risk import pitman_system
    n = sum(j * c for j, c in hist.items())
    u = sum(hist.values())
    top = max(hist)
    surv = np.array([sum(c for j, c in hist.items() if j > l) for l in range(1, top)], dtype=np.float64)
    e1, e2, *_ = pitman_system(theta, alpha, u, n, surv)
    r1, r2 = naive.pitman_equations(theta, alpha, hist)
    assert e1 == pytest.approx(r1, rel=1e-10, abs=1e-12)
    assert e2 == pytest.approx(r2, rel=1e-10, abs=1e-12)


def test_skinner_elliot_formula_in_one_place():
    from idrisk.metrics._population import skinner_elliot

    assert skinner_elliot(3, 1, 0.1) == idrisk.unique_match_probability(n1=3, n2=1, sampling_fraction=0.1)
    assert skinner_elliot(0, 2, 0.5) == 0.0
    assert np.isnan(skinner_elliot(0, 0, 0.5)) and np.isnan(skinner_elliot(0, 3, 1.0))
    assert np.isnan(idrisk.unique_match_probability(n1=0, n2=4, sampling_fraction=0.5))
