"""k_anonymity: worked examples, peers (sdcMicro n1/n2, ARX class histograms), naive reference."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import idrisk
from idrisk.exceptions import DataValidationError, IdentifierWarning, InvalidParameterError

import naive_diversity as naive

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "tests" / "peer"
DATA = Path(idrisk.__file__).resolve().parent / "_data" / "public"

WE1 = pd.DataFrame({"A": [2, 3, 2, 2, 3, 3, 1, 2], "B": [3, 3, 3, 3, 3, 3, 4, 3],
                    "C": [1, 3, 1, 2, 1, 1, 1, 1]})
WE3 = pd.DataFrame({"sex": list("FFMMF"), "yob": [2012, 2012, 2012, 2013, 2013],
                    "eth": ["WHIT", "WHIT", "ASIA", "WHIT", "WHIT"], "fsm": list("NNNYY")})


def test_we1_hand_values():
    """Hand-worked example WE1: fk = [3,1,3,1,2,2,1,3]; violating 2-/3-anonymity: 3 and 5."""
    res = idrisk.k_anonymity(WE1, ["A", "B", "C"], k=(2, 3))
    assert res.min_class_size == 1
    assert res.n_classes == 5  # three uniques, one pair, one triple
    assert res.class_size_histogram == {1: 3, 2: 1, 3: 1}
    assert res.records_below_k == {2: 3, 3: 5}
    assert (res.n1, res.n2) == (3, 2)
    assert res.fk.tolist() == [3, 1, 3, 1, 2, 2, 1, 3]
    assert not res.is_k_anonymous(2) and res.is_k_anonymous(1)


def test_we1_weights_population_frequency():
    """WE1 weighted: Fk = [108, 45.5, 108, 17, 100, 100, 123.5, 108] (sdcMicro freqCalc)."""
    w = [18.0, 45.5, 39.0, 17.0, 92.0, 8.0, 123.5, 51.0]
    res = idrisk.k_anonymity(WE1.assign(w=w), ["A", "B", "C"], k=(2, 20, 50, 110), weights="w")
    np.testing.assert_allclose(res.Fk, [108, 45.5, 108, 17, 100, 100, 123.5, 108])
    assert res.min_Fk == 17.0
    assert res.records_below_k_Fk == {2: 0, 20: 1, 50: 2, 110: 7}  # all but 123.5
    assert res.to_dict()["min_Fk"] == 17.0
    # the same weights as an array, and under the wildcard rule (WE2)
    df = WE1.astype(float)
    df.loc[7, "A"] = np.nan
    df.loc[2, "C"] = np.nan
    df.loc[6, "C"] = np.nan
    wild = idrisk.k_anonymity(df, ["A", "B", "C"], missing="wildcard", weights=np.array(w))
    np.testing.assert_allclose(wild.Fk, [108, 45.5, 125, 56, 151, 151, 123.5, 208])
    assert wild.min_Fk == 45.5
    assert idrisk.k_anonymity(WE1, ["A"]).min_Fk is None


def test_we3_pupil_toy():
    res = idrisk.k_anonymity(WE3, ["sex", "yob", "eth", "fsm"])
    assert res.fk.tolist() == [2, 2, 1, 1, 1]
    assert res.n1 == 3 and res.n_classes == 4 and res.min_class_size == 1


def test_we2_wildcard_and_category():
    """WE2: wildcard fk = [3,1,4,2,3,3,1,5] (sdcMicro); own category fk = [1,1,1,1,2,2,1,1]."""
    df = WE1.astype(float)
    df.loc[7, "A"] = np.nan
    df.loc[2, "C"] = np.nan
    df.loc[6, "C"] = np.nan
    wild = idrisk.k_anonymity(df, ["A", "B", "C"], missing="wildcard", k=(2, 4))
    assert wild.fk.tolist() == [3, 1, 4, 2, 3, 3, 1, 5]
    assert wild.min_class_size == 1
    # wildcard matching sets overlap: the histogram counts records per fk value
    assert wild.histogram_counts == "records"
    assert wild.class_size_histogram == {1: 2, 2: 1, 3: 3, 4: 1, 5: 1}
    assert wild.records_below_k == {2: 2, 4: 6}
    assert wild.n_classes == 7  # distinct keys with NA read as a value
    cat = idrisk.k_anonymity(df, ["A", "B", "C"])
    assert cat.fk.tolist() == [1, 1, 1, 1, 2, 2, 1, 1]
    assert cat.class_size_histogram == {1: 6, 2: 1} and cat.histogram_counts == "classes"
    never = idrisk.k_anonymity(df, ["A", "B", "C"], missing="never")
    assert never.fk.tolist() == [1, 1, 1, 1, 2, 2, 1, 1]


def _freqcalc_entries():
    idx = json.loads((PEER / "sdcmicro" / "index.json").read_text())["entries"]
    return [e for e in idx if e["function"] == "freqCalc" and e["params"]["alpha"] == 1]


@pytest.mark.parametrize("entry", _freqcalc_entries(), ids=lambda e: e["file"])
def test_n1_n2_match_sdcmicro_freqcalc(entry):
    """n1, n2 printed by sdcMicro freqCalc (wildcard rule, alpha = 1), and fk per record."""
    ds = entry["dataset"].split("/")[-1]
    path = PEER / "sdcmicro" / ds if ds.startswith("input_") else DATA / "sdcmicro" / ds
    df = pd.read_csv(path)
    kv = entry["keyVars"] if isinstance(entry["keyVars"], list) else [entry["keyVars"]]
    ref = pd.read_csv(PEER / "sdcmicro" / entry["file"])
    res = idrisk.k_anonymity(df, kv, missing="wildcard", weights=entry["weight"])
    assert (res.n1, res.n2) == (entry["scalars"]["n1"], entry["scalars"]["n2"])
    np.testing.assert_array_equal(res.fk.to_numpy(), ref["fk"].to_numpy())
    if entry["weight"] is not None:
        np.testing.assert_allclose(res.Fk.to_numpy(), ref["Fk"].to_numpy(), rtol=1e-9)
        assert res.min_Fk == pytest.approx(ref["Fk"].min(), rel=1e-12)
    assert res.min_class_size == int(ref["fk"].min())


@pytest.mark.parametrize("name", ["adult_qi3", "adult_qi4", "adult_qi6", "adult_subset_qi6",
                                  "test_age_gender_zip"])
def test_class_histogram_matches_arx(name):
    """ARX's equivalence-class histogram (size, count) pairs and class count, exactly."""
    rep = json.loads((PEER / "arx" / f"{name}.json").read_text())["reports"][0]
    src = {"test_age_gender_zip": "test.csv", "adult_subset_qi6": "adult_subset.csv"}.get(name, "adult.csv.gz")
    df = pd.read_csv(DATA / "arx_adult" / src, sep=";", dtype=str, keep_default_na=False)
    res = idrisk.k_anonymity(df, rep["quasi_identifiers"])
    pairs = rep["equivalence_classes"]["histogram_size_count_pairs"]
    assert list(res.class_size_histogram.items()) == list(zip(pairs[::2], pairs[1::2]))
    assert res.n_classes == rep["equivalence_classes"]["num_classes"]
    assert res.n1 == rep["sample_risks"]["sample_uniques_count"]


