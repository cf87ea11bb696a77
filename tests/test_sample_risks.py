"""sample_risks and qi_importance: every ARX sample-risk number in tests/peer/arx, WE5, naive reference."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idrisk
from idrisk.exceptions import DataValidationError, InvalidParameterError, PerformanceWarning
from idrisk.metrics import RISK_BUCKETS, qi_importance

import naive_diversity as naive

ROOT = Path(__file__).resolve().parents[1]
ARX = ROOT / "tests" / "peer" / "arx"
DATA = Path(idrisk.__file__).resolve().parent / "_data" / "public" / "arx_adult"
RTOL = 1e-9

WE5 = pd.DataFrame({"la": [201] * 6 + [202] * 2, "yg": [6, 6, 6, 6, 7, 7, 6, 6]})


def _read(name):
    # ARX reads every value as a string and groups by exact equality
    return pd.read_csv(DATA / name, sep=";", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def adult():
    return _read("adult.csv.gz")


@pytest.fixture(scope="module")
def adult_subset():
    return _read("adult_subset.csv")


def _close(a, b):
    return a == pytest.approx(b, rel=RTOL, abs=0)


def _check_summaries(res, summaries):
    for s in summaries:
        t = s["threshold"]
        for model in ("prosecutor", "journalist"):
            got, exp = getattr(res, model), s[model]
            assert _close(got.records_at_risk[t], exp["records_at_risk"]), (model, t)
            assert _close(got.highest_risk, exp["highest_risk"]), (model, t)
            assert _close(got.lowest_risk, exp["lowest_risk"]), (model, t)
            assert _close(got.success_rate, exp["success_rate"]), (model, t)
        assert _close(res.marketer.success_rate, s["marketer"]["success_rate"])
        assert _close(res.records_at_risk[t], s["prosecutor"]["records_at_risk"])


def _check_report(res, rep):
    sr = rep["sample_risks"]
    assert _close(res.average_risk, sr["average_risk"])
    assert _close(res.highest_risk, sr["highest_risk"])
    assert _close(res.fraction_highest_risk, sr["fraction_records_affected_by_highest_risk"])
    assert _close(res.lowest_risk, sr["lowest_risk"])
    assert _close(res.fraction_lowest_risk, sr["fraction_records_affected_by_lowest_risk"])
    assert res.sample_uniques == sr["sample_uniques_count"]
    assert _close(res.sample_uniques_fraction, sr["sample_uniques_fraction"])
    # on plain (not ARX-anonymised) data ARX's estimates are the highest and average risks
    assert _close(res.prosecutor.highest_risk, sr["estimated_prosecutor_risk"])
    assert _close(res.journalist.highest_risk, sr["estimated_journalist_risk"])
    assert _close(res.marketer.success_rate, sr["estimated_marketer_risk"])
    assert res.n_records == rep["equivalence_classes"]["num_records"]
    assert res.n_classes == rep["equivalence_classes"]["num_classes"]
    rd = rep["risk_distribution"]
    assert res.risk_distribution["upper_thresholds"] == rd["upper_thresholds"]
    np.testing.assert_allclose(res.risk_distribution["fraction"], rd["fraction_records_in_bucket"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(res.risk_distribution["cumulative"], rd["fraction_records_cumulative"], rtol=RTOL, atol=0)
    _check_summaries(res, rep["risk_summaries"])


@pytest.mark.parametrize("name,src", [
    ("adult_qi3", "adult.csv.gz"), ("adult_qi4", "adult.csv.gz"), ("adult_qi6", "adult.csv.gz"),
    ("adult_subset_qi6", "adult_subset.csv"), ("test_age_gender_zip", "test.csv"),
])
def test_matches_arx_sample_risks(name, src):
    """Every report (7 population models each; the sample risks do not depend on the model)."""
    df = _read(src)
    reports = json.loads((ARX / f"{name}.json").read_text())["reports"]
    res = idrisk.sample_risks(df, reports[0]["quasi_identifiers"])
    assert res.thresholds == (0.05, 0.1, 0.2, 0.5)
    for rep in reports:
        _check_report(res, rep)


@pytest.mark.parametrize("name,src", [
    ("adult_qi3", "adult.csv.gz"), ("adult_qi4", "adult.csv.gz"), ("adult_qi6", "adult.csv.gz"),
    ("adult_subset_qi6", "adult_subset.csv"), ("test_age_gender_zip", "test.csv"),
])
def test_qi_importance_matches_arx(name, src):
    """ARX attribute risks: same subsets, same order, distinction and separation to 1e-9."""
    rep = json.loads((ARX / f"{name}.json").read_text())["reports"][0]
    qi = qi_importance(_read(src), rep["quasi_identifiers"])
    exp = rep["attribute_risks"]
    assert [list(t) for t in qi["quasi_identifiers"]] == [e["identifier"] for e in exp]
    np.testing.assert_allclose(qi["distinction"], [e["distinction"] for e in exp], rtol=RTOL, atol=0)
    np.testing.assert_allclose(qi["separation"], [e["separation"] for e in exp], rtol=RTOL, atol=0)
    assert qi["n_attributes"].tolist() == [len(e["identifier"]) for e in exp]


def test_qi_importance_arx_junit_example():
    """ARX TestRiskQuasiIdentifiers (tests_expected.md): exact values and order."""
    df = pd.DataFrame({"age": ["20", "30", "40", "20", "40"], "sex": ["Female"] * 3 + ["Male"] * 2,
                       "state": ["CA", "CA", "TX", "NY", "CA"]})
    qi = qi_importance(df, ["age", "sex", "state"])
    assert [list(t) for t in qi["quasi_identifiers"]] == [
        ["sex"], ["state"], ["age"], ["sex", "state"], ["age", "sex"], ["age", "state"], ["age", "sex", "state"]]
    assert qi["distinction"].tolist() == [0.4, 0.6, 0.6, 0.8, 1.0, 1.0, 1.0]
    assert qi["separation"].tolist() == [0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0]


def test_journalist_with_population_table(adult, adult_subset):
    """The only ARX file where journalist differs from prosecutor: adult_subset inside adult."""
    ref = json.loads((ARX / "adult_subset_in_adult_journalist.json").read_text())
    res = idrisk.sample_risks(adult_subset, ref["quasi_identifiers"], population=adult)
    assert res.population_records == ref["population_rows"] and res.n_records == ref["sample_rows"]
    _check_summaries(res, ref["risk_summaries"])
    assert res.marketer.records_at_risk is None and res.marketer.highest_risk is None


def test_arx_k5_output_without_suppressed_records():
    """ARX's k=5 anonymisation output. ARX drops suppressed records (every QI '*') from its
    risk figures; idrisk has no notion of ARX's suppression flag, so the test drops them."""
    ref = json.loads((ARX / "adult_k5_qi6.json").read_text())
    out = _read("adult_k5_qi6_output.csv.gz")
    qis = ref["qi_order_for_levels"]
    kept = out[~(out[qis] == "*").all(axis=1)]
    assert len(out) - len(kept) == ref["suppressed_records"]
    res = idrisk.sample_risks(kept, qis)
    for rep in ref["risk_on_output"]:
        # estimated_*_risk are capped by ARX's thresholds (1/k = 0.2), equal to ours here
        _check_report(res, rep)
    assert idrisk.k_anonymity(kept, qis).min_class_size == ref["ec_stats"]["min_size"]


