"""Parity of idrisk.suda with sdcMicro 5.8.1 ``suda2`` (tests/peer/sdcmicro, calls in index.json).

Tolerances: SUDA scores, contributions and both attribute tables to 1e-9 relative; DIS-SUDA
to 1e-6 relative (sdcMicro computes the sampling fraction, Q and Dis in single precision).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import idrisk

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "tests" / "peer" / "sdcmicro"
DATA = Path(idrisk.__file__).resolve().parent / "_data" / "public" / "sdcmicro"
KV7 = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]
KEYS4 = ["Key1", "Key2", "Key3", "Key4"]


def _index():
    return {e["file"]: e for e in json.loads((PEER / "index.json").read_text())["entries"]}


def _input(name):
    if name in ("francdat", "francdat_na", "testdata"):
        return pd.read_csv(DATA / f"{name}.csv")
    return pd.read_csv(PEER / f"input_{name}.csv")


# (reference stem, input, key variables, suda kwargs)
CASES = [
    ("suda2_francdat", "francdat", KEYS4, {}),
    ("suda2_francdat_dis0.1", "francdat", KEYS4, {"sampling_fraction": 0.1}),
    ("suda2_francdat_ihsn", "francdat", KEYS4, {"score": "ihsn"}),
    ("suda2_francdat_na", "francdat_na", KEYS4, {}),
    ("suda2_testdata", "testdata", KV7, {}),
    ("suda2_testdata_dis0.1", "testdata", KV7, {"sampling_fraction": 0.1}),
    ("suda2_testdata_ihsn", "testdata", KV7, {"score": "ihsn"}),
    ("suda2_small_book", "book", ["age", "gender", "income", "education"], {}),
    ("suda2_small_guide", "guide", ["Residence", "Gender", "Education", "Labor"], {}),
    ("suda2_small_abc", "abc", ["a", "b", "c"], {}),
    ("suda2_edge_na", "edge_suda_na", ["a", "b", "c"], {}),
    ("suda2_edge_hash2", "edge_suda_hash2", ["a", "b", "c"], {}),
]


def _lab(v):
    """A level label as text: 1.0 (a float column with NA) and 1 are the same level."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _check_records(res, ref, qis, *, dis=True):
    sc = res.scores.reset_index(drop=True)
    np.testing.assert_allclose(sc["score"], ref["score"], rtol=1e-9, atol=0)
    if dis:
        np.testing.assert_allclose(sc["dis_score"], ref["disScore"], rtol=1e-6, atol=1e-12)
    for q in qis:
        np.testing.assert_allclose(sc[f"{q}_contribution"], ref[f"{q}_contribution"], rtol=1e-9, atol=1e-15)


def test_every_suda2_reference_is_covered():
    """Every suda2 file of the peer suite is used by a test below (or by an edge test)."""
    files = {f for f in _index() if f.startswith("suda2")}
    covered = set()
    for stem, *_ in CASES:
        covered |= {f"{stem}.csv", f"{stem}_attr.csv", f"{stem}_attrlevel.csv"}
    covered |= {"suda2_edge_hash.csv", "suda2_edge_twovars.csv", "suda2_edge_trunc.csv"}
    assert files <= covered, sorted(files - covered)


@pytest.mark.parametrize("stem, name, qis, kwargs", CASES, ids=[c[0] for c in CASES])
def test_suda2_reference(stem, name, qis, kwargs):
    entry = _index()[f"{stem}.csv"]
    assert entry["keyVars"] == qis
    if "DisFraction" in entry["params"]:
        assert entry["params"]["DisFraction"] == kwargs.get("sampling_fraction", 0.01)
        assert entry["params"]["original_scores"] == (kwargs.get("score", "sdcmicro") == "sdcmicro")
    data = _input(name)
    before = data.copy(deep=True)
    res = idrisk.suda(data, qis, **kwargs)
    pd.testing.assert_frame_equal(data, before)  # the input is never modified
    ref = pd.read_csv(PEER / f"{stem}.csv")
    _check_records(res, ref, qis)
    sc = res.scores
    scal = entry["scalars"]
    assert int((sc["score"] > 0).sum()) == scal["n_score_gt0"]
    assert sc["score"].sum() == pytest.approx(scal["sum_score"], rel=1e-12)
    assert sc["dis_score"].sum() == pytest.approx(scal["sum_disScore"], rel=1e-6)

    attr = pd.read_csv(PEER / f"{stem}_attr.csv")
    got = res.attribute_contributions
    assert list(got.index) == list(attr["variable"])
    np.testing.assert_allclose(got.to_numpy(), attr["contribution"], rtol=1e-9)

    lev = pd.read_csv(PEER / f"{stem}_attrlevel.csv", keep_default_na=False, na_values=["NaN"])
    mine = res.attribute_level_contributions
    # sdcMicro lists factor levels in R's collation order; compare by (variable, value)
    exp = {(r.variable, _lab(r.attribute)): r.contribution for r in lev.itertuples()}
    have = {(r.variable, _lab(r.value)): r.contribution for r in mine.itertuples()}
    assert set(have) == set(exp)
    for key, v in exp.items():
        if np.isnan(v):
            assert np.isnan(have[key]), key  # 0/0: the variable takes part in no MSU
        else:
            assert have[key] == pytest.approx(v, rel=1e-9, abs=1e-12), key


