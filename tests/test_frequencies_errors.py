"""Bad input to frequencies(): idrisk's own exceptions and warnings, never a numba traceback,
and the caller's frame is never modified (checked after every call, dtypes included)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.exceptions import (
    DataQualityWarning,
    DataValidationError,
    IdentifierWarning,
    IdRiskError,
    InvalidParameterError,
)


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({
        "sex": rng.choice(["F", "M"], size=n),
        "yob": rng.integers(2008, 2012, size=n),
        "fsm": rng.random(n) < 0.2,
        "eth": pd.Categorical(rng.choice(["WBRI", "ASIA", "REFU"], size=n)),
        "upn": [f"A{i:06d}" for i in range(n)],
        "w": rng.uniform(1, 30, size=n),
    }, index=rng.permutation(n) + 1000)
    frame.loc[frame.index[:5], "eth"] = np.nan
    return frame


@pytest.fixture
def unchanged(df):
    """Yields the frame and afterwards checks it is exactly as before."""
    before = df.copy(deep=True)
    yield df
    pd.testing.assert_frame_equal(df, before, check_exact=True)
    assert df.index.equals(before.index)


QIS = ["sex", "yob", "fsm", "eth"]


def test_missing_columns_reported_all_at_once(unchanged):
    with pytest.raises(DataValidationError) as err:
        idrisk.frequencies(unchanged, ["sex", "postcode", "school_urn", "yob"])
    assert "postcode" in str(err.value) and "school_urn" in str(err.value)


def test_missing_weight_column(unchanged):
    with pytest.raises(DataValidationError, match="weight column not found"):
        idrisk.frequencies(unchanged, QIS, weights="grossing_weight")


def test_empty_frame(unchanged):
    empty = unchanged.iloc[:0]
    with pytest.raises(DataValidationError, match="empty"):
        idrisk.frequencies(empty, QIS)


@pytest.mark.parametrize("qis", [[], None, ()])
def test_no_quasi_identifiers(unchanged, qis):
    with pytest.raises(InvalidParameterError, match="no quasi-identifier"):
        idrisk.frequencies(unchanged, qis)


def test_quasi_identifier_named_twice(unchanged):
    with pytest.raises(InvalidParameterError, match="more than once"):
        idrisk.frequencies(unchanged, ["sex", "yob", "sex"])


@pytest.mark.parametrize("missing", ["category", "wildcard", "never"])
def test_all_missing_quasi_identifier_warns(unchanged, missing):
    df = unchanged.assign(ks2=np.nan)
    with pytest.warns(DataQualityWarning, match="'ks2' has no observed values"):
        out = idrisk.frequencies(df, ["sex", "ks2"], missing=missing)
    # an all-missing column cannot tell records apart (wildcard: every record is all-NA
    # on it, which is not all-NA on the key, so the other key decides)
    expected = idrisk.frequencies(df, ["sex"])["fk"]
    np.testing.assert_array_equal(out["fk"], expected if missing != "never" else np.ones(len(df)))


@pytest.mark.parametrize("bad, match", [
    (-1.0, "negative"), (np.nan, "missing value"), (np.inf, "infinite"), (-np.inf, "infinite"),
])
@pytest.mark.parametrize("as_column", [True, False])
def test_bad_weights(unchanged, bad, match, as_column):
    w = unchanged["w"].to_numpy().copy()
    w[7] = bad
    if as_column:
        frame = unchanged.assign(bw=w)
        before = frame.copy(deep=True)
        with pytest.raises(DataValidationError, match=match):
            idrisk.frequencies(frame, QIS, weights="bw")
        pd.testing.assert_frame_equal(frame, before)
    else:
        with pytest.raises(DataValidationError, match=match):
            idrisk.frequencies(unchanged, QIS, weights=w)


@pytest.mark.parametrize("weights", [
    ["a"] * 120, pd.Categorical([1.0] * 120), [True] * 120, np.array(["1.5"] * 120, dtype=object),
])
def test_non_numeric_weights(unchanged, weights):
    with pytest.raises(DataValidationError, match="must be numeric"):
        idrisk.frequencies(unchanged, QIS, weights=weights)


def test_weights_of_wrong_length(unchanged):
    with pytest.raises(DataValidationError, match="119 values for 120 rows"):
        idrisk.frequencies(unchanged, QIS, weights=np.ones(119))


def test_weights_below_one_warn(unchanged):
    w = unchanged["w"].to_numpy() / 100
    with pytest.warns(DataQualityWarning, match="below 1"):
        out = idrisk.frequencies(unchanged, QIS, weights=w)
    assert (out["Fk"] < out["fk"]).any()


@pytest.mark.parametrize("column", ["upn", "row_id", "cat_id"])
def test_identifier_like_column_warns(unchanged, column):
    df = unchanged.assign(row_id=np.arange(len(unchanged)) * 3,
                          cat_id=pd.Categorical(unchanged["upn"]))
    with pytest.warns(IdentifierWarning, match=f"'{column}' takes 120 distinct values in 120 rows"):
        out = idrisk.frequencies(df, ["sex", column])
    assert (out["fk"] == 1).all()


def test_nearly_unique_column_warns(unchanged):
    """117 distinct values in 120 rows (97.5%) is still an identifier (threshold 95%)."""
    near = np.arange(120)
    near[[10, 20, 30]] = near[[11, 21, 31]]
    df = unchanged.assign(near=near * 1000 + 7)
    with pytest.warns(IdentifierWarning, match="'near' takes 117 distinct values in 120 rows"):
        idrisk.frequencies(df, ["near"], missing="wildcard")
    ok = unchanged.assign(coarse=np.arange(120) // 2)  # 60 distinct: a QI, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        idrisk.frequencies(ok, ["coarse"])


def test_no_identifier_warning_for_ordinary_columns(unchanged):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        idrisk.frequencies(unchanged, QIS, weights="w", missing="wildcard", alpha=0.5)


@pytest.mark.parametrize("values", [
    ["1", 1] * 60, [1, "x"] * 60, [True, 1] * 60, [2.5, "2.5"] * 60, [1, None, "a"] * 40,
])
def test_mixed_type_object_column(unchanged, values):
    df = unchanged.assign(mixed=pd.Series(values, index=unchanged.index, dtype=object))
    with pytest.raises(DataValidationError, match="'mixed' mixes kinds of values"):
        idrisk.frequencies(df, ["sex", "mixed"])


def test_infinite_quasi_identifier(unchanged):
    df = unchanged.assign(score=np.where(np.arange(120) == 3, np.inf, 1.0))
    with pytest.raises(DataValidationError, match="infinite"):
        idrisk.frequencies(df, ["score"])


def test_duplicate_column_names(unchanged):
    dup = pd.concat([unchanged[["sex", "yob"]], unchanged[["sex"]]], axis=1)
    before = dup.copy(deep=True)
    with pytest.raises(DataValidationError, match="duplicate column names: sex"):
        idrisk.frequencies(dup, ["sex", "yob"])
    pd.testing.assert_frame_equal(dup, before)


@pytest.mark.parametrize("missing", ["wildcards", None, "NA", 1])
def test_invalid_missing(unchanged, missing):
    with pytest.raises(InvalidParameterError, match="missing must be one of"):
        idrisk.frequencies(unchanged, QIS, missing=missing)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, np.nan, np.inf, "0.5", None, True])
def test_invalid_alpha(unchanged, alpha):
    with pytest.raises(InvalidParameterError, match="alpha"):
        idrisk.frequencies(unchanged, QIS, missing="wildcard", alpha=alpha)


@pytest.mark.parametrize("data", [[[1, 2], [3, 4]], {"a": [1, 2]}, np.ones((3, 2)), "data.csv"])
def test_not_a_frame(data):
    with pytest.raises(InvalidParameterError, match="must be a pandas DataFrame"):
        idrisk.frequencies(data, ["a"])


def test_encoded_input_needs_array_weights(unchanged):
    enc = idrisk._encode.encode(unchanged, QIS)
    with pytest.raises(DataValidationError, match="already encoded"):
        idrisk.frequencies(enc, QIS, weights="w")
    with pytest.raises(DataValidationError, match="not found"):
        idrisk.frequencies(enc, ["sex", "upn"])


@pytest.mark.parametrize("missing", ["category", "wildcard", "never"])
def test_every_valid_call_leaves_the_frame_alone(unchanged, missing):
    df = unchanged.copy()
    df.loc[df.index[::7], "yob"] = pd.NA
    df["yob"] = df["yob"].astype("Int64")
    df["sex_s"] = df["sex"].astype("string[pyarrow]")
    before = df.copy(deep=True)
    for weights in (None, "w", df["w"].to_numpy()):
        out = idrisk.frequencies(df, ["sex_s", "yob", "fsm", "eth"], weights=weights, missing=missing,
                                 alpha=0.5)
        pd.testing.assert_frame_equal(df, before, check_exact=True)
        out.iloc[:, :] = 0  # writing to the result does not reach the input
        pd.testing.assert_frame_equal(df, before, check_exact=True)


def test_all_errors_are_idrisk_errors():
    assert issubclass(DataValidationError, IdRiskError)
    assert issubclass(InvalidParameterError, IdRiskError)
