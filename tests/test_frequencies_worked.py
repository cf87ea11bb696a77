"""Hand-worked examples WE1 and WE2 (docs/methods.md#frequencies; values agree with sdcMicro's own tests)."""

import numpy as np
import pandas as pd
import pytest

import idrisk

WE1 = pd.DataFrame(
    {
        "A": [2, 3, 2, 2, 3, 3, 1, 2],
        "B": [3, 3, 3, 3, 3, 3, 4, 3],
        "C": [1, 3, 1, 2, 1, 1, 1, 1],
        "w": [18.0, 45.5, 39.0, 17.0, 92.0, 8.0, 123.5, 51.0],
    }
)


def test_we1_weighted_exact_keys():
    out = idrisk.frequencies(WE1, ["A", "B", "C"], weights="w")
    assert out["fk"].tolist() == [3, 1, 3, 1, 2, 2, 1, 3]
    np.testing.assert_allclose(out["Fk"], [108, 45.5, 108, 17, 100, 100, 123.5, 108])


@pytest.fixture
def we2():
    df = WE1.astype({"A": "float", "C": "float"}).copy()
    df.loc[7, "A"] = np.nan
    df.loc[2, "C"] = np.nan
    df.loc[6, "C"] = np.nan
    return df


def test_we2_wildcard(we2):
    out = idrisk.frequencies(we2, ["A", "B", "C"], weights="w", missing="wildcard")
    assert out["fk"].tolist() == [3, 1, 4, 2, 3, 3, 1, 5]
    np.testing.assert_allclose(out["Fk"], [108, 45.5, 125, 56, 151, 151, 123.5, 208])


def test_we2_own_category(we2):
    out = idrisk.frequencies(we2, ["A", "B", "C"], missing="category")
    assert out["fk"].tolist() == [1, 1, 1, 1, 2, 2, 1, 1]


def test_we2_all_na_row():
    df = pd.DataFrame(
        {
            "A": [2, 3, np.nan, 2, 3, 3, 1, 2],
            "B": [3, 3, np.nan, 3, 3, 3, 4, 3],
            "C": [np.nan] * 8,
            "w": WE1["w"],
        }
    )
    with pytest.warns(idrisk.DataQualityWarning, match="no observed values"):
        out = idrisk.frequencies(df, ["A", "B", "C"], weights="w", missing="wildcard")
    assert out["fk"].tolist() == [4, 4, 8, 4, 4, 4, 2, 4]
    np.testing.assert_allclose(out["Fk"], [125, 184.5, 394, 125, 184.5, 184.5, 162.5, 125])
