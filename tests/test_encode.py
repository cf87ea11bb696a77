"""Encoding layer and grouping kernel against plain-Python references."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import idrisk
from idrisk._encode import encode, key_columns
from idrisk._kernels.groups import default_limit, fold_columns, gather, group_ids, group_sums
from idrisk.exceptions import DataQualityWarning, IdentifierWarning
from idrisk.metrics import class_ids
from test_frequencies_naive import KINDS, NULLABLE, make_column


def naive_group_ids(codes):
    """First-appearance class ids of the rows (columns of a (m, n) matrix) with a dict."""
    ids, gid = {}, []
    for i in range(codes.shape[1]):
        gid.append(ids.setdefault(tuple(codes[:, i].tolist()), len(ids)))
    sizes = np.bincount(np.array(gid, dtype=np.int64), minlength=len(ids))
    return np.array(gid, dtype=np.int64), sizes


@st.composite
def code_matrices(draw):
    m = draw(st.integers(1, 7))
    n = draw(st.integers(1, 300))
    cards = draw(st.lists(st.sampled_from([1, 2, 3, 7, 50, 1000, 70000]), min_size=m, max_size=m))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # few distinct values per column even when the card is large, so classes repeat
    codes = np.vstack([rng.choice(rng.integers(0, c, size=3), size=n) if draw(st.booleans())
                       else rng.integers(0, c, size=n) for c in cards]).astype(np.int32)
    return codes, np.array(cards, dtype=np.int64)


@settings(max_examples=120, deadline=None)
@given(code_matrices())
def test_group_ids_lookup_and_hash_paths_match_naive(case):
    codes, cards = case
    before = codes.copy()
    expected_gid, expected_sizes = naive_group_ids(codes)
    for limit in (None, 2, 97, 10**6):  # 2 forces the hash push on every column after the first
        gid, sizes = group_ids(codes, cards, limit=limit)
        assert gid.dtype == np.int64 and sizes.dtype == np.int64
        np.testing.assert_array_equal(gid, expected_gid)
        np.testing.assert_array_equal(sizes, expected_sizes)
    np.testing.assert_array_equal(codes, before)


def test_group_ids_degenerate_shapes():
    gid, sizes = group_ids(np.zeros((0, 4), dtype=np.int32), np.zeros(0))
    assert gid.tolist() == [0, 0, 0, 0] and sizes.tolist() == [4]
    gid, sizes = group_ids(np.zeros((3, 0), dtype=np.int32), np.ones(3))
    assert gid.size == 0 and sizes.size == 0
    gid, sizes = group_ids(np.zeros((2, 5), dtype=np.int32), np.array([1, 1]))
    assert gid.tolist() == [0] * 5 and sizes.tolist() == [5]
    with pytest.raises(ValueError):
        group_ids(np.zeros(5, dtype=np.int32), np.ones(1))


def test_group_sums_and_gather():
    gid = np.array([0, 1, 0, 2, 1], dtype=np.int64)
    sums = group_sums(gid, 3, np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert sums.tolist() == [4.0, 7.0, 4.0]
    assert gather(sums, gid).tolist() == [4.0, 7.0, 4.0, 4.0, 7.0]


def test_fold_overflowing_int32_space():
    """Spans whose product is far beyond 2**31 still give exact classes (renumber + hash)."""
    rng = np.random.default_rng(3)
    n = 5000
    cols = [rng.integers(0, 40000, size=n) for _ in range(4)]
    cols.append(cols[0].copy())  # a repeated column adds no information
    mat = np.vstack(cols)
    mat[:, 2500:] = mat[:, :2500]  # every row has a twin
    key, space = fold_columns([(c, 0, 40000) for c in mat], n, default_limit(n))
    assert space <= default_limit(n)
    gid, _ = naive_group_ids(mat)
    # equal keys iff equal rows
    k = pd.Series(key)
    assert k.groupby(gid).nunique().max() == 1
    assert pd.Series(gid).groupby(key).nunique().max() == 1


@st.composite
def columns(draw):
    n = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(KINDS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    codes = rng.integers(0, draw(st.integers(1, 5)), size=n)
    if kind in NULLABLE:
        codes = np.where(rng.random(n) < draw(st.sampled_from([0.0, 0.3, 1.0])), -1, codes)
    return make_column(codes, kind, rng)


@settings(max_examples=150, deadline=None)
@given(columns())
def test_encode_codes_are_a_dense_labelling_of_the_values(s):
    df = pd.DataFrame({"x": s})
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        enc = encode(df, ["x"])
    pd.testing.assert_frame_equal(df, before)
    codes = enc.codes["x"]
    assert codes.dtype == np.int32 and len(codes) == len(s)
    na = s.isna().to_numpy()
    assert ((codes == -1) == na).all()
    assert enc.n_levels["x"] == s.nunique(dropna=True)
    observed = codes[~na]
    if observed.size:
        assert sorted(set(observed.tolist())) == list(range(enc.n_levels["x"]))
    # levels[code] is the value behind the code
    lev = enc.levels["x"]
    assert len(lev) == enc.n_levels["x"]
    for code, v in zip(observed.tolist(), vals := s[~na].tolist()):
        assert lev[code] == v
    # equal codes iff equal values
    for i in range(len(vals)):
        for j in range(len(vals)):
            assert (observed[i] == observed[j]) == (vals[i] == vals[j])
    # the fused key columns agree with the codes (missing = its own value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        (values, lo, span, has_missing), = key_columns(df, ["x"])
    off = np.asarray(values).astype(np.int64) - lo
    assert off.min() >= 0 and off.max() < max(span, 1)
    assert has_missing == bool(na.any())
    full = np.where(na, -1, codes)
    for i in range(len(s)):
        for j in range(len(s)):
            assert (off[i] == off[j]) == (full[i] == full[j])


def test_encoded_subset_and_codes_for():
    df = pd.DataFrame({"a": [1.0, np.nan, 1.0, 2.0], "b": ["x", "y", "x", None]})
    enc = encode(df, ["a", "b"])
    mat, cards = enc.codes_for(["b", "a"], "category")
    assert mat.shape == (2, 4) and mat.dtype == np.int32 and mat.flags.c_contiguous
    assert mat[1].tolist() == [0, 2, 0, 1] and cards.tolist() == [3, 3]
    mat, cards = enc.codes_for(["a"], "wildcard")
    assert mat[0].tolist() == [0, -1, 0, 1] and cards.tolist() == [2]
    sub = enc.subset(["b"])
    assert sub.names == ("b",) and sub.n_rows == 4 and sub.n_missing("b") == 1


def test_class_ids_conventions():
    df = pd.DataFrame({"a": [1, 1, None, None, 2], "b": ["x", "x", "y", "y", "x"]})
    enc = encode(df, ["a", "b"])
    gid, sizes = class_ids(enc, ["a", "b"], "category")
    assert gid.tolist() == [0, 0, 1, 1, 2] and sizes.tolist() == [2, 2, 1]
    gid, sizes = class_ids(enc, ["a", "b"], "never")
    assert gid.tolist() == [0, 0, 1, 2, 3] and sizes.tolist() == [2, 1, 1, 1]
    with pytest.raises(ValueError):
        class_ids(enc, ["a", "b"], "wildcard")


def test_encode_warnings():
    n = 60
    df = pd.DataFrame({"id": np.arange(n), "empty": [np.nan] * n, "sex": [1, 2] * (n // 2)})
    with pytest.warns(IdentifierWarning, match="'id'"):
        encode(df, ["id", "sex"])
    with pytest.warns(DataQualityWarning, match="'empty'"):
        encode(df, ["empty"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encode(df, ["id"], warn_identifiers=False)
        encode(df, ["sex"])


def test_tiny_limit_really_takes_the_hash_path(monkeypatch):
    import idrisk._kernels.groups as G

    calls = []
    real = G._key_push_hash

    def spy(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(G, "_key_push_hash", spy)
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 5, size=(4, 500)).astype(np.int32)
    cards = np.full(4, 5)
    gid_hash, sizes_hash = group_ids(codes, cards, limit=2)
    assert calls, "the hash push was not used"
    n_hash = len(calls)
    gid_lookup, sizes_lookup = group_ids(codes, cards)
    assert len(calls) == n_hash, "the default limit should not need the hash push here"
    np.testing.assert_array_equal(gid_hash, gid_lookup)
    np.testing.assert_array_equal(sizes_hash, sizes_lookup)


@settings(max_examples=25, deadline=None)
@given(st.integers(1024, 6000), st.integers(1, 60), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_object_factorize_by_identity_equals_pandas(n, n_values, share_distinct, seed):
    """Grouping object columns by object identity first gives exactly pandas' factorize:
    same codes (first-appearance order) and uniques, with equal strings held by different
    objects merged and every kind of missing value recognised."""
    from idrisk._encode import _factorize_objects

    rng = np.random.default_rng(seed)
    pool = np.array([f"school_{i}" for i in range(n_values)] + [None, np.nan, pd.NA, float("nan")],
                    dtype=object)
    values = pool[rng.integers(0, len(pool), size=n)]
    fresh = rng.random(n) < share_distinct  # rows holding their own (equal) string object
    for i in np.flatnonzero(fresh):
        if isinstance(values[i], str):
            values[i] = "".join(list(values[i]))
    s = pd.Series(values, index=rng.permutation(n))
    codes, uniques = _factorize_objects(s)
    expected_codes, expected_uniques = pd.factorize(s, sort=False, use_na_sentinel=True)
    np.testing.assert_array_equal(codes, expected_codes)
    assert list(uniques) == list(expected_uniques)


def test_mixed_kinds_still_refused_with_shared_objects():
    from idrisk.exceptions import DataValidationError

    for pool in ([1, "1"], [True, 1], [1.5, "x", None]):
        values = np.array(pool, dtype=object)[np.arange(3000) % len(pool)]
        with pytest.raises(DataValidationError, match="mixes kinds of values"):
            encode(pd.DataFrame({"m": values}), ["m"])


@settings(max_examples=40, deadline=None)
@given(code_matrices(), st.sampled_from([1, 7, 64]))
def test_sliced_fold_equals_whole_fold(case, chunk):
    """Large keys are folded slice by slice (cache-sized); force slicing on small data."""
    import idrisk._kernels.groups as G

    codes, cards = case
    expected_gid, expected_sizes = naive_group_ids(codes)
    old = G._CHUNK, G._CHUNK_MIN_ROWS
    G._CHUNK, G._CHUNK_MIN_ROWS = chunk, 0
    try:
        for limit in (None, 2):
            gid, sizes = group_ids(codes, cards, limit=limit)
            np.testing.assert_array_equal(gid, expected_gid)
            np.testing.assert_array_equal(sizes, expected_sizes)
    finally:
        G._CHUNK, G._CHUNK_MIN_ROWS = old


@settings(max_examples=60, deadline=None)
@given(code_matrices(), st.sampled_from([1, 7, 64]))
def test_threaded_fold_and_counts_equal_naive(case, chunk):
    """From _PAR_MIN_ROWS rows on the fold and the counts run in row slices on threads (one
    count table per slice when the key space is small); force that path on small data."""
    import idrisk._kernels.groups as G

    codes, cards = case
    expected_gid, expected_sizes = naive_group_ids(codes)
    n = codes.shape[1]
    old = G._PAR_MIN_ROWS, G._CHUNK, G._CHUNK_MIN_ROWS
    G._PAR_MIN_ROWS, G._CHUNK, G._CHUNK_MIN_ROWS = 0, chunk, 0
    try:
        for limit in (None, 2):
            gid, sizes = group_ids(codes, cards, limit=limit)
            np.testing.assert_array_equal(gid, expected_gid)
            np.testing.assert_array_equal(sizes, expected_sizes)
        key, space = fold_columns([(codes[j], 0, cards[j]) for j in range(codes.shape[0])], n,
                                  limit=max(default_limit(n), int(cards.max())))
        block, _ = G.key_counts(key, space, None, copies=2)
        np.testing.assert_array_equal(block[0], expected_sizes[expected_gid])
        np.testing.assert_array_equal(block[1], expected_sizes[expected_gid])
        # the counts taken during the fold's last run (one table per thread), or left to
        # key_counts (None: key space large, or the last column hashed at a tiny limit)
        for limit in (max(default_limit(n), int(cards.max())), max(2, int(cards.max()))):
            key, space, counts = fold_columns([(codes[j], 0, cards[j]) for j in range(codes.shape[0])], n,
                                              limit=limit, count=True)
            if counts is not None:
                np.testing.assert_array_equal(counts, np.bincount(key, minlength=space))
            sizes1, _ = G.key_counts(key, space, None, counts=counts)
            np.testing.assert_array_equal(sizes1, expected_sizes[expected_gid])
        # ids in key order: the same classes as first appearance, renumbered (a bijection)
        for limit in (None, 2):
            gid, sizes = G.group_ids_columns([(codes[j], 0, cards[j]) for j in range(codes.shape[0])], n,
                                             limit=max(default_limit(n) if limit is None else 2, int(cards.max())),
                                             first_appearance=False)
            assert sorted(set(gid.tolist())) == list(range(len(expected_sizes)))
            assert len(set(zip(gid.tolist(), expected_gid.tolist()))) == len(expected_sizes)
            np.testing.assert_array_equal(sizes[gid], expected_sizes[expected_gid])
    finally:
        G._PAR_MIN_ROWS, G._CHUNK, G._CHUNK_MIN_ROWS = old


@settings(max_examples=60, deadline=None)
@given(code_matrices(), st.sampled_from([0, 1, 3, 1 << 16]), st.sampled_from([1, 2]), st.booleans())
def test_sizes_written_over_the_key_equal_naive(case, wave_min, copies, threads):
    """sizes_buffer: the key folded into the upper half of the sizes' last row and the sizes
    gathered over it in waves (on threads when forced, the last rows serially) equal the
    naive class sizes, with and without the counts taken during the fold."""
    import idrisk._kernels.groups as G

    codes, cards = case
    expected_gid, expected_sizes = naive_group_ids(codes)
    n = codes.shape[1]
    cols = [(codes[j], 0, cards[j]) for j in range(codes.shape[0])]
    old = G._PAR_MIN_ROWS, G._WAVE_MIN_ROWS
    G._PAR_MIN_ROWS, G._WAVE_MIN_ROWS = (0 if threads else old[0]), wave_min
    try:
        for limit in (max(default_limit(n), int(cards.max())), max(2, int(cards.max()))):
            out, key = G.sizes_buffer(n, copies)
            assert np.shares_memory(out, key) and key.dtype == np.int32 and key.shape == (n,)
            key, space, counts = fold_columns(cols, n, limit=limit, count=True, key=key)
            block, _ = G.key_counts(key, space, None, counts=counts, out=out)
            assert block.shape == ((copies, n) if copies > 1 else (n,))
            for row in np.atleast_2d(block):
                np.testing.assert_array_equal(row, expected_sizes[expected_gid])
    finally:
        G._PAR_MIN_ROWS, G._WAVE_MIN_ROWS = old


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 40), min_size=1, max_size=300))
def test_hash_table_numbers_keys_by_first_appearance(keys):
    """The one hash table (idrisk._kernels.hashing) against a dict: ids by first appearance."""
    import numba

    from idrisk._kernels.hashing import new_table, table_id

    @numba.njit
    def number(keys):
        slot_key, slot_id, shift = new_table(keys.shape[0])
        out = np.empty(keys.shape[0], dtype=np.int32)
        g = 0
        for i in range(keys.shape[0]):
            sid = table_id(slot_key, slot_id, shift, keys[i], g)
            if sid == g:
                g += 1
            out[i] = sid
        return out, g

    arr = np.array(keys, dtype=np.uint64)
    ids, g = number(arr)
    expected = {}
    for k in keys:
        expected.setdefault(k, len(expected))
    assert ids.tolist() == [expected[k] for k in keys] and g == len(expected)


class _NoColumnArray(pd.DataFrame):
    """A frame without pandas' private column accessor: column_values falls back to the Series."""

    _get_column_array = None

    @property
    def _constructor(self):
        return _NoColumnArray