def test_we4_guideline_and_book_examples():
    """Hand-worked example WE4 (values computed by hand, independent of the peer files)."""
    guide = _input("guide")
    res = idrisk.suda(guide, ["Residence", "Gender", "Education", "Labor"])
    assert res.scores["score"].tolist() == [0, 0, 6, 0, 12, 0, 6, 10, 0, 0]
    np.testing.assert_allclose(res.scores["dis_score"],
                               [0, 0, 0.004987, 0, 0.011383, 0, 0.004987, 0.009167, 0, 0], atol=5e-7)
    assert res.n_sample_uniques == 4 and res.n_in_pairs == 6
    assert res.dis == pytest.approx(0.00668896, abs=5e-9)
    book = _input("book")
    res = idrisk.suda(book, ["age", "gender", "income", "education"])
    assert res.scores["score"].tolist() == [0, 0, 0, 0, 4, 2, 6, 8]
    abc = _input("abc")
    res = idrisk.suda(abc, ["a", "b", "c"])
    assert res.scores["score"].tolist() == [2, 4, 2]
    assert res.attribute_contributions.tolist() == [50, 37.5, 37.5]
    # independent of column order
    res2 = idrisk.suda(abc, ["c", "a", "b"])
    assert res2.attribute_contributions[["a", "b", "c"]].tolist() == [50, 37.5, 37.5]


def test_edge_hash_collision_gives_the_formula_not_nan():
    """sdcMicro returns NaN here: its unique count U comes from a 16-bit hash in which both
    sample uniques share a bucket, so U = 0 and U/Dis - U = 0/0. The estimator does not
    depend on U (U/Dis - U = P (1-f)/f), so we give its value, computed here by hand."""
    data = _input("edge_suda_hash")
    ref = pd.read_csv(PEER / "suda2_edge_hash.csv")
    assert ref["disScore"].iloc[:2].isna().all()
    res = idrisk.suda(data, ["a", "b", "c"])
    _check_records(res, ref, ["a", "b", "c"], dis=False)
    # scores 4 and 3; P = 4 records in pairs; M = 3 so Q = 1.25; f = 0.01
    q, p, f = 1.25, 4, 0.01
    a = 4 ** -q + 3 ** -q
    exp = [1 / (1 + p * (1 - f) / f / (s ** q * a)) for s in (4.0, 3.0)] + [0, 0, 0, 0]
    np.testing.assert_allclose(res.scores["dis_score"], exp, rtol=1e-12)
    assert np.isfinite(res.scores["dis_score"]).all()


def test_edge_two_variables_weigh_as_three():
    """With fewer than 3 key variables sdcMicro pads constant dummy columns, so M = 3 in the
    weights (w(1) = 2) and in Q; we mirror that (documented in msu_weights)."""
    ref = pd.read_csv(PEER / "suda2_edge_twovars.csv")
    res = idrisk.suda(_input("francdat"), ["Key1", "Key2"])
    _check_records(res, ref, ["Key1", "Key2"])


def test_edge_truncation_is_not_mirrored():
    """sdcMicro casts codes to C int, so 1.2 and 1.7 are one category and rows 1-2 become
    duplicates. We compare values as values (1.2 != 1.7): on purpose, since silently merging
    categories would understate risk. On the truncated data we agree with sdcMicro."""
    data = _input("edge_suda_trunc")
    ref = pd.read_csv(PEER / "suda2_edge_trunc.csv")
    truncated = data.apply(np.trunc)
    _check_records(idrisk.suda(truncated, ["a", "b", "c"]), ref, ["a", "b", "c"])
    ours = idrisk.suda(data, ["a", "b", "c"]).scores["score"]
    assert ours.iloc[0] > 0 and ours.iloc[1] > 0  # 1.2 and 1.7 are different values
    assert ref["score"].iloc[0] == 0 and ref["score"].iloc[1] == 0
