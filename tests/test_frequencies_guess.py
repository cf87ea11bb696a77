"""frequencies in one pass over the raw key columns: their bounds guessed from a sample
(``key_columns(guess=True)``, ``codes.sample_min_max``) and checked during the fold
(``groups.fold_checked``), with the exact bounds taken when a value falls outside a guess.
Expected values come from pandas' own grouping (``groupby(...).transform("size")``)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import idrisk
from idrisk._encode import key_columns
from idrisk._kernels.codes import sample_min_max
from idrisk._kernels.groups import fold_checked, fold_columns, key_counts
from idrisk.exceptions import DataQualityWarning, IdentifierWarning


def naive_sample_min_max(values, runs, run):
    n = len(values)
    if n <= runs * run or runs < 2:
        return int(values.min()), int(values.max())
    step = (n - run) // (runs - 1)
    rows = [i for r in range(runs) for i in range((n - run) if r == runs - 1 else r * step,
                                                     ((n - run) if r == runs - 1 else r * step) + run)]
    return int(values[rows].min()), int(values[rows].max())


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-300, 300), min_size=1, max_size=400), st.integers(1, 9), st.integers(1, 30),
       st.sampled_from([np.int8, np.int16, np.int64]))
def test_sample_min_max_against_naive(values, runs, run, dtype):
    v = np.array(values, dtype=np.int64).clip(np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype)
    got = sample_min_max(v, runs, run)
    assert tuple(int(x) for x in got) == naive_sample_min_max(v, runs, run)
    assert v.min() <= got[0] <= got[1] <= v.max()


def sizes(df, keys):
    return df.groupby(keys, observed=True, dropna=False)[keys[0]].transform("size").to_numpy()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=200),
       st.integers(-2, 2), st.integers(-2, 2))
def test_fold_checked_gives_up_outside_a_guess(rows, shift_lo, shift_hi):
    """Guessed bounds moved by up to two either way: the fold is the exact classes when every
    value lies inside the guesses, and gives up (None) when one does not."""
    a = np.array([r[0] for r in rows], dtype=np.int16)
    b = np.array([r[1] for r in rows], dtype=np.int8)
    n = len(rows)
    lo, hi = int(a.min()) - shift_lo, int(a.max()) + shift_hi
    span = max(hi - lo + 1, 1)
    cols = [(a, lo, span), (b, int(b.min()), int(b.max()) - int(b.min()) + 2)]
    done = fold_checked(cols, n)
    inside = lo <= a.min() and a.max() < lo + span
    assert (done is not None) == inside
    if inside:
        key, space, counts = done
        fk, _ = key_counts(key, space, None, counts=counts)
        np.testing.assert_array_equal(fk, sizes(pd.DataFrame({"a": a, "b": b}), ["a", "b"]))


def frame_with_rare_values(n=60_000, seed=0):
    """Key columns whose rare values lie between the sampled runs (runs of 512 rows spaced
    (n - 512) // 63 = 944 apart at 60,000 rows: rows 944 r + 512 .. 944 r + 943 are in none)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(20, 30, n),                                   # int64
        "flag": np.zeros(n, dtype=bool),                                  # bool, constant in the sample
        "sen": pd.Categorical(rng.choice(["N", "K"], n), categories=["N", "K", "E"]),
        "la": pd.Series(rng.choice(["E0901", "E0902", "E0903"], n), dtype=object),
        "band": rng.integers(0, 3, n).astype(np.int8),
    })
    df.loc[700, "age"] = 99          # a rare extreme value outside the guess
    df.loc[944 + 700, "flag"] = True  # the bool column is not constant after all
    df.loc[944 * 31 + 700, "sen"] = "E"
    df.loc[944 * 31 + 701, "sen"] = np.nan
    return df


@pytest.mark.parametrize("threads", [False, True])
@pytest.mark.parametrize("keys", [["age", "band"], ["flag", "band"], ["sen", "band", "la"],
                                  ["age", "flag", "sen", "la", "band"], ["band", "la"]])
def test_frequencies_with_values_the_sample_missed(monkeypatch, keys, threads):
    """Slices on threads forced or not (then one slice below 2**18 rows)."""
    import idrisk._kernels.groups as G

    if threads:
        monkeypatch.setattr(G, "_PAR_MIN_ROWS", 0)
    df = frame_with_rare_values()
    before = df.copy()
    guessed = key_columns(df, keys, guess=True)
    res = idrisk.frequencies(df, keys)
    np.testing.assert_array_equal(res["fk"].to_numpy(), sizes(df, keys))
    np.testing.assert_array_equal(res["Fk"].to_numpy(), sizes(df, keys))
    pd.testing.assert_frame_equal(df, before)
    # a guess missed a value (age 99, SEN "E" and missing): the guessed fold gives up; the
    # bool column's guess is 2 wide, so its one True lies inside it
    assert (fold_checked(guessed, len(df)) is None) == ("age" in keys or "sen" in keys)
    exact = key_columns(df, keys)
    key, space = fold_columns(exact, len(df))
    np.testing.assert_array_equal(key_counts(key, space)[0], sizes(df, keys))


def test_guessed_columns_are_made_exact_and_encoded_ones_kept():
    df = frame_with_rare_values()
    keys = ["age", "la", "sen"]
    guessed = key_columns(df, keys, guess=True)
    assert [c.has_missing for c in guessed][::2] == [None, None]  # raw: guessed
    assert guessed[1].has_missing is not None                      # encoded: exact
    exact = key_columns(df, keys, known=guessed)
    assert exact[1] is guessed[1]
    assert [(c.lo, c.span, c.has_missing) for c in exact] == \
        [(c.lo, c.span, c.has_missing) for c in key_columns(df, keys)]


def test_warnings_survive_a_missed_guess():
    """An integer column whose wide range only shows outside the sample is still reported as
    a likely identifier, and a categorical missing in every sampled row but not all rows is
    grouped like the exact path."""
    n = 60_000
    df = pd.DataFrame({"id": np.zeros(n, dtype=np.int64), "c": pd.Categorical([None] * n, categories=["x"])})
    df.loc[600:n - 600, "id"] = np.arange(n - 1199) * 7  # distinct, but the first and last runs are 0
    df.loc[700, "c"] = "x"
    with pytest.warns(IdentifierWarning):
        res = idrisk.frequencies(df, ["id", "c"])
    np.testing.assert_array_equal(res["fk"].to_numpy(), sizes(df, ["id", "c"]))
    all_missing = pd.DataFrame({"c": pd.Categorical([None] * n, categories=["x"]), "b": np.arange(n) % 2})
    with pytest.warns(DataQualityWarning):
        idrisk.frequencies(all_missing, ["c", "b"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = idrisk.frequencies(df[["c"]].assign(b=np.arange(n) % 2), ["c", "b"])
    np.testing.assert_array_equal(res["fk"].to_numpy(), sizes(df[["c"]].assign(b=np.arange(n) % 2), ["c", "b"]))