def test_column_values_are_the_columns_own_values():
    """column_values (the stored values, read through pandas' private accessor) equals what
    the Series gives, for every kind of column, on a frame built from a 2-D array (strided
    columns) too, and through the Series fallback; frequencies agrees either way."""
    from idrisk._validation import column_values

    n = 50
    rng = np.random.default_rng(7)
    df = pd.DataFrame({
        "i8": rng.integers(-3, 3, n).astype(np.int8), "i64": rng.integers(0, 9, n),
        "b": rng.random(n) < 0.5, "f": rng.random(n),
        "cat": pd.Categorical(rng.choice(["x", "y", None], n)), "obj": rng.choice(["p", "q"], n).astype(object),
        "arrow": pd.array(rng.choice(["u", "v"], n), dtype="string[pyarrow]"),
        "nullable": pd.array(rng.choice([1, 2, None], n), dtype="Int64"),
        "when": pd.to_datetime(rng.integers(0, 5, n), unit="D"),
    })
    wide = pd.DataFrame(rng.integers(0, 4, (n, 3)), columns=["a", "b", "c"])
    for frame in (df, wide, _NoColumnArray(df)):
        for name in frame.columns:
            got, s = column_values(frame, name), frame[name]
            want = s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array
            assert type(got) is type(want) and got.dtype == want.dtype
            pd.testing.assert_series_equal(pd.Series(got), pd.Series(want))  # values, missing ones too
    keys = ["i8", "i64", "b", "cat", "obj", "arrow"]
    pd.testing.assert_frame_equal(idrisk.frequencies(_NoColumnArray(df), keys), idrisk.frequencies(df, keys),
                                  check_frame_type=False)
    pd.testing.assert_frame_equal(idrisk.frequencies(wide, ["a", "b", "c"]),
                                  wide.groupby(["a", "b", "c"]).transform("size").to_frame("fk").assign(Fk=lambda d: d.fk),
                                  check_names=False)
