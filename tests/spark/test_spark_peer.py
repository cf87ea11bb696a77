"""The Spark path on the peer-reference data (sdcMicro 5.8.1 and ARX cases of tests/peer).

Every case is run through the Spark path and the pandas path on the same data; they must
agree (counts exactly, floats to 1e-12 relative). Where the peer's convention is the Spark
path's (no missing key values, or SUDA2's), the Spark figures are also checked against the
peer's own reference values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import idrisk

from spark_compare import close, per_record, same_result

ROOT = Path(__file__).resolve().parents[2]
PEER = ROOT / "tests" / "peer" / "sdcmicro"
ARX = ROOT / "tests" / "peer" / "arx"
SDC_DATA = Path(idrisk.__file__).resolve().parent / "_data" / "public" / "sdcmicro"
ARX_DATA = Path(idrisk.__file__).resolve().parent / "_data" / "public" / "arx_adult"
INDEX = json.loads((PEER / "index.json").read_text())["entries"]


def _dataset(entry) -> pd.DataFrame:
    name = entry["dataset"].rsplit("/", 1)[-1]
    if entry["dataset"].startswith("shared/data/sdcmicro/"):
        return pd.read_csv(SDC_DATA / name)
    return pd.read_csv(PEER / name)


def _with_row(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["row__"] = np.arange(len(df))
    return out


FREQ = [e for e in INDEX if e["function"] == "freqCalc"]
RISK = [e for e in INDEX if e["function"] == "measure_risk" and e["params"]["hid"] is None]


@pytest.mark.parametrize("entry", FREQ, ids=[e["file"] for e in FREQ])
def test_freqcalc_cases(spark, entry):
    data = _with_row(_dataset(entry))
    qis, w = entry["keyVars"], entry["weight"]
    sdf = spark.createDataFrame(data)
    for missing in ("category", "never"):
        same_result(idrisk.k_anonymity(data, qis, weights=w, missing=missing),
                    idrisk.k_anonymity(sdf, qis, weights=w, missing=missing))
        local = idrisk.frequencies(data, qis, weights=w, missing=missing)
        got = per_record(idrisk.frequencies(sdf, qis, weights=w, missing=missing), data,
                         ["fk", "Fk_pop"], "row__")
        np.testing.assert_array_equal(got["fk"], local["fk"])
        np.testing.assert_allclose(got["Fk_pop"], local["Fk"], rtol=1e-12)
    if not data[qis].isna().any().any():  # sdcMicro's wildcard rule is the category rule then
        ref = pd.read_csv(PEER / entry["file"])
        np.testing.assert_array_equal(got["fk"], ref["fk"])
        np.testing.assert_allclose(got["Fk_pop"], ref["Fk"], rtol=1e-9)


def test_freqcalc_cases_include_complete_keys():
    assert sum(not _dataset(e)[e["keyVars"]].isna().any().any() for e in FREQ) >= 4


@pytest.mark.parametrize("entry", RISK, ids=[e["file"] for e in RISK])
def test_measure_risk_cases(spark, entry):
    data = _dataset(entry)
    qis, w = entry["keyVars"], entry["weight"]
    mgr = entry["params"]["max_global_risk"]
    sdf = spark.createDataFrame(data)
    res = idrisk.global_risk(sdf, qis, weights=w, missing="category", max_global_risk=mgr)
    same_result(idrisk.global_risk(data, qis, weights=w, missing="category", max_global_risk=mgr), res)
    if not data[qis].isna().any().any():
        assert res.expected_reidentifications == pytest.approx(entry["scalars"]["global_risk_ER"], rel=1e-9)


def test_measure_risk_cases_include_complete_keys():
    assert sum(not _dataset(e)[e["keyVars"]].isna().any().any() for e in RISK) >= 2


KV7 = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]
KEYS4 = ["Key1", "Key2", "Key3", "Key4"]
SUDA = [
    ("suda2_francdat", "francdat", KEYS4, {}),
    ("suda2_francdat_dis0.1", "francdat", KEYS4, {"sampling_fraction": 0.1}),
    ("suda2_francdat_ihsn", "francdat", KEYS4, {"score": "ihsn"}),
    ("suda2_francdat_na", "francdat_na", KEYS4, {}),
    ("suda2_testdata", "testdata", KV7, {}),
    ("suda2_testdata_ihsn", "testdata", KV7, {"score": "ihsn"}),
    ("suda2_small_book", "book", ["age", "gender", "income", "education"], {}),
    ("suda2_small_guide", "guide", ["Residence", "Gender", "Education", "Labor"], {}),
    ("suda2_small_abc", "abc", ["a", "b", "c"], {}),
    ("suda2_edge_na", "edge_suda_na", ["a", "b", "c"], {}),
    ("suda2_edge_hash2", "edge_suda_hash2", ["a", "b", "c"], {}),
]


def _suda_input(name):
    if name in ("francdat", "francdat_na", "testdata"):
        return pd.read_csv(SDC_DATA / f"{name}.csv")
    return pd.read_csv(PEER / f"input_{name}.csv")


@pytest.mark.parametrize("stem, name, qis, kwargs", SUDA, ids=[c[0] for c in SUDA])
def test_suda2_cases(spark, stem, name, qis, kwargs):
    data = _with_row(_suda_input(name))
    local = idrisk.suda(data, qis, **kwargs)
    res = idrisk.suda(spark.createDataFrame(data), qis, **kwargs)
    same_result(local, res)
    np.testing.assert_allclose(res.attribute_contributions, local.attribute_contributions, rtol=1e-12)
    np.testing.assert_allclose(res.attribute_level_contributions["contribution"],
                               local.attribute_level_contributions["contribution"], rtol=1e-12)
    got = per_record(res.scores, data, ["score", "dis_score", *[f"{q}_contribution" for q in qis]],
                     "row__")
    ref = pd.read_csv(PEER / f"{stem}.csv")
    np.testing.assert_allclose(got["score"], local.scores["score"], rtol=1e-12)
    np.testing.assert_allclose(got["dis_score"], local.scores["dis_score"], rtol=1e-12)
    np.testing.assert_allclose(got["score"], ref["score"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(got["dis_score"], ref["disScore"], rtol=1e-6, atol=1e-12)
    for q in qis:
        np.testing.assert_allclose(got[f"{q}_contribution"], ref[f"{q}_contribution"], rtol=1e-9, atol=1e-15)


def _arx(name):
    # ARX reads every value as a string and groups by exact equality
    return pd.read_csv(ARX_DATA / name, sep=";", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("name,src", [
    ("adult_qi3", "adult.csv.gz"), ("adult_qi6", "adult.csv.gz"), ("test_age_gender_zip", "test.csv"),
])
def test_arx_cases(spark, name, src):
    data = _arx(src)
    rep = json.loads((ARX / f"{name}.json").read_text())["reports"][0]
    qis = rep["quasi_identifiers"]
    sdf = spark.createDataFrame(data)
    res = idrisk.sample_risks(sdf, qis)
    same_result(idrisk.sample_risks(data, qis), res)
    close(idrisk.sample_risks(data, qis).to_dict(), res.to_dict())
    assert res.n_classes == rep["equivalence_classes"]["num_classes"]
    assert res.average_risk == pytest.approx(rep["sample_risks"]["average_risk"], rel=1e-9)
    assert res.sample_uniques == rep["sample_risks"]["sample_uniques_count"]
    same_result(idrisk.k_anonymity(data, qis), idrisk.k_anonymity(sdf, qis))
    pd.testing.assert_frame_equal(idrisk.combination_sweep(sdf, qis, max_size=3),
                                  idrisk.combination_sweep(data, qis, max_size=3))


LDIV = [e for e in INDEX if e["function"] == "ldiversity"]


def _as_list(x):
    return [x] if isinstance(x, str) else list(x)


@pytest.mark.parametrize("entry", LDIV, ids=[e["file"] for e in LDIV])
def test_ldiversity_cases(spark, entry):
    """Every sdcMicro ldiversity case (missing = -999 as in its call): the Spark path gives
    sdcMicro's per-record values and the pandas path's result."""
    ds = entry["dataset"].split("/")[-1]
    data = _with_row(pd.read_csv(PEER / ds if ds.startswith("input_") else SDC_DATA / ds))
    qis, sens = _as_list(entry["keyVars"]), _as_list(entry["params"]["ldiv_index"])
    kw = dict(c=entry["params"]["l_recurs_c"], missing_code=entry["params"]["missing"])
    res = idrisk.l_diversity(spark.createDataFrame(data), qis, sens, **kw)
    same_result(idrisk.l_diversity(data, qis, sens, **kw), res)
    ref = pd.read_csv(PEER / entry["file"])
    cols = [f"{s}_{m}" for s in sens for m in ("distinct", "entropy", "recursive")]
    got = per_record(res.per_record, data, cols, "row__")
    for s in sens:
        np.testing.assert_array_equal(got[f"{s}_distinct"], ref[f"{s}_Distinct_Ldiversity"])
        np.testing.assert_array_equal(got[f"{s}_recursive"], ref[f"{s}_Recursive_Ldiversity"])
        np.testing.assert_allclose(got[f"{s}_entropy"], ref[f"{s}_Entropy_Ldiversity"], rtol=1e-12, atol=0)
