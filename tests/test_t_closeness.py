"""t_closeness: hand-worked example WE5, hand examples, naive reference, bad input."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idrisk
from idrisk.exceptions import DataValidationError, InvalidParameterError

import naive_diversity as naive

WE5 = pd.DataFrame({"la": [201] * 6 + [202] * 2, "yg": [6, 6, 6, 6, 7, 7, 6, 6],
                    "sen": list("NNKENNKE")})


def test_we5_equal_distance():
    """Global (0.5, 0.25, 0.25); A = global -> 0; B = (1,0,0) -> (0.5+0.25+0.25)/2 = 0.5; C -> 0.5."""
    res = idrisk.t_closeness(WE5, ["la", "yg"], "sen")
    assert res.per_class["size"].tolist() == [4, 2, 2]
    np.testing.assert_allclose(res.per_class["distance"], [0, 0.5, 0.5], atol=1e-15)
    assert res.t == pytest.approx(0.5, rel=1e-15)
    assert res.class_id.tolist() == [0, 0, 0, 0, 1, 1, 2, 2]
    assert res.is_t_close(0.5) and not res.is_t_close(0.49)
    assert res.classes_above(0.4) == 2


def test_we5_ordered_distance():
    """Order N < K < E: B cumulative diffs (0.5, 0.25, 0) -> 0.75 / 2 = 0.375; C (-0.5, -0.25, 0) -> 0.375."""
    res = idrisk.t_closeness(WE5, ["la", "yg"], "sen", distance="ordered", order=["N", "K", "E"])
    np.testing.assert_allclose(res.per_class["distance"], [0, 0.375, 0.375], atol=1e-15)
    assert res.t == pytest.approx(0.375, rel=1e-15)
    # an ordered categorical carries the order itself
    cat = WE5.assign(sen=pd.Categorical(WE5["sen"], categories=["N", "K", "E"], ordered=True))
    assert idrisk.t_closeness(cat, ["la", "yg"], "sen", distance="ordered").t == pytest.approx(0.375)
    # the default order for strings is alphabetical (E < K < N): B = (0, 0, 1) vs (.25, .25, .5)
    # cumulative (-0.25, -0.5, 0) -> 0.75 / 2 = 0.375 as well; C = (.5, .5, 0): (.25, .5, 0) -> 0.375
    assert idrisk.t_closeness(WE5, ["la", "yg"], "sen", distance="ordered").t == pytest.approx(0.375)


def test_ordered_distance_hand_example():
    """Values 1 < 2 < 3 < 4, global q = (3, 1, 1, 3) / 8, m - 1 = 3; hand-computed below."""
    df = pd.DataFrame({"k": [0, 0, 1, 1, 2, 2, 3, 3], "s": [1, 1, 4, 4, 2, 3, 1, 4]})
    res = idrisk.t_closeness(df, ["k"], "s", distance="ordered")
    q = np.array([3, 1, 1, 3]) / 8
    # class {2,3}: p = (0, .5, .5, 0); cum diffs: -3/8, -3/8+3/8=0, 3/8, 0 -> 6/8/3 = 0.25
    # class {1,4}: p = (.5, 0, 0, .5); cum: 1/8, 0, -1/8, 0 -> 2/8/3
    # class {1,1}: p = (1,0,0,0): 5/8, 4/8, 3/8, 0 -> 12/8/3 = 0.5; class {4,4} symmetric
    np.testing.assert_allclose(res.per_class["distance"], [0.5, 0.5, 0.25, 2 / 24], rtol=1e-14)
    assert q.sum() == 1


def test_missing_sensitive_is_a_value_for_equal_distance():
    df = pd.DataFrame({"k": [0, 0, 1, 1], "s": ["a", None, "a", "a"]})
    res = idrisk.t_closeness(df, ["k"], "s")
    # global (a 3/4, NA 1/4); class 0 (1/2, 1/2) -> (1/4 + 1/4)/2; class 1 (1, 0) -> 1/4
    np.testing.assert_allclose(res.per_class["distance"], [0.25, 0.25], rtol=1e-14)
    assert res.n_values == 2
    with pytest.raises(DataValidationError, match="missing value"):
        idrisk.t_closeness(df, ["k"], "s", distance="ordered", order=["a"])


@pytest.mark.filterwarnings("ignore::idrisk.DataQualityWarning")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(naive.frames(), st.sampled_from(["category", "never"]))
def test_equal_distance_matches_naive(case, missing):
    df, qis, s = case
    res = idrisk.t_closeness(df, qis, s, missing=missing)
    exp = naive.tcloseness(df, qis, s, "equal", missing=missing)
    assert res.per_class["size"].tolist() == [f for f, _ in exp]
    np.testing.assert_allclose(res.per_class["distance"], [d for _, d in exp], rtol=1e-12, atol=1e-15)
    assert res.class_id.index.equals(df.index)


@pytest.mark.filterwarnings("ignore::idrisk.DataQualityWarning")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(naive.frames(na=False), st.booleans())
def test_ordered_distance_matches_naive(case, reverse):
    df, qis, s = case
    vals = sorted(set(df[s].tolist()))
    order = vals[::-1] + ["never-seen"] if reverse else None
    res = idrisk.t_closeness(df, qis, s, distance="ordered", order=order)
    exp = naive.tcloseness(df, qis, s, "ordered", order=order)
    np.testing.assert_allclose(res.per_class["distance"], [d for _, d in exp], rtol=1e-12, atol=1e-15)
    assert res.n_values == len(vals)


@pytest.mark.filterwarnings("ignore::idrisk.DataQualityWarning")
@settings(max_examples=10, deadline=None)
@given(naive.frames(max_qis=20, n_qis=20, max_card=3, max_rows=25))
def test_twenty_qis_match_naive(case):
    df, qis, s = case
    res = idrisk.t_closeness(df, qis, s)
    exp = naive.tcloseness(df, qis, s, "equal")
    np.testing.assert_allclose(res.per_class["distance"], [d for _, d in exp], rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.integers(1, 60), st.integers(1, 700), st.integers(0, 2**32 - 1))
def test_ordered_prefix_sum_path_matches_direct_sum(n, g, card, seed):
    """The kernel's O(t log m) path for many values equals the term-by-term O(m) sum."""
    from idrisk._kernels.diversity import class_order, tcloseness_distances

    rng = np.random.default_rng(seed)
    _, gid = np.unique(rng.integers(0, g, n), return_inverse=True)
    gid = gid.astype(np.int64).ravel()
    _, s = np.unique(rng.integers(0, card, n), return_inverse=True)
    s = s.astype(np.int32).ravel()
    m = int(s.max()) + 1
    q = np.bincount(s, minlength=m) / n
    rank = rng.permutation(m).astype(np.int64)
    order, starts = class_order(gid, np.int64(gid.max() + 1))
    direct = tcloseness_distances(order, starts, s, np.int64(m), q, rank, True, np.int64(3), np.int64(10**9))
    prefix = tcloseness_distances(order, starts, s, np.int64(m), q, rank, True, np.int64(3), np.int64(0))
    np.testing.assert_allclose(prefix, direct, rtol=1e-10, atol=1e-14)