def test_we5_attacker_models():
    """WE5: prosecutor max 1/2, average 3/8; records at risk tau=0.2: 8/8, tau=0.3: 4/8;
    journalist with population class sizes (40, 10, 5): max 1/5; marketer (4/40+2/10+2/5)/8 = 0.0875."""
    res = idrisk.sample_risks(WE5, ["la", "yg"], thresholds=(0.2, 0.3))
    assert res.highest_risk == 0.5 and res.average_risk == 0.375
    assert res.records_at_risk == {0.2: 1.0, 0.3: 0.5}
    assert res.journalist.records_at_risk == res.prosecutor.records_at_risk
    pop = pd.DataFrame({"la": [201] * 50 + [202] * 5, "yg": [6] * 40 + [7] * 10 + [6] * 5})
    res = idrisk.sample_risks(WE5, ["la", "yg"], population=pop, thresholds=(0.2, 0.1))
    assert res.journalist.highest_risk == pytest.approx(0.2)
    assert res.journalist.lowest_risk == pytest.approx(1 / 40)
    assert res.marketer.success_rate == pytest.approx(0.0875, rel=1e-14)
    # journalist success = max(u / sum F = 3/55, marketer) = 0.0875
    assert res.journalist.success_rate == pytest.approx(0.0875, rel=1e-14)
    # records at risk (strict >): 1/F = 0.2 for C is not > 0.2 -> 0; > 0.1: only C (B has 1/10) -> 2/8
    assert res.journalist.records_at_risk == {0.1: 0.25, 0.2: 0.0}
    assert res.prosecutor.success_rate == 0.375


