"""recordlinkage as the reference for the intruder's blocking, EM and Jaro-Winkler comparison.

recordlinkage caps pandas below 3, so these run in a pandas<3 environment
(``pytest tests/crosscheck``) and the main suite runs with ``--ignore=tests/crosscheck``.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
import recordlinkage
from hypothesis import given, settings
from hypothesis import strategies as st

import naive_intruder as naive
from fs_reference import fit_em
from idrisk._kernels import linkage as K
from idrisk.exceptions import DataQualityWarning, DataValidationError
from idrisk.intruder import IntruderScenario, simulate_intruder
from idrisk.intruder.blocking import candidate_pairs
from idrisk.intruder.compare import compare_pairs, prepare_fields

pytestmark = pytest.mark.crosscheck


def candidate_pairs_recordlinkage(fields, passes, n_e: int, n_a: int):
    """The same candidate set with ``recordlinkage.Index().block(...)`` (small data, tests).

    Returns a sorted ``(n_pairs, 2)`` int64 array of (auxiliary row, extract row).
    """
    byname = {f.name: f for f in fields}
    cols = sorted({v for p in passes for v in p})
    # missing keys must not agree: give each missing value its own negative code
    de = pd.DataFrame({v: np.where(byname[v].codes_e >= 0, byname[v].codes_e,
                                   -1 - np.arange(n_e)) for v in cols})
    da = pd.DataFrame({v: np.where(byname[v].codes_a >= 0, byname[v].codes_a,
                                   -1 - n_e - np.arange(n_a)) for v in cols})
    indexer = recordlinkage.Index()
    for p in passes:
        indexer.block(left_on=list(p), right_on=list(p))
    idx = indexer.index(da, de)
    arr = np.column_stack([idx.get_level_values(0).to_numpy(), idx.get_level_values(1).to_numpy()]).astype(np.int64)
    if arr.size:
        arr = arr[np.lexsort((arr[:, 1], arr[:, 0]))]
    return arr


rows = st.lists(st.tuples(st.sampled_from([0, 1, 2, None]), st.sampled_from(["p", "q", None]),
                          st.integers(0, 2)), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None)
@given(rows, rows, st.sampled_from([[["a"]], [["a", "b"]], [["a"], ["b", "c"]], [["c"], ["a"], ["b"]]]))
def test_blocking_matches_recordlinkage(erows, arows, passes):
    """recordlinkage's ``Index().block`` per pass, united, gives idrisk's (and the naive) candidate set."""
    ext = pd.DataFrame(erows, columns=["a", "b", "c"]).astype({"a": "float64"})
    aux = pd.DataFrame(arows, columns=["a", "b", "c"]).astype({"a": "float64"})
    sc = IntruderScenario(name="t", quasi_identifiers=["a", "b", "c"], blocking=passes)
    try:
        fields = prepare_fields(ext, aux, sc)
    except DataValidationError:
        return  # a column nobody observed: refused (tests/test_intruder.py checks the message)
    if all(any(ext[v].isna().all() or aux[v].isna().all() for v in p) for p in passes):
        return  # no pass can form a block: refused (tests/test_intruder.py)
    expected = naive.candidate_pairs(ext, aux, passes)
    rl = candidate_pairs_recordlinkage(fields, passes, len(ext), len(aux))
    assert {tuple(p) for p in rl} == expected
    if not expected:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        ptr, pe, _, _ = candidate_pairs(fields, passes, len(ext), len(aux))
    assert set(zip(K.expand_targets(ptr).tolist(), pe.tolist())) == {tuple(p) for p in rl}


def test_em_matches_recordlinkage_ecm():
    """Same m/u as ECMClassifier (init 'jaro', atol 1e-4) and the same classification."""
    rng = np.random.default_rng(0)
    n, k = 4000, 4
    match = rng.random(n) < 0.2
    p = np.where(match[:, None], [0.95, 0.9, 0.85, 0.8], [0.1, 0.3, 0.05, 0.5])
    X = (rng.random((n, k)) < p).astype(np.int8)
    df = pd.DataFrame(X, columns=list("abcd"))
    ecm = recordlinkage.ECMClassifier(init="jaro", binarize=None, max_iter=100, atol=1e-4)
    ecm.fit(df)
    r = fit_em(X.T.copy(), m0=0.9, u0=0.1, lam0=0.1, max_iter=100, atol=1e-4)
    npt.assert_allclose(r.m, [ecm.m_probs[c][1] for c in "abcd"], atol=1e-6)
    npt.assert_allclose(r.u, [ecm.u_probs[c][1] for c in "abcd"], atol=1e-6)
    assert r.lam == pytest.approx(ecm.p, abs=1e-6)
    # classification: posterior > 1/2 with our parameters
    lm = np.log(r.lam) + (X * np.log(r.m) + (1 - X) * np.log(1 - r.m)).sum(1)
    lu = np.log(1 - r.lam) + (X * np.log(r.u) + (1 - X) * np.log(1 - r.u)).sum(1)
    ours = set(np.flatnonzero(lm > lu))
    theirs = set(ecm.predict(df).tolist())
    assert ours == theirs and 0 < len(ours) < n
    # the truth is mostly recovered (sanity of the simulated data, not of the estimator)
    assert (np.isin(np.arange(n), list(ours)) == match).mean() > 0.9


def test_string_comparison_matches_recordlinkage_jarowinkler():
    ext = pd.DataFrame({"blk": [1] * 7, "name": ["Smith", "Smyth", "Jones", "Johns", "Brown", "Taylor", None]})
    aux = pd.DataFrame({"blk": [1, 1, 1], "name": ["Smiht", "Tailor", "Brwn"], "_truth_row": [0, 5, 4]})
    sc = IntruderScenario(name="s", quasi_identifiers=["blk", "name"], blocking=[["blk"]],
                          comparisons={"name": {"kind": "string", "threshold": 0.85}})
    fields = prepare_fields(ext, aux, sc)
    ptr, pe, pp, _ = candidate_pairs(fields, sc.blocking, 7, 3)
    pa = K.expand_targets(ptr)
    gamma = compare_pairs(fields, pe, pa)
    idx = pd.MultiIndex.from_arrays([pa, pe])
    comp = recordlinkage.Compare()
    comp.string("name", "name", method="jarowinkler", threshold=0.85, label="name", missing_value=-1)
    ref = comp.compute(idx, aux, ext)["name"].to_numpy()
    npt.assert_array_equal(gamma[1], ref)
    sims = [naive.jaro_winkler(aux.at[a, "name"], ext.at[e, "name"]) for a, e in zip(pa, pe) if ext.at[e, "name"]]
    assert sum(s >= 0.85 for s in sims) == int((gamma[1] == 1).sum())
    assert int((gamma[1] == 1).sum()) == 3  # Smiht~Smith (Smyth 0.83 < 0.85), Tailor~Taylor, Brwn~Brown
    r = simulate_intruder(ext, aux, sc)
    assert r.claims == 3 and r.correct_claims == 3
    assert r.unique_matches == 3 and r.unique_matches_correct == 3