def test_ordered_many_values_matches_naive():
    """600 values (above the kernel's direct-sum limit of 256) against the reference."""
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"k": rng.integers(0, 15, 2000), "s": rng.integers(0, 600, 2000)})
    res = idrisk.t_closeness(df, ["k"], "s", distance="ordered")
    exp = naive.tcloseness(df, ["k"], "s", "ordered")
    np.testing.assert_allclose(res.per_class["distance"], [d for _, d in exp], rtol=1e-10)


@pytest.mark.parametrize("df,t", [
    (pd.DataFrame({"a": [1], "s": ["x"]}), 0.0),                    # one row: its own distribution
    (pd.DataFrame({"a": [1] * 4, "s": list("xyxy")}), 0.0),         # one class = the whole file
    (pd.DataFrame({"a": range(4), "s": list("xxyy")}), 0.5),        # all unique: each class a point mass
], ids=["one-row", "one-class", "unique"])
def test_edge_frames(df, t):
    assert idrisk.t_closeness(df, ["a"], "s").t == pytest.approx(t, abs=1e-15)


def test_to_dict_is_json_and_has_no_qi_values():
    res = idrisk.t_closeness(WE5, ["la", "yg"], "sen")
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["t"] == 0.5 and d["n_classes"] == 3
    assert list(res.per_class.columns) == ["class_id", "size", "distance"]
    assert "201" not in json.dumps(d)


def test_bad_input():
    with pytest.raises(InvalidParameterError, match="distance must"):
        idrisk.t_closeness(WE5, ["la"], "sen", distance="hierarchical")
    with pytest.raises(InvalidParameterError, match="does not cover 1 value"):
        idrisk.t_closeness(WE5, ["la"], "sen", distance="ordered", order=["N", "K"])
    with pytest.raises(InvalidParameterError, match="more than once"):
        idrisk.t_closeness(WE5, ["la"], "sen", distance="ordered", order=["N", "K", "E", "N"])
    with pytest.raises(InvalidParameterError, match="only used with distance='ordered'"):
        idrisk.t_closeness(WE5, ["la"], "sen", order=["N", "K", "E"])
    with pytest.raises(DataValidationError, match="mixes"):
        idrisk.t_closeness(pd.DataFrame({"k": [1, 1], "s": ["a", 3]}), ["k"], "s", distance="ordered")
    with pytest.raises(DataValidationError, match="both as quasi-identifier and as sensitive"):
        idrisk.t_closeness(WE5, ["la", "sen"], "sen")
    with pytest.raises(DataValidationError, match="gone"):
        idrisk.t_closeness(WE5, ["la"], "gone")
    with pytest.raises(InvalidParameterError, match="one sensitive column"):
        idrisk.t_closeness(WE5, ["la"], ["sen", "yg"])
    with pytest.raises(InvalidParameterError, match="wildcard"):
        idrisk.t_closeness(WE5, ["la"], "sen", missing="wildcard")
    with pytest.raises(InvalidParameterError):
        idrisk.t_closeness(WE5, ["la"], "sen").is_t_close(1.5)


def test_input_frame_unchanged():
    df = WE5.copy()
    df.loc[1, "la"] = np.nan
    df.index = [3, 3, 0, 9, 1, 2, 4, 7]
    before = df.copy(deep=True)
    idrisk.t_closeness(df, ["la", "yg"], "sen", distance="ordered", order=["N", "K", "E"])
    idrisk.t_closeness(df, ["la", "yg"], "sen")
    pd.testing.assert_frame_equal(df, before)


def test_docstring_examples():
    import doctest

    import idrisk.metrics._t_closeness as mod

    assert doctest.testmod(mod, raise_on_error=False).failed == 0
