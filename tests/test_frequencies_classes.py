"""The equivalence-class layer (idrisk.metrics._classes) and Encoded input for every metric."""

from __future__ import annotations

import json
import types
import warnings

import numpy as np
import pandas as pd
import pytest

import idrisk
import idrisk.metrics as M
from idrisk._results import Result
from idrisk.exceptions import DataValidationError, InvalidParameterError
from idrisk.metrics._classes import check_partition_missing, resolve

RNG = np.random.default_rng(20)
N = 400
DF = pd.DataFrame({
    "la": RNG.integers(200, 206, N),
    "sex": RNG.choice(["F", "M"], N),
    "yob": pd.Categorical(RNG.integers(2008, 2012, N)),
    "eth": np.where(RNG.random(N) < 0.05, None, RNG.choice(["A", "B", "C", "D"], N)).astype(object),
    "sen": RNG.choice(["N", "K", "E"], N),
    "grade": RNG.integers(1, 6, N),
    "w": RNG.uniform(5, 20, N),
    "hh": RNG.integers(0, 150, N),
}, index=pd.RangeIndex(1000, 1000 + N))
QIS = ["la", "sex", "yob", "eth"]


@pytest.fixture(scope="module")
def enc():
    return idrisk.encode(DF, QIS + ["sen", "grade", "hh"])


def _frame_equal(a, b):
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_metrics_package_reexports_functions():
    assert callable(M.k_anonymity) and M.k_anonymity is idrisk.k_anonymity
    for name in M.__all__:
        assert getattr(M, name) is not None
    assert not any(isinstance(getattr(M, n), types.ModuleType) for n in M.__all__)


def test_every_metric_accepts_encoded(enc):
    """Each metric gives the same answer from an Encoded as from the frame."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _frame_equal(idrisk.frequencies(enc, QIS, weights=DF["w"].to_numpy()),
                     idrisk.frequencies(DF, QIS, weights="w"))
        for missing in ("category", "wildcard", "never"):
            a = idrisk.k_anonymity(enc, QIS, missing=missing).to_dict()
            b = idrisk.k_anonymity(DF, QIS, missing=missing).to_dict()
            assert a == b
        assert idrisk.l_diversity(enc, QIS, "sen").to_dict() == idrisk.l_diversity(DF, QIS, "sen").to_dict()
        assert idrisk.t_closeness(enc, QIS, "sen").to_dict() == idrisk.t_closeness(DF, QIS, "sen").to_dict()
        a = idrisk.t_closeness(enc, QIS, "grade", distance="ordered").to_dict()
        assert a == idrisk.t_closeness(DF, QIS, "grade", distance="ordered").to_dict()
        assert idrisk.sample_risks(enc, QIS).to_dict() == idrisk.sample_risks(DF, QIS).to_dict()
        pop = pd.concat([DF, DF.sample(200, random_state=1)])
        assert (idrisk.sample_risks(enc, ["la", "sex"], population=pop).to_dict()
                == idrisk.sample_risks(DF, ["la", "sex"], population=pop).to_dict())
        _frame_equal(idrisk.qi_importance(enc, ["la", "sex", "yob"]),
                     idrisk.qi_importance(DF, ["la", "sex", "yob"]))
        _frame_equal(idrisk.combination_sweep(enc, QIS), idrisk.combination_sweep(DF, QIS))
        a, b = idrisk.suda(enc, QIS), idrisk.suda(DF, QIS)
        assert a.to_dict() == b.to_dict()
        _frame_equal(a.scores, b.scores)
        _frame_equal(idrisk.individual_risk(enc, QIS, weights=DF["w"].to_numpy(), household="hh",
                                            missing="wildcard"),
                     idrisk.individual_risk(DF, QIS, weights="w", household="hh", missing="wildcard"))
        assert (idrisk.global_risk(enc, QIS, missing="category").to_dict()
                == idrisk.global_risk(DF, QIS, missing="category").to_dict())
        assert (idrisk.population_uniqueness(enc, QIS, population_size=4000).to_dict()
                == idrisk.population_uniqueness(DF, QIS, population_size=4000).to_dict())
        assert (idrisk.unique_match_probability(enc, QIS, sampling_fraction=0.1)
                == idrisk.unique_match_probability(DF, QIS, sampling_fraction=0.1))


def test_results_follow_the_one_rule():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [idrisk.k_anonymity(DF, QIS, weights="w"), idrisk.l_diversity(DF, QIS, "sen"),
                   idrisk.t_closeness(DF, QIS, "sen"), idrisk.sample_risks(DF, QIS),
                   idrisk.suda(DF, QIS), idrisk.global_risk(DF, QIS, missing="category"),
                   idrisk.population_uniqueness(DF, QIS, population_size=4000)]
    for res in results:
        assert isinstance(res, Result)
        with pytest.raises(AttributeError):  # frozen
            res.n_records = 0
        assert "to_dict" not in type(res).__dict__
        json.dumps(res.to_dict(), allow_nan=False)
    d = results[0].to_dict()
    assert "fk" not in d and "Fk" not in d  # record level


def test_resolve_reports_every_problem_at_once():
    with pytest.raises(DataValidationError) as e:
        resolve(DF, ["la", "nope"], ["la", "gone"], weights="zilch")
    msg = str(e.value)
    for part in ("nope", "gone", "zilch", "listed both as quasi-identifier"):
        assert part in msg
    enc = idrisk.encode(DF, ["la"])
    with pytest.raises(DataValidationError) as e:
        resolve(enc, ["la", "nope"], weights="w")
    assert "nope" in str(e.value) and "already encoded" in str(e.value)
    with pytest.raises(InvalidParameterError, match="no quasi-identifier"):
        resolve(DF, [])


def test_partition_refusal_is_one_message():
    for fn, args in ((idrisk.l_diversity, (DF, QIS, "sen")), (idrisk.t_closeness, (DF, QIS, "sen")),
                     (idrisk.sample_risks, (DF, QIS)), (idrisk.qi_importance, (DF, QIS)),
                     (M.class_ids, (idrisk.encode(DF, QIS), QIS))):
        with pytest.raises(InvalidParameterError, match="does not partition records into classes"):
            fn(*args, missing="wildcard")
    with pytest.raises(InvalidParameterError, match="missing must be"):
        check_partition_missing("drop", "x")


def test_partition_from_frame_equals_class_ids(enc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for missing in ("category", "never"):
            g1, s1 = resolve(DF, QIS).partition(missing)
            g2, s2 = M.class_ids(enc, QIS, missing)
            np.testing.assert_array_equal(g1, g2)
            np.testing.assert_array_equal(s1, s2)


def test_small_ids_partition_is_the_same_partition(enc):
    """partition(small_ids=True) numbers classes by key, not first appearance: the same classes
    (one id for one class of class_ids, and back), the same sizes, the ids dense."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g1, s1 = resolve(DF, QIS).partition("category", small_ids=True)
        g2, s2 = M.class_ids(enc, QIS, "category")
    assert g1.dtype == np.int32 and sorted(set(g1.tolist())) == list(range(len(s1)))
    pairs = set(zip(g1.tolist(), g2.tolist()))
    assert len(pairs) == len(s1) == len(s2)  # a bijection between the two numberings
    np.testing.assert_array_equal(s1[g1], s2[g2])


