"""fk / Fk against the pairwise reference (tests/naive_frequency.py) on hypothesis frames.

Frames mix every supported column type, missing values, duplicates and odd indexes;
the three missing-value conventions, weights and alpha are all exercised.
"""

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idrisk
from idrisk._encode import encode
from idrisk.exceptions import IdRiskWarning
from naive_frequency import frequencies as naive

KINDS = ["int", "float", "object", "category", "bool", "Int64", "boolean", "arrow_str", "datetime",
         "uint8", "timedelta", "string"]
NULLABLE = {"float", "object", "category", "Int64", "boolean", "arrow_str", "datetime", "timedelta",
            "string"}
MISSING = ["category", "wildcard", "never"]


def make_column(codes: np.ndarray, kind: str, rng: np.random.Generator) -> pd.Series:
    """Turn small integer codes (-1 = missing) into a column of the given kind."""
    na = codes < 0
    if kind == "int":
        return pd.Series(codes * 7 - 3, dtype=np.int64)
    if kind == "uint8":
        return pd.Series(codes + 200, dtype=np.uint8)
    if kind == "bool":
        return pd.Series(codes % 2 == 1)
    if kind == "float":
        return pd.Series(np.where(na, np.nan, codes * 0.5 - 1.0))
    if kind == "object":
        return pd.Series([None if c < 0 else f"v{c}" for c in codes], dtype=object)
    if kind == "string":
        return pd.Series([None if c < 0 else f"s{c}" for c in codes], dtype="string")
    if kind == "arrow_str":
        return pd.Series([None if c < 0 else f"é{c}" for c in codes], dtype="string[pyarrow]")
    if kind == "category":
        # categories in a shuffled order, plus two never-used categories
        cats = [f"c{v}" for v in rng.permutation(int(codes.max(initial=0)) + 3)]
        return pd.Series(pd.Categorical([None if c < 0 else f"c{c}" for c in codes], categories=cats))
    if kind == "Int64":
        return pd.Series(pd.array([None if c < 0 else int(c) - 1 for c in codes], dtype="Int64"))
    if kind == "boolean":
        return pd.Series(pd.array([None if c < 0 else bool(c % 2) for c in codes], dtype="boolean"))
    if kind == "datetime":
        return pd.Series(pd.Timestamp("2011-09-01") + pd.to_timedelta(np.where(na, 0, codes), unit="D")
                         ).where(~na, pd.NaT)
    if kind == "timedelta":
        return pd.Series(pd.to_timedelta(np.where(na, 0, codes), unit="h")).where(~na, pd.NaT)
    raise AssertionError(kind)


@st.composite
def frames(draw, max_rows=24, max_qis=4):
    n = draw(st.integers(1, max_rows))
    m = draw(st.integers(1, max_qis))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = draw(st.sampled_from(["random", "identical", "unique"]))
    cols = {}
    kinds = []
    for j in range(m):
        kind = draw(st.sampled_from(KINDS))
        card = draw(st.integers(1, 4))
        if shape == "identical":
            codes = np.zeros(n, dtype=np.int64)
        elif shape == "unique":
            codes = rng.permutation(n)
        else:
            codes = rng.integers(0, card, size=n)
        if kind in NULLABLE:
            rate = draw(st.sampled_from([0.0, 0.2, 0.5, 1.0]))
            codes = np.where(rng.random(n) < rate, -1, codes)
        if kind in ("bool", "boolean") and shape == "unique":
            codes = codes % 2
        cols[f"q{j}"] = make_column(codes, kind, rng)
        kinds.append(kind)
    df = pd.DataFrame(cols)
    df["w"] = rng.uniform(1.0, 50.0, size=n).round(3)
    index = draw(st.sampled_from(["default", "shuffled", "duplicated", "filtered", "labels"]))
    if index == "shuffled":
        df.index = rng.permutation(n) + 100
    elif index == "duplicated":
        df.index = rng.integers(0, max(1, n // 2), size=n)
    elif index == "filtered":
        big = pd.concat([df, df], ignore_index=True)
        keep = np.sort(rng.choice(2 * n, size=n, replace=False))
        df = big.iloc[keep]
    elif index == "labels":
        df.index = [f"pupil{i}" for i in rng.permutation(n)]
    return df, [f"q{j}" for j in range(m)], kinds


def _check(df, qis, missing, alpha, weighted):
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdRiskWarning)
        out = idrisk.frequencies(df, qis, weights="w" if weighted else None, missing=missing, alpha=alpha)
    pd.testing.assert_frame_equal(df, before)  # input untouched, dtypes included
    fk, Fk = naive(df, qis, df["w"] if weighted else None, missing, alpha)
    assert out.index.equals(df.index)
    assert list(out.columns) == ["fk", "Fk"]
    np.testing.assert_allclose(out["fk"].to_numpy(dtype=float), fk, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out["Fk"].to_numpy(dtype=float), Fk, rtol=1e-9, atol=1e-9)
    # dtype depends on the parameters only, never on the data
    float_fk = missing == "wildcard" and alpha != 1.0
    assert out["fk"].dtype == (np.float64 if float_fk else np.int64)
    assert out["Fk"].dtype == (np.float64 if (weighted or float_fk) else np.int64)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), st.sampled_from(MISSING), st.sampled_from([1.0, 0.5, 0.0, 0.137]), st.booleans())
