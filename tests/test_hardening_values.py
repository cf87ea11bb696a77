"""Unusual values keep their identity; weights are aligned, checked and given one meaning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk import _encode
from idrisk.exceptions import DataValidationError, InvalidParameterError

NUL_VALUES = ["a\0b", "a\0c", "a", "a\0b", "a\0c", "a\0c"]  # classes: 2, 3 and 1 records


@pytest.fixture(params=["pandas' own", "NUL-safe path"])
def nul_path(request, monkeypatch):
    # pandas 3 factorises NUL-containing strings whole; the pandas 2 path is exercised on
    # pandas 3 too by switching it on (under pandas 2 it is the only path)
    if request.param == "NUL-safe path":
        monkeypatch.setattr(_encode, "_FACTORIZE_KEEPS_NUL", False)
    return request.param


@pytest.mark.parametrize("dtype", ["object", "string"])
@pytest.mark.parametrize("repeat", [1, 400])  # 400 x 6 rows takes the object-identity path
def test_strings_differing_after_a_nul_stay_distinct(nul_path, dtype, repeat):
    df = pd.DataFrame({"x": pd.array(NUL_VALUES * repeat, dtype=dtype)})
    res = idrisk.k_anonymity(df, ["x"])
    assert res.n_classes == 3
    assert res.min_class_size == repeat  # the lone "a"
    fk = idrisk.frequencies(df, ["x"])["fk"].to_numpy()
    np.testing.assert_array_equal(fk, np.tile([2, 3, 1, 2, 3, 3], repeat) * repeat)


UNUSUAL = ["a", "a\0", "", "\0", "\0\0", "\u00e9", "e\u0301", "x" * 1000 + "\0y", "x" * 1000 + "\0z"]


@pytest.mark.parametrize("dtype", ["object", "string", "string[pyarrow]"])
@pytest.mark.parametrize("repeat", [1, 300])
def test_unusual_strings_keep_their_identity(nul_path, dtype, repeat):
    # a trailing NUL, a lone NUL, the empty string, composed and decomposed accents and long
    # strings differing only after a NUL are nine different values
    df = pd.DataFrame({"x": pd.array(UNUSUAL * repeat, dtype=dtype)})
    res = idrisk.k_anonymity(df, ["x"])
    assert res.n_classes == 9 and res.min_class_size == repeat


def test_nul_safe_factorize_gives_back_the_strings(monkeypatch):
    monkeypatch.setattr(_encode, "_FACTORIZE_KEEPS_NUL", False)
    codes, uniques = _encode._factorize(np.array(NUL_VALUES + [None], dtype=object))
    assert codes.tolist() == [0, 1, 2, 0, 1, 1, -1]
    assert list(uniques) == ["a\0b", "a\0c", "a"]


# -- weights -----------------------------------------------------------------------------------
from idrisk.exceptions import InvalidWeightsError  # noqa: E402

W_DF = pd.DataFrame({"a": list("xxyyyz")}, index=[10, 11, 12, 13, 14, 15])
# weight of each row label: x = 1 + 2, y = 3 + 4 + 5, z = 6
W_BY_LABEL = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=W_DF.index)
FK_EXPECTED = [3.0, 3.0, 12.0, 12.0, 12.0, 6.0]


def test_a_weights_series_is_matched_by_index_label():
    shuffled = W_BY_LABEL.iloc[[5, 3, 0, 4, 1, 2]]
    for w in (W_BY_LABEL, shuffled, W_BY_LABEL.to_numpy()):
        assert idrisk.frequencies(W_DF, ["a"], weights=w)["Fk"].tolist() == FK_EXPECTED


@pytest.mark.parametrize("index, match", [
    ([0, 1, 2, 3, 4, 5], "6 row label\\(s\\) of the data are not in its index"),
    ([10, 11, 12, 13, 14, 99], "1 row label\\(s\\) of the data are not in its index"),
    ([10, 10, 12, 13, 14, 15], "duplicate labels"),
])
def test_a_weights_series_with_another_index_is_refused(index, match):
    with pytest.raises(InvalidWeightsError, match=match) as info:
        idrisk.frequencies(W_DF, ["a"], weights=pd.Series(np.ones(6) * 2, index=index))
    assert isinstance(info.value, InvalidParameterError) and isinstance(info.value, DataValidationError)


@pytest.mark.parametrize("w, match", [
    ([1, 2, 0, 4, 5, 6], "1 zero value\\(s\\)"),
    ([0] * 6, "6 zero value\\(s\\)"),
    ([1, -2, 3, -4, 5, 6], "2 negative value\\(s\\)"),
    ([1, np.nan, 3, 4, 5, 6], "1 missing value\\(s\\)"),
    ([1, np.inf, 3, 4, 5, 6], "1 infinite value\\(s\\)"),
    ([1e308] * 6, "too large: their total overflows"),
    (np.arange(1, 7) + 1j, "must be numeric \\(real numbers\\), got dtype complex128"),
    (["1", "2", "3", "4", "5", "6"], "must be numeric"),
    ([1.0] * 5, "5 values for 6 rows"),
])
@pytest.mark.parametrize("fn", ["frequencies", "individual_risk", "k_anonymity"])
def test_unusable_weights_are_refused(w, match, fn):
    with pytest.raises(InvalidWeightsError, match=match):
        getattr(idrisk, fn)(W_DF, ["a"], weights=w)


def test_weights_adding_up_to_fewer_than_the_records_are_refused_by_assess():
    df = W_DF.assign(w=[0.5] * 6)  # sum 3 < 6 records: sampling fraction 2
    with pytest.raises(InvalidWeightsError, match="add up to 3, fewer than the 6 records"):
        idrisk.assess(df, quasi_identifiers=["a"], weights="w", progress=False)


def test_weights_below_one_that_assess_writes_report_reads(tmp_path, capsys):
    from idrisk.cli import main

    rng = np.random.default_rng(4)
    df = pd.DataFrame({"a": rng.choice(list("xyz"), 60), "b": rng.integers(0, 3, 60)})
    df["w"] = np.where(np.arange(60) < 20, 0.5, 2.0)  # sum 10 + 80 = 90 >= 60
    df.to_csv(tmp_path / "x.csv", index=False)
    rc = main(["assess", str(tmp_path / "x.csv"), "--qi", "a,b", "--weights", "w", "--output",
               str(tmp_path / "r.json"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc in (0, 1)
    assert "DataQualityWarning: weights: 20 weight(s) are below 1" in err
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["meta"]["sampling_fraction"] == pytest.approx(60 / 90)
    assert main(["report", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.html")]) == 0
    df.assign(w=0.5).to_csv(tmp_path / "y.csv", index=False)
    assert main(["assess", str(tmp_path / "y.csv"), "--qi", "a,b", "--weights", "w", "--no-progress"]) == 2
    assert "fewer than the 60 records" in capsys.readouterr().err
