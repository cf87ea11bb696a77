"""idrisk.combination_sweep against a pandas loop over every subset (tests/naive_suda.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idrisk
from idrisk.exceptions import IdRiskError, InvalidParameterError

import naive_suda


@st.composite
def frames(draw):
    m = draw(st.integers(1, 5))
    n = draw(st.integers(1, 40))
    cols = {}
    for j in range(m):
        card = draw(st.integers(1, 5))
        vals = draw(st.lists(st.integers(0, card - 1), min_size=n, max_size=n))
        miss = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if draw(st.booleans()) else [False] * n
        cols[f"c{j}"] = [None if mi else v for v, mi in zip(vals, miss)]
    df = pd.DataFrame(cols).astype("Int64")
    if draw(st.booleans()):
        df = pd.concat([df, df.iloc[: draw(st.integers(0, n))]], ignore_index=True)
    start = draw(st.integers(-3, 3))
    df.index = pd.RangeIndex(start, start + 2 * len(df), 2)
    return df


def _check(df, max_size=None, k=(2, 3, 5, 10)):
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = idrisk.combination_sweep(df, list(df.columns), max_size=max_size, k=k)
    pd.testing.assert_frame_equal(df, before)
    exp = naive_suda.combination_sweep(df, list(df.columns), max_size=max_size, k=k)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
    return got


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), st.one_of(st.none(), st.integers(1, 5)), st.sampled_from([(2, 3, 5, 10), (1,), (4, 2)]))
def test_sweep_equals_pandas_loop(df, max_size, k):
    _check(df, max_size, k)


def test_sweep_fixed_cases():
    one = pd.DataFrame({"a": [1], "b": ["x"]})
    out = _check(one)
    assert out["sample_uniques"].tolist() == [1, 1, 1]
    same = pd.DataFrame({"a": [3] * 5, "b": ["x"] * 5, "c": [np.nan] * 5})
    out = _check(same)
    assert (out["n_classes"] == 1).all() and (out["smallest_class"] == 5).all()
    uniq = pd.DataFrame({"a": range(10), "b": list("abcdefghij")})
    out = _check(uniq)
    assert (out["sample_uniques"] == 10).all()
    # many levels: the grouping switches from lookup tables to hashing
    rng = np.random.default_rng(3)
    big = pd.DataFrame({"a": rng.integers(0, 5000, 3000), "b": rng.integers(0, 5000, 3000),
                        "c": rng.integers(0, 3, 3000), "d": rng.integers(0, 4000, 3000)})
    _check(big, max_size=3)


def test_sweep_string_and_category_columns_agree():
    rng = np.random.default_rng(0)
    base = pd.DataFrame(rng.integers(0, 4, size=(80, 4)), columns=list("abcd"))
    r0 = idrisk.combination_sweep(base, list("abcd"))
    pd.testing.assert_frame_equal(idrisk.combination_sweep(base.astype(str), list("abcd")), r0)
    pd.testing.assert_frame_equal(idrisk.combination_sweep(base.astype("category"), list("abcd")), r0)


def test_sweep_shape_and_order():
    df = pd.DataFrame({"a": [1, 1, 2], "b": [0, 1, 1], "c": [5, 5, 5]})
    out = idrisk.combination_sweep(df, ["a", "b", "c"], max_size=2, k=2)
    assert out["quasi_identifiers"].tolist() == [("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c")]
    assert list(out.columns) == ["quasi_identifiers", "size", "n_classes", "sample_uniques",
                                 "records_below_2", "smallest_class"]


def test_sweep_bad_input():
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    with pytest.raises(InvalidParameterError):
        idrisk.combination_sweep(df, ["a", "b"], max_size=0)
    with pytest.raises(InvalidParameterError):
        idrisk.combination_sweep(df, ["a", "b"], k=0)
    with pytest.raises(InvalidParameterError):
        idrisk.combination_sweep(df, ["a", "b"], k=[])
    with pytest.raises(IdRiskError, match="zz"):
        idrisk.combination_sweep(df, ["a", "zz"])
    wide = pd.DataFrame({f"v{i}": [0, 1] for i in range(30)})
    with pytest.raises(InvalidParameterError, match="max_size"):
        idrisk.combination_sweep(wide, list(wide.columns))