def test_to_dict_is_json():
    d = idrisk.k_anonymity(WE1, ["A", "B", "C"]).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["records_below_k"] == {"2": 3, "3": 5, "5": 8, "10": 8}
    assert "fk" not in d


@pytest.mark.filterwarnings("ignore::idrisk.DataQualityWarning")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(naive.frames(sensitive=False))
def test_matches_naive_reference(case):
    df, qis, _ = case
    for missing in ("category", "never", "wildcard"):
        exp = naive.k_summary(df, qis, (2, 3, 5), missing)
        res = idrisk.k_anonymity(df, qis, k=(2, 3, 5), missing=missing)
        assert res.fk.tolist() == exp["fk"], missing
        assert res.fk.index.equals(df.index)
        assert res.min_class_size == exp["min_class_size"]
        assert res.class_size_histogram == exp["class_size_histogram"], missing
        assert res.records_below_k == exp["records_below_k"]
        assert (res.n1, res.n2) == (exp["n1"], exp["n2"])
        assert res.n_classes == exp["n_classes"]
        if missing != "wildcard":
            w = np.linspace(1.0, 3.5, len(df))
            Fk = naive.class_weight_sums(df, qis, w, missing)
            res_w = idrisk.k_anonymity(df, qis, k=(2, 5), missing=missing, weights=w)
            np.testing.assert_allclose(res_w.Fk.to_numpy(), Fk, rtol=1e-12)
            assert res_w.records_below_k_Fk == {k: sum(f < k for f in Fk) for k in (2, 5)}