def test_matches_naive(case, missing, alpha, weighted):
    df, qis, _ = case
    _check(df, qis, missing, alpha, weighted)


@settings(max_examples=15, deadline=None)
@given(frames(max_rows=12, max_qis=1).map(lambda c: c[0]), st.sampled_from(MISSING),
       st.integers(0, 10**6))
def test_twenty_qis(df, missing, seed):
    """20 QIs: the key space overflows int64 and the grouping must renumber as it goes."""
    rng = np.random.default_rng(seed)
    n = len(df)
    extra = {f"z{j}": pd.Series(np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 3, n)),
                                index=df.index) for j in range(20)}
    wide = pd.concat([df, pd.DataFrame(extra, index=df.index)], axis=1)
    _check(wide, [f"z{j}" for j in range(20)], missing, 0.5 if missing == "wildcard" else 1.0, True)


@settings(max_examples=25, deadline=None)
@given(frames(max_rows=16))
def test_pyarrow_table_and_encoded_input(case):
    df, qis, kinds = case
    df = df.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdRiskWarning)
        expected = idrisk.frequencies(df, qis, missing="wildcard", weights="w")
        table = pa.Table.from_pandas(df, preserve_index=False)
        got = idrisk.frequencies(table, qis, missing="wildcard", weights=df["w"].to_numpy())
        enc = encode(df, qis)
        via_enc = idrisk.frequencies(enc, qis, missing="wildcard", weights=df["w"].to_numpy())
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(via_enc, expected)


@pytest.mark.parametrize("missing", MISSING)
@pytest.mark.parametrize("case", ["one_row", "identical", "unique", "one_row_na"])
def test_fixed_edge_cases(case, missing):
    if case == "one_row":
        df = pd.DataFrame({"a": [3], "b": ["x"], "w": [5.0]}, index=[42])
    elif case == "one_row_na":
        df = pd.DataFrame({"a": [np.nan], "b": ["x"], "w": [5.0]}, index=[42])
    elif case == "identical":
        df = pd.DataFrame({"a": [1] * 6, "b": ["x"] * 6, "w": np.arange(1.0, 7.0)})
    else:
        df = pd.DataFrame({"a": range(6), "b": list("abcdef"), "w": np.arange(1.0, 7.0)})
    out = _check(df, ["a", "b"], missing, 1.0, True)
    expected = {"one_row": [1], "one_row_na": [1], "identical": [6] * 6, "unique": [1] * 6}[case]
    assert out["fk"].tolist() == expected


def test_same_answer_whatever_the_dtype():
    """The same partition written as int, float, string, category, datetime gives one answer."""
    rng = np.random.default_rng(7)
    codes = rng.integers(-1, 4, size=(3, 300))
    ref = None
    for kind in ["float", "object", "category", "Int64", "arrow_str", "datetime", "string"]:
        df = pd.DataFrame({f"q{j}": make_column(codes[j], kind, rng) for j in range(3)})
        for missing in MISSING:
            out = idrisk.frequencies(df, ["q0", "q1", "q2"], missing=missing, alpha=0.5)
            if ref is None or missing not in ref:
                ref = (ref or {}) | {missing: out}
            pd.testing.assert_frame_equal(out, ref[missing])


@settings(max_examples=30, deadline=None)
@given(frames(max_rows=20, max_qis=4), st.sampled_from([1.0, 0.25]))
def test_wildcard_pattern_labels_without_bit_sets(monkeypatch_case, alpha):
    """The fallback for more than 62 columns with NAs (patterns labelled by a grouping)."""
    import idrisk.metrics._frequencies as F

    df, qis, _ = monkeypatch_case
    old = F._BITSET_MAX
    F._BITSET_MAX = 0
    try:
        _check(df, qis, "wildcard", alpha, True)
    finally:
        F._BITSET_MAX = old


def test_many_missing_patterns_warn():
    rng = np.random.default_rng(5)
    n, m = 150, 8
    df = pd.DataFrame({f"q{j}": np.where(rng.random(n) < 0.4, np.nan, rng.integers(0, 2, n))
                       for j in range(m)})
    from idrisk.exceptions import PerformanceWarning

    with pytest.warns(PerformanceWarning, match="distinct patterns of missing values"):
        idrisk.frequencies(df, list(df.columns), missing="wildcard")