@pytest.mark.filterwarnings("ignore::idrisk.DataQualityWarning")
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(naive.frames(sensitive=False), st.sampled_from(["category", "never"]),
       st.lists(st.sampled_from([0.0, 0.05, 0.1, 0.2, 1 / 3, 0.5, 1.0]), min_size=1, max_size=4))
def test_matches_naive_reference(case, missing, thresholds):
    df, qis, _ = case
    res = idrisk.sample_risks(df, qis, thresholds=thresholds, missing=missing)
    exp = naive.sample_risks(df, qis, sorted(set(thresholds)), missing=missing)
    for key in ("average_risk", "highest_risk", "fraction_highest_risk", "lowest_risk",
                "fraction_lowest_risk", "distinction", "separation"):
        assert getattr(res, key) == pytest.approx(exp[key], rel=1e-12), key
    assert res.sample_uniques == exp["sample_uniques"]
    assert res.records_at_risk == pytest.approx(exp["records_at_risk"], rel=1e-12)
    assert res.prosecutor.records_at_risk == res.records_at_risk
    assert res.journalist.records_at_risk == pytest.approx(exp["journalist_records_at_risk"], rel=1e-12)


@pytest.mark.filterwarnings("ignore::idrisk.DataQualityWarning")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(naive.frames(sensitive=False, na=False), st.lists(st.integers(0, 3), min_size=1, max_size=30))
def test_population_matches_naive(case, extra):
    """Population = the sample plus more copies of some sampled rows (so F_k >= f_k)."""
    df, qis, _ = case
    pop = pd.concat([df, df.iloc[[e % len(df) for e in extra]]], ignore_index=True).sample(frac=1, random_state=1)
    res = idrisk.sample_risks(df, qis, population=pop, thresholds=(0.1, 0.3, 0.5))
    exp = naive.sample_risks(df, qis, (0.1, 0.3, 0.5), population=pop)
    assert res.journalist.records_at_risk == pytest.approx(exp["journalist_records_at_risk"], rel=1e-12)
    assert res.journalist.highest_risk == pytest.approx(exp["journalist_highest"], rel=1e-12)
    assert res.journalist.lowest_risk == pytest.approx(exp["journalist_lowest"], rel=1e-12)
    assert res.journalist.success_rate == pytest.approx(exp["journalist_success"], rel=1e-12)
    assert res.marketer.success_rate == pytest.approx(exp["marketer"], rel=1e-12)


