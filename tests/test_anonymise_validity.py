"""Analysis validity: table distances computed by hand, models on extracts whose effect on a fit
is known exactly (unchanged; a predictor suppressed entirely)."""

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.anonymise.validity import analysis_validity, table_distance
from idrisk.exceptions import DataValidationError, InvalidParameterError

pytest.importorskip("sklearn")


def test_marginal_distance_by_hand():
    o = pd.DataFrame({"age": [21, 22, 35, 36]})
    t = pd.DataFrame({"age": ["20-29", "20-29", "30-39", None]})
    # "20-29" covers 21 and 22 (half each), "30-39" covers 35 only (36's record is suppressed),
    # the suppressed cell a quarter each: q = (1.25, 1.25, 1.25, 0.25) / 4, p = 1/4 each
    assert table_distance(o, t, ["age"]) == pytest.approx(0.5 * (3 * 0.0625 + 0.1875))
    assert table_distance(o, o, ["age"]) == 0.0
    o2 = pd.DataFrame({"age": [21, 21, 21, 22]})
    t2 = pd.DataFrame({"age": ["20-29"] * 4})
    assert table_distance(o2, t2, ["age"]) == pytest.approx(0.25)  # (.75, .25) read as (.5, .5)


def test_two_way_distance_by_hand():
    o = pd.DataFrame({"age": [21, 22, 21, 22], "sex": ["F", "M", "F", "M"]})
    t = pd.DataFrame({"age": ["20-29"] * 4, "sex": ["F", "M", "F", "M"]})
    # p: 21F = 22M = 1/2; q: a quarter in each of the four cells
    assert table_distance(o, t, ["age", "sex"]) == pytest.approx(0.5)
    assert table_distance(o, o, ["age", "sex"]) == 0.0


def test_models_unchanged_and_suppressed():
    n = 40
    x = np.array(["a", "b"] * (n // 2))
    sex = np.array(["F"] * 10 + ["M"] * 10 + ["F"] * 10 + ["M"] * 10)
    o = pd.DataFrame({"x": x, "sex": sex, "pa": (x == "a").astype(int),
                      "score": np.tile([0.0, 10.0, 20.0, 10.0], n // 4)})
    same = analysis_validity(o, o, outcomes=["pa"], predictors=["x", "sex"], tables=["x", ("x", "sex")])
    m = same["models"]["pa"]
    assert m["metric"] == "accuracy" and m["original"] == m["transformed"] == 1.0 and m["difference"] == 0
    assert all(c["difference"] == 0 for c in m["coefficients"].values())
    assert same["tables"] == {"x": 0.0, "x x sex": 0.0}
    t = o.copy()
    t["x"] = None  # the predictor that determines the outcome, suppressed in every record
    r = analysis_validity(o, t, outcomes=["pa"], predictors=["x"], tables=["x"])
    m = r["models"]["pa"]
    # balanced stratified folds (16/16 to train, 4/4 to test) and a constant design: probability
    # 1/2 everywhere, one class predicted, half of each test fold right
    assert m["original"] == 1.0 and m["transformed"] == pytest.approx(0.5) and m["difference"] == pytest.approx(-0.5)
    assert m["coefficients"] == {}  # x's values are gone from the design
    kept = analysis_validity(o, t.assign(x=o["x"]).assign(sex=None), outcomes=["pa"], predictors=["x", "sex"])
    assert set(kept["models"]["pa"]["coefficients"]) == {"x=a", "x=b"}  # sex's values are gone
    # a score the predictor determines (4 values): exact fit on the original; with the predictor
    # suppressed the fit predicts the training mean (values 0 to 30: an error far from 0)
    z = np.array(list("abcd") * 10)
    o4 = pd.DataFrame({"z": z, "score": np.select([z == c for c in "abcd"], [0.0, 10.0, 20.0, 30.0])})
    s = analysis_validity(o4, o4.assign(z=None), outcomes=["score"], predictors=["z"])["models"]["score"]
    assert s["metric"] == "rmse" and s["model"] == "linear regression"
    assert s["original"] == pytest.approx(0.0, abs=1e-9) and s["transformed"] >= 5.0
    assert r["tables"]["x"] == 0.0  # a cell suppressed everywhere is read as the uniform spread, as x is


def test_bad_input():
    o = pd.DataFrame({"a": [1, 2], "y": [0, 1]})
    with pytest.raises(DataValidationError, match="same order"):
        analysis_validity(o, o.iloc[:1], tables=["a"])
    with pytest.raises(InvalidParameterError, match="predictors"):
        analysis_validity(o, o, outcomes=["y"])
    with pytest.raises(InvalidParameterError, match="one variable or a pair"):
        analysis_validity(o, o, tables=[("a", "y", "a")])


def test_anonymise_reports_validity():
    rng = np.random.default_rng(3)
    n = 200
    d = pd.DataFrame({"age": rng.integers(20, 70, n), "sex": rng.choice(["F", "M"], n)})
    d["pa"] = (d["age"] > 45).astype(int)
    h = {"age": idrisk.anonymise.bands(5, 10, 50), "sex": [["F", "*"], ["M", "*"]]}
    spec = {"outcomes": ["pa"], "predictors": ["age", "sex"], "tables": ["age", ("age", "sex")]}
    r = idrisk.anonymise(d, ["age", "sex"], hierarchies=h, k=5, suppression_limit=0.05, validity=spec)
    direct = analysis_validity(d, r.data, **spec)
    assert r.validity == direct and r.to_dict()["validity"]["tables"] == direct["tables"]
    with pytest.raises(InvalidParameterError, match="validity must map"):
        idrisk.anonymise(d, ["age", "sex"], hierarchies=h, k=5, validity=["pa"])
