"""The hand-written sorts of the kernels (heapsort instead of numba's np.sort/np.argsort)
give NumPy's order: values sorted, and distinct keys carried with their values."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from idrisk._kernels.diversity import _sort_desc, _sort_pairs, heapsort_pairs


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-10**6, 10**6), min_size=0, max_size=300))
def test_sort_desc_matches_numpy_on_either_side_of_the_insertion_sort_limit(values):
    a = np.array(values + [7] * 3, dtype=np.int64)  # repeats included
    m = len(values)
    expected = np.concatenate([np.sort(a[:m])[::-1], a[m:]])
    _sort_desc(a, np.int64(m))
    np.testing.assert_array_equal(a, expected)


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(0, 10**6), min_size=0, max_size=300), st.randoms(use_true_random=False))
def test_sort_pairs_carries_values_with_distinct_keys(keys, rnd):
    keys = list(keys)
    rnd.shuffle(keys)
    k = np.array(keys, dtype=np.int64)
    v = k * 0.5 + 1.0
    order = np.argsort(k)
    _sort_pairs(k, v, np.int64(len(keys)))
    np.testing.assert_array_equal(k, np.array(keys, dtype=np.int64)[order])
    np.testing.assert_array_equal(v, k * 0.5 + 1.0)


def test_heapsort_pairs_gives_argsort_of_distinct_keys():
    rng = np.random.default_rng(5)
    keys = rng.permutation(1000).astype(np.int64) * 3 + 1
    idx = np.arange(1000, dtype=np.int64)
    expected = np.argsort(keys, kind="mergesort")
    k = keys.copy()
    heapsort_pairs(k, idx, np.int64(1000))
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_array_equal(k, np.sort(keys))
    one = np.array([4], dtype=np.int64)
    heapsort_pairs(one, np.zeros(1, dtype=np.int64), np.int64(1))  # m = 1 and m = 0 are no-ops
    heapsort_pairs(one, np.zeros(1, dtype=np.int64), np.int64(0))
    assert one[0] == 4