@pytest.mark.filterwarnings("ignore::idrisk.DataQualityWarning")
@settings(max_examples=15, deadline=None)
@given(naive.frames(sensitive=False, max_qis=20, n_qis=20, max_card=3, max_rows=25))
def test_twenty_qis_match_naive(case):
    df, qis, _ = case
    exp = naive.k_summary(df, qis, (2,), "category")
    res = idrisk.k_anonymity(df, qis, k=2)
    assert res.fk.tolist() == exp["fk"]
    assert res.class_size_histogram == exp["class_size_histogram"]


@pytest.mark.parametrize("df", [
    pd.DataFrame({"a": [1]}),                                  # one row
    pd.DataFrame({"a": [1] * 6, "b": ["x"] * 6}),              # all identical
    pd.DataFrame({"a": range(6), "b": list("abcdef")}),        # all unique
], ids=["one-row", "identical", "unique"])
def test_edge_frames(df):
    res = idrisk.k_anonymity(df, list(df.columns), k=(2, 7))
    exp = naive.k_summary(df, list(df.columns), (2, 7))
    assert res.min_class_size == exp["min_class_size"]
    assert res.class_size_histogram == exp["class_size_histogram"]
    assert res.records_below_k == exp["records_below_k"]


def test_bad_input_is_reported_clearly():
    with pytest.raises(DataValidationError, match="nope.*zilch|zilch.*nope"):
        idrisk.k_anonymity(WE1, ["A", "nope", "zilch"])
    with pytest.raises(InvalidParameterError, match="no quasi-identifier"):
        idrisk.k_anonymity(WE1, [])
    with pytest.raises(DataValidationError, match="empty"):
        idrisk.k_anonymity(WE1.iloc[:0], ["A"])
    with pytest.raises(InvalidParameterError, match="k must be at least 1"):
        idrisk.k_anonymity(WE1, ["A"], k=0)
    with pytest.raises(InvalidParameterError, match="k must"):
        idrisk.k_anonymity(WE1, ["A"], k="3")
    with pytest.raises(InvalidParameterError, match="missing must be"):
        idrisk.k_anonymity(WE1, ["A"], missing="drop")
    with pytest.raises(InvalidParameterError):
        idrisk.k_anonymity(WE1, ["A", "B", "C"]).is_k_anonymous(0)
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataValidationError, match="duplicate"):
        idrisk.k_anonymity(dup, ["a"])
    mixed = pd.DataFrame({"a": [1, "1", 2.5]})
    with pytest.raises(DataValidationError, match="mixes"):
        idrisk.k_anonymity(mixed, ["a"])
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        idrisk.k_anonymity([[1, 2]], ["a"])
    for bad in ([1, -1, 1, 1, 1, 1, 1, 1], [1, np.nan, 1, 1, 1, 1, 1, 1], [1, np.inf] + [1] * 6,
                ["a"] * 8, [1, 2]):
        with pytest.raises(DataValidationError, match="weight"):
            idrisk.k_anonymity(WE1, ["A"], weights=bad)
    with pytest.raises(DataValidationError, match="weight column not found"):
        idrisk.k_anonymity(WE1, ["A"], weights="nope")


def test_identifier_like_qi_warns():
    df = pd.DataFrame({"upn": range(200), "sex": ["F", "M"] * 100})
    with pytest.warns(IdentifierWarning, match="upn"):
        idrisk.k_anonymity(df, ["upn", "sex"])


def test_all_missing_qi_warns():
    df = pd.DataFrame({"a": [np.nan] * 4, "b": [1, 1, 2, 2]})
    with pytest.warns(idrisk.DataQualityWarning, match="no observed values"):
        res = idrisk.k_anonymity(df, ["a", "b"])
    assert res.fk.tolist() == [2, 2, 2, 2]


@pytest.mark.parametrize("missing", ["category", "wildcard", "never"])
def test_input_frame_unchanged(missing):
    df = WE1.astype({"A": float, "C": "category"}).copy()
    df.loc[1, "A"] = np.nan
    df.index = [9, 3, 3, 1, 0, 5, 6, 7]
    before = df.copy(deep=True)
    idrisk.k_anonymity(df, ["A", "B", "C"], missing=missing)
    pd.testing.assert_frame_equal(df, before)


def test_docstring_examples():
    import doctest

    import idrisk.metrics._k_anonymity as mod

    assert doctest.testmod(mod, raise_on_error=False).failed == 0