@pytest.mark.parametrize("where", ["fk", "Fk"])
def test_fk_and_Fk_are_independent_columns(where):
    """Without weights fk and Fk may hold one array (copy-on-write): a write to either column
    leaves the other as it was, and the data are untouched."""
    df = pd.DataFrame({"a": [1, 1, 2, 2, 2], "b": ["x", "x", "y", "y", "z"]})
    before = df.copy()
    res = idrisk.frequencies(df, ["a", "b"])
    assert res["fk"].tolist() == [2, 2, 2, 2, 1] and res["Fk"].tolist() == [2, 2, 2, 2, 1]
    other = "Fk" if where == "fk" else "fk"
    res.loc[0, where] = 99
    res[where] += 1
    assert res[where].tolist() == [100, 3, 3, 3, 2]
    assert res[other].tolist() == [2, 2, 2, 2, 1]
    res.iloc[4, 0] = -5
    pd.testing.assert_frame_equal(df, before)


def test_results_do_not_share_their_column_names():
    """The result's column names are its own (frequencies names them from one Index made at
    import, copied): renaming one result's columns, or naming the axis, leaves the next
    result's as they were."""
    df = pd.DataFrame({"a": [1, 1, 2], "b": [3, 3, 3]})
    first = idrisk.frequencies(df, ["a", "b"])
    first.columns.name = "mine"
    first.columns = ["x", "y"]
    second = idrisk.frequencies(df, ["a", "b"])
    assert list(second.columns) == ["fk", "Fk"] and second.columns.name is None
    assert second.columns.dtype == pd.Index(["fk", "Fk"]).dtype  # as a dict's keys would give


@pytest.mark.parametrize("over", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fk_over_its_key_equals_naive(monkeypatch, over, seed):
    """From OVER_MIN_ROWS rows on the key is folded into the sizes' own block and the sizes
    written over it (groups.sizes_buffer); forced on small frames (with the waves and the
    threads forced too), fk and Fk equal the naive class sizes, and the columns stay
    independent."""
    import idrisk._kernels.groups as G
    import idrisk.metrics._frequencies as F

    monkeypatch.setattr(F, "OVER_MIN_ROWS", 0 if over else F.OVER_MIN_ROWS)
    monkeypatch.setattr(G, "_PAR_MIN_ROWS", 0)
    monkeypatch.setattr(G, "_WAVE_MIN_ROWS", 2)
    rng = np.random.default_rng(seed)
    n = 500
    df = pd.DataFrame({"a": rng.integers(0, 4, n), "b": pd.Categorical(rng.choice(list("xyz"), n)),
                       "c": rng.random(n) < 0.3})
    expected = df.groupby(["a", "b", "c"], observed=True)["a"].transform("size").to_numpy()
    res = idrisk.frequencies(df, ["a", "b", "c"])
    np.testing.assert_array_equal(res["fk"].to_numpy(), expected)
    np.testing.assert_array_equal(res["Fk"].to_numpy(), expected)
    res["fk"] += 1
    np.testing.assert_array_equal(res["Fk"].to_numpy(), expected)
