"""Kernels that replace a sort or a gather by one pass, against the kernels they stand in for
and against plain numpy/Python.

* ``ldiversity_dense`` (a (class, value) table) against ``ldiversity_stats`` (rows sorted by
  class), which stays the path for large tables: same values, bit for bit, since the
  entropy sums take the values in the same order; and against a plain per-class count.
* ``gather3`` against numpy indexing.
"""

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idrisk._kernels.diversity import class_order, dense_cells_ok, ldiversity_dense, ldiversity_stats
from idrisk._kernels.groups import gather3


@st.composite
def classes_and_values(draw):
    n = draw(st.integers(1, 200))
    g = draw(st.integers(1, min(n, 12)))
    gid = np.array(draw(st.permutations(list(range(g)))) +
                   draw(st.lists(st.integers(0, g - 1), min_size=n - g, max_size=n - g)), dtype=np.int64)
    card = draw(st.integers(1, 6))
    s = np.array(draw(st.lists(st.integers(-1, card - 1), min_size=n, max_size=n)), dtype=np.int32)
    mcode = draw(st.sampled_from([-2] + list(range(card))))
    c = draw(st.sampled_from([0.5, 1.0, 2.0, 3.5]))
    return gid, s, card, mcode, c


@settings(max_examples=150, deadline=None)
@given(classes_and_values(), st.booleans())
def test_ldiversity_dense_equals_sorted_path(case, threaded):
    """``threaded``: the counts in row slices on threads and the statistics in class chunks
    (forced on small data; the extra tables are then allowed whatever their size)."""
    import idrisk._kernels.diversity as D

    gid, s, card, mcode, c = case
    g = int(gid.max()) + 1
    sizes = np.bincount(gid, minlength=g).astype(np.int64)
    order, starts = class_order(gid, np.int64(g))
    ref = ldiversity_stats(order, starts, s, np.int64(card), np.int64(mcode), np.float64(c), np.int64(3))
    if threaded:
        big = np.tile(gid, 4096 // len(gid) + 1)  # rows repeated: the same classes, counts scaled
        big_s = np.tile(s, 4096 // len(gid) + 1)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(D, "DENSE_PAR_ROWS", 0)
            got = D.ldiversity_dense(big, np.bincount(big, minlength=g).astype(np.int64), big_s, np.int64(card),
                                     np.int64(mcode), np.float64(c))
        order, starts = class_order(big, np.int64(g))
        ref = ldiversity_stats(order, starts, big_s, np.int64(card), np.int64(mcode), np.float64(c), np.int64(3))
        for a, b in zip(got, ref):
            assert np.array_equal(a, b)  # bit for bit
        return
    got = ldiversity_dense(gid, sizes, s, np.int64(card), np.int64(mcode), np.float64(c))
    for a, b in zip(got, ref):
        assert np.array_equal(a, b)  # bit for bit
    # distinct and entropy by a plain count (missing values: each its own value)
    for j in range(g):
        vals = s[gid == j]
        counted = Counter(int(v) for v in vals if v >= 0 and v != mcode)
        na, mc = int((vals == -1).sum()), int((vals == mcode).sum()) if mcode >= 0 else 0
        parts = list(counted.values()) + [1] * na
        d = len(parts) + (1 if mc and parts else 0)
        assert got[0][j] == d
        shares = [k / len(vals) for k in parts] + ([mc / len(vals)] if mc and parts else [])
        assert math.isclose(got[1][j], math.exp(-sum(p * math.log(p) for p in shares)), rel_tol=1e-12)


def test_dense_cells_bound():
    assert dense_cells_ok(1000, 10, 10_000) and not dense_cells_ok(100_000, 10, 100_000)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=300), st.booleans())
def test_gather3_against_indexing(ids, big):
    gid = np.array(ids, dtype=np.int64)
    if big:  # the threaded path
        gid = np.tile(gid, (1 << 17) // len(gid) + 1)
    rng = np.random.default_rng(len(ids))
    a, b, c = rng.integers(0, 99, 10), rng.random(10), rng.integers(0, 5, 10)
    for got, ref in zip(gather3(gid, a, b, c), (a[gid], b[gid], c[gid])):
        assert got.dtype == ref.dtype and np.array_equal(got, ref)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(-3, 1), st.booleans()), min_size=1, max_size=150),
       st.integers(1, 3))
def test_cell_counts_against_a_counter(rows, n_chunks):
    """The full cross-classification's cells (mixed radix, first column most significant),
    from columns of several dtypes, against a plain count of the rows."""
    from idrisk._kernels.combinations import cell_counts

    a = np.array([r[0] for r in rows], dtype=np.int8)
    b = np.array([r[1] for r in rows], dtype=np.int64)
    c = np.array([r[2] for r in rows], dtype=bool).view(np.uint8)
    cols = [(a, 0, 3), (b, -3, 5), (c, 0, 2)]
    got = cell_counts(cols, len(rows), 30, n_chunks)
    ref = np.zeros(30, dtype=np.int64)
    for x, y, z in rows:
        ref[(x * 5 + (y + 3)) * 2 + int(z)] += 1
    assert got.tolist() == ref.tolist()


def test_run_chunks_pool_nested_and_errors():
    """The kept pool: every chunk runs once, chunks may run chunks (no wait on a full
    pool), and a chunk's exception is raised after every chunk has ended."""
    import time

    from idrisk._kernels.threads import run_chunks

    hits = np.zeros((12, 3), dtype=np.int64)

    def outer(ch):
        def inner(c2):
            hits[ch, c2] += 1
        run_chunks(inner, 3)

    run_chunks(outer, 12)
    assert (hits == 1).all()
    done = []

    def bad(ch):
        if ch == 0:
            raise ValueError("chunk 0")
        time.sleep(0.01)
        done.append(ch)

    try:
        run_chunks(bad, 6)
    except ValueError as e:
        assert str(e) == "chunk 0"
    else:
        raise AssertionError("no exception")
    assert sorted(done) == [1, 2, 3, 4, 5]
