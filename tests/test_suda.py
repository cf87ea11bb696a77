"""idrisk.suda against the brute-force reference (tests/naive_suda.py), worked example WE3,
the size cap, and bad or degenerate input."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idrisk
from idrisk.exceptions import IdRiskError, InvalidParameterError, PerformanceWarning

import naive_suda
from idrisk._kernels import suda2


@st.composite
def tables(draw, max_cols=8, max_rows=30):
    m = draw(st.integers(1, max_cols))
    n = draw(st.integers(1, max_rows))
    cards = draw(st.lists(st.integers(1, 4), min_size=m, max_size=m))
    cols = {}
    for j, c in enumerate(cards):
        vals = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
        miss = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if draw(st.booleans()) else [False] * n
        cols[f"q{j}"] = [np.nan if mi else float(v) for v, mi in zip(vals, miss)]
    df = pd.DataFrame(cols)
    n_dup = draw(st.integers(0, min(n, 4)))
    if n_dup:  # duplicate rows, some of them three times or more
        df = pd.concat([df, df.iloc[:n_dup], df.iloc[: max(n_dup - 2, 0)]], ignore_index=True)
    start = draw(st.integers(-5, 5))
    df.index = pd.RangeIndex(start, start + 3 * len(df), 3)  # non-default index
    return df


def _compare(df, cap=None, sampling_fraction=0.05, score="sdcmicro"):
    qis = list(df.columns)
    exp = naive_suda.suda(df, qis, max_size=cap, sampling_fraction=sampling_fraction, score=score)
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-missing columns, identifier-looking columns
        res = idrisk.suda(df, qis, max_size=cap, sampling_fraction=sampling_fraction, score=score)
    pd.testing.assert_frame_equal(df, before)
    assert res.scores.index.equals(df.index)
    got = res.scores.reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False, rtol=1e-12, atol=1e-15)
    attr, levels = naive_suda.attribute_contributions(df, qis, exp)
    if exp["score"].sum() > 0:
        np.testing.assert_allclose(res.attribute_contributions[qis].to_numpy(), [attr[q] for q in qis], rtol=1e-12)
    have = {(r.variable, r.value): r.contribution for r in res.attribute_level_contributions.itertuples()}
    assert len(have) == len(levels)
    for q, v, pct in levels:
        if np.isnan(pct):
            assert np.isnan(have[(q, v)])
        else:
            assert have[(q, v)] == pytest.approx(pct, rel=1e-12, abs=1e-12)
    json.dumps(res.to_dict())
    return res


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_suda2_equals_brute_force(df):
    _compare(df)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(max_cols=7), st.integers(1, 7), st.sampled_from(["sdcmicro", "ihsn"]))
def test_capped_and_ihsn_equal_brute_force(df, cap, score):
    """max_size really caps the search: exactly the MSUs of size <= cap, full weights."""
    _compare(df, cap=cap, score=score)


@pytest.mark.parametrize("small_rows", [0, 4, 10_000])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(df=tables(), cap=st.sampled_from([None, 2, 3]))
def test_search_paths_equal_brute_force(monkeypatch, small_rows, df, cap):
    """The sub-tree search with nodes solved directly (_small_node) for none, some or all of
    the nodes: the same MSUs whichever path a node takes."""
    monkeypatch.setattr(suda2, "SMALL_ROWS", small_rows)
    _compare(df, cap=cap)


def test_we3_pupil_toy():
    """Hand-worked example WE3: MSUs, scores, contributions and DIS-SUDA worked by hand."""
    we3 = pd.DataFrame({"sex": list("FFMMF"), "yob": [2012, 2012, 2012, 2013, 2013],
                        "eth": ["WHIT", "WHIT", "ASIA", "WHIT", "WHIT"], "fsm": list("NNNYY")},
                       index=[101, 102, 103, 104, 105])
    keys = ["sex", "yob", "eth", "fsm"]
    res = idrisk.suda(we3, keys, sampling_fraction=0.1)
    sc = res.scores
    assert sc["score"].tolist() == [0, 0, 10, 6, 4]
    np.testing.assert_allclose(sc["dis_score"], [0, 0, 0.245244, 0.149677, 0.097643], atol=5e-7)
    contrib = sc[[f"{k}_contribution" for k in keys]].to_numpy()
    np.testing.assert_allclose(contrib, [[0, 0, 0, 0], [0, 0, 0, 0], [0.4, 0.2, 0.6, 0.2],
                                         [1, 1 / 3, 1 / 3, 1 / 3], [1, 0.5, 0, 0.5]], rtol=1e-12)
    assert sc["msu_size_1"].tolist() == [0, 0, 1, 0, 0]
    assert sc["msu_size_2"].tolist() == [0, 0, 2, 3, 2]
    assert sc["min_msu_size"].tolist() == [pd.NA, pd.NA, 1, 2, 2]
    assert res.special_uniques.tolist() == [False, False, True, True, True]
    assert res.attribute_contributions.to_dict() == {"sex": 70, "yob": 30, "eth": 40, "fsm": 30}
    assert res.dis == pytest.approx(0.14285714, abs=1e-8)
    np.testing.assert_allclose(idrisk.suda(we3, keys).scores["dis_score"],
                               [0, 0, 0.028692, 0.015750, 0.009741], atol=5e-7)
    # every MSU of WE3 has at most 2 variables: a cap at 2 changes nothing
    capped = idrisk.suda(we3, keys, max_size=2, sampling_fraction=0.1)
    pd.testing.assert_frame_equal(capped.scores, sc[capped.scores.columns])
    # WE3 invariance: multiplying every score by 7 leaves DIS-SUDA unchanged
    from idrisk.metrics import dis_suda_scores

    s = sc["score"].to_numpy()
    np.testing.assert_allclose(dis_suda_scores(7 * s, 2, 0.1, 4), sc["dis_score"], rtol=1e-12)
    d = res.to_dict()
    json.dumps(d)
    assert d["n_special_uniques"] == 3 and d["msu_counts"] == {"1": 1, "2": 7, "3": 0, "4": 0}


def test_cap_lowers_scores_to_the_small_msus():
    rng = np.random.default_rng(5)
    df = pd.DataFrame(rng.integers(0, 3, size=(60, 6)), columns=list("abcdef"))
    full = idrisk.suda(df, list(df.columns)).scores
    cap = idrisk.suda(df, list(df.columns), max_size=3).scores
    wt = idrisk.metrics.msu_weights(6)
    exp = sum(full[f"msu_size_{k}"] * wt[k] for k in (1, 2, 3))
    np.testing.assert_allclose(cap["score"], exp)
    assert (cap["score"] <= full["score"]).all()
    assert "msu_size_4" not in cap.columns
    for k in (1, 2, 3):
        assert (cap[f"msu_size_{k}"] == full[f"msu_size_{k}"]).all()


def test_constant_column_identical_rows_and_one_row():
    df = pd.DataFrame({"a": [1, 1, 2, 2, 3], "b": [5, 5, 5, 5, 5], "c": [0, 1, 0, 1, 0]})
    res = idrisk.suda(df, ["a", "b", "c"])
    assert (res.scores["b_contribution"] == 0).all()  # a constant QI is in no MSU
    _compare(df)
    same = pd.DataFrame({"a": [1] * 4, "b": ["x"] * 4, "c": [2.5] * 4})
    res = idrisk.suda(same, ["a", "b", "c"])
    assert (res.scores["score"] == 0).all() and (res.scores["dis_score"] == 0).all()
    assert res.n_sample_uniques == 0 and res.scores["min_msu_size"].isna().all()
    json.dumps(res.to_dict())
    one = pd.DataFrame({"a": [1], "b": ["x"], "c": [np.nan]})
    with pytest.warns(idrisk.DataQualityWarning, match="no observed values"):  # c is all missing
        res = idrisk.suda(one, ["a", "b", "c"])
    # one record: each non-missing value is unique on its own -> two 1-MSUs, weight 2! each
    assert res.scores["score"].tolist() == [4.0]
    assert res.scores["msu_size_1"].tolist() == [2]
    assert res.scores["dis_score"].tolist() == [1.0]  # no pairs: P = 0


def test_string_category_and_integer_columns_agree():
    rng = np.random.default_rng(1)
    base = pd.DataFrame(rng.integers(0, 3, size=(40, 4)), columns=list("abcd"))
    as_str = base.astype(str)
    as_cat = base.astype("category")
    r0 = idrisk.suda(base, list("abcd")).scores
    pd.testing.assert_frame_equal(idrisk.suda(as_str, list("abcd")).scores, r0)
    pd.testing.assert_frame_equal(idrisk.suda(as_cat, list("abcd")).scores, r0)


def test_bad_input():
    df = pd.DataFrame({f"v{i}": np.arange(30) % (i + 2) for i in range(22)})
    with pytest.raises(InvalidParameterError, match="max_size"):
        idrisk.suda(df, list(df.columns))
    with pytest.warns(PerformanceWarning, match="combinations"):
        idrisk.suda(df, list(df.columns), max_size=5)
    small = df.iloc[:, :3]
    with pytest.raises(InvalidParameterError):
        idrisk.suda(small, list(small.columns), max_size=0)
    with pytest.raises(InvalidParameterError):
        idrisk.suda(small, list(small.columns), max_size=2.5)
    for f in (0, -0.1, 1.5, float("nan")):
        with pytest.raises(InvalidParameterError):
            idrisk.suda(small, list(small.columns), sampling_fraction=f)
    with pytest.raises(InvalidParameterError):
        idrisk.suda(small, list(small.columns), score="elliot")
    with pytest.raises(IdRiskError, match="nope"):
        idrisk.suda(small, ["v0", "nope"])
    with pytest.raises(IdRiskError):
        idrisk.suda(small.iloc[:0], list(small.columns))
    with pytest.raises(IdRiskError):
        idrisk.suda([[1, 2]], ["a"])
    wide = pd.DataFrame({f"v{i}": [0, 1] for i in range(64)})
    with pytest.raises(InvalidParameterError, match="63"):
        idrisk.suda(wide, list(wide.columns), max_size=2)


def test_msu_weights():
    from idrisk.metrics import msu_weights

    assert msu_weights(4).tolist() == [0, 6, 2, 1, 1]
    assert msu_weights(7)[1:].tolist() == [720, 120, 24, 6, 2, 1, 1]
    ihsn = msu_weights(4, "ihsn")
    for k in range(1, 5):
        assert ihsn[k] == pytest.approx((2 ** (4 - k) - 1) / math.comb(4, k))
    assert msu_weights(2).tolist() == [0, 2, 1]  # M = 3 as in sdcMicro's padding


@pytest.mark.parametrize("cap", [None, 2, 3, 4])
def test_larger_tables_equal_brute_force(cap):
    """Deeper search trees than the hypothesis tables: several hundred records, skewed values,
    missing values and triplicated rows (exercises the pair-counting of limit-1 children)."""
    rng = np.random.default_rng(11)
    n, m = 300, 7
    p = np.array([0.55, 0.25, 0.1, 0.06, 0.04])
    df = pd.DataFrame({f"v{j}": rng.choice(5, size=n, p=p).astype(float) for j in range(m)})
    df = df.mask(rng.random(df.shape) < 0.03)
    df = pd.concat([df, df.iloc[:10], df.iloc[:5]], ignore_index=True)
    _compare(df, cap=cap)


@pytest.mark.parametrize("small_rows", [0, 10_000])
def test_larger_tables_either_node_path(monkeypatch, small_rows):
    """The 300-record table with every node expanded (0) or every node of at most 64 rows
    solved directly."""
    monkeypatch.setattr(suda2, "SMALL_ROWS", small_rows)
    test_larger_tables_equal_brute_force(None)
    test_larger_tables_equal_brute_force(3)


def test_deprecated_parameter_and_attribute_names():
    """max_msu_size/dis_fraction still work for one release, with a DeprecationWarning."""
    df = pd.DataFrame({"a": [2, 1, 1, 3], "b": [0, 3, 0, 0], "c": [0, 6, 0, 1]})
    new = idrisk.suda(df, ["a", "b", "c"], max_size=2, sampling_fraction=0.2)
    with pytest.warns(DeprecationWarning) as caught:
        old = idrisk.suda(df, ["a", "b", "c"], max_msu_size=2, dis_fraction=0.2)
    assert {str(w.message).split("=")[0] for w in caught} == {"suda(max_msu_size", "suda(dis_fraction"}
    pd.testing.assert_frame_equal(old.scores, new.scores)
    assert old.to_dict() == new.to_dict()
    with pytest.warns(DeprecationWarning, match="max_size"):
        assert new.max_msu_size == new.max_size == 2
    with pytest.warns(DeprecationWarning, match="sampling_fraction"):
        assert new.dis_fraction == new.sampling_fraction == 0.2
    with pytest.raises(InvalidParameterError, match="only"):
        idrisk.suda(df, ["a", "b", "c"], max_size=2, max_msu_size=3)


def test_file_level_dis_is_the_skinner_elliot_probability():
    df = pd.DataFrame({"a": [1, 2, 3, 4, 4, 5, 5, 6, 6, 6]})
    res = idrisk.suda(df, ["a"], sampling_fraction=0.3)
    assert res.dis == idrisk.unique_match_probability(n1=3, n2=2, sampling_fraction=0.3)
    # no uniques but pairs: DIS is 0 (sdcMicro), also for a census (formerly 0/0)
    assert idrisk.suda(df.iloc[3:7], ["a"], sampling_fraction=0.3).dis == 0
    assert np.isnan(idrisk.suda(df.iloc[7:], ["a"], sampling_fraction=1.0).dis)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(0, 2 ** 32 - 1))
def test_row_order_makes_projections_adjacent(m, n, seed):
    """row_order + project_rows against a plain reference: every T_x projected on the items
    ranked after x has one kept row per distinct projection, weighing min(sum of weights, 2)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-1, 3, size=(n, m)).astype(np.int32)  # -1: missing
    w = rng.integers(1, 3, size=n).astype(np.int32)
    levels = np.full(m, 3, dtype=np.int64)
    rank_of = suda2.prepare(X, np.arange(n, dtype=np.int64), w, levels, np.int64(m))[0]
    perm = suda2.row_order(rank_of)
    assert sorted(perm.tolist()) == list(range(n))
    w = w[perm]
    rank_of, _, _, _, top_off, top_rows, _ = suda2.prepare(X, perm, w, levels, np.int64(m))
    for x in range(len(top_off) - 1):
        rows = top_rows[top_off[x]: top_off[x + 1]]
        loc, wl, orig = suda2.project_rows(rank_of, w, rows, np.int64(x))
        proj = np.where(rank_of[rows] > x, rank_of[rows], -1)
        expect = {}
        for p, r in zip(map(tuple, proj), rows):
            expect.setdefault(p, []).append(r)
        assert len(loc) == len(expect)
        for row, wt, o in zip(map(tuple, loc), wl, orig):
            members = expect[row]
            assert wt == min(int(w[members].sum()), 2)
            if wt == 1:
                assert members == [o]