@pytest.mark.parametrize("df", [
    pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1] * 5}), pd.DataFrame({"a": range(5)}),
], ids=["one-row", "identical", "unique"])
def test_edge_frames(df):
    res = idrisk.sample_risks(df, ["a"])
    exp = naive.sample_risks(df, ["a"], (0.05, 0.1, 0.2, 0.5))
    assert res.average_risk == pytest.approx(exp["average_risk"])
    assert res.separation == pytest.approx(exp["separation"])
    assert res.records_at_risk == pytest.approx(exp["records_at_risk"])
    assert sum(res.risk_distribution["fraction"]) == pytest.approx(1.0)
    assert res.risk_distribution["cumulative"][-1] == pytest.approx(1.0)


def test_risk_distribution_buckets_by_hand():
    """Classes of sizes 1, 3 and 8 (n = 12): risks 1 -> bucket 1.0, 1/3 -> 0.334, 1/8 = 0.125 -> 0.125."""
    df = pd.DataFrame({"a": [0] + [1] * 3 + [2] * 8})
    frac = dict(zip(RISK_BUCKETS, idrisk.sample_risks(df, ["a"]).risk_distribution["fraction"]))
    assert frac[1.0] == pytest.approx(1 / 12) and frac[0.334] == pytest.approx(3 / 12)
    assert frac[0.125] == pytest.approx(8 / 12) and sum(frac.values()) == pytest.approx(1)


def test_to_dict_is_json():
    res = idrisk.sample_risks(WE5, ["la", "yg"])
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["prosecutor"]["records_at_risk"]["0.2"] == 1.0
    assert d["marketer"]["records_at_risk"] is None


def test_bad_input(adult_subset):
    with pytest.raises(DataValidationError, match="zzz"):
        idrisk.sample_risks(WE5, ["la", "zzz"])
    with pytest.raises(DataValidationError, match="population.*yg|yg.*population"):
        idrisk.sample_risks(WE5, ["la", "yg"], population=pd.DataFrame({"la": [201]}))
    small = pd.DataFrame({"la": [201] * 4 + [202], "yg": [6] * 3 + [7, 6]})
    with pytest.raises(DataValidationError, match=r"F_k < f_k"):
        idrisk.sample_risks(WE5, ["la", "yg"], population=small)
    with pytest.raises(DataValidationError, match="same type"):
        idrisk.sample_risks(WE5, ["la", "yg"], population=WE5.astype(str))
    with pytest.raises(DataValidationError, match="empty"):
        idrisk.sample_risks(WE5, ["la"], population=WE5.iloc[:0])
    for bad in ([], [1.5], [-0.1], ["0.2"], [np.nan]):
        with pytest.raises(InvalidParameterError, match="threshold"):
            idrisk.sample_risks(WE5, ["la"], thresholds=bad)
    with pytest.raises(InvalidParameterError, match="wildcard"):
        idrisk.sample_risks(WE5, ["la"], missing="wildcard")
    with pytest.raises(InvalidParameterError, match="subsets"):
        qi_importance(pd.DataFrame({f"c{i}": [0, 1] for i in range(17)}), [f"c{i}" for i in range(17)])
    with pytest.warns(PerformanceWarning):
        qi_importance(pd.DataFrame({f"c{i}": [0, 1, 1] for i in range(11)}), [f"c{i}" for i in range(11)])


def test_input_frames_unchanged(adult, adult_subset):
    qis = ["sex", "age", "race"]
    sample = adult_subset.copy()
    sample.index = np.arange(len(sample))[::-1] * 2
    before_s, before_p = sample.copy(deep=True), adult.copy(deep=True)
    idrisk.sample_risks(sample, qis, population=adult)
    qi_importance(sample, qis)
    pd.testing.assert_frame_equal(sample, before_s)
    pd.testing.assert_frame_equal(adult, before_p)


def test_docstring_examples():
    import doctest

    import idrisk.metrics._sample_risks as mod

    assert doctest.testmod(mod, raise_on_error=False).failed == 0
