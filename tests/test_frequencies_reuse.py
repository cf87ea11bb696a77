"""frequencies reuses the block of its last large result only once nothing holds it.

From ``OVER_MIN_ROWS`` rows (8M) on, frequencies keeps its result's block and takes it again
for a later call of the same shape when the caller has let go of it
(``idrisk.metrics._frequencies._ResultBlocks``). The threshold is lowered here so that small
frames take that path; expected sizes come from pandas ``groupby(...).transform("size")``.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import idrisk
import idrisk.metrics._frequencies as F

KEYS = ["a", "b", "c"]


@pytest.fixture(autouse=True)
def large_path(monkeypatch):
    monkeypatch.setattr(F, "OVER_MIN_ROWS", 1000)
    monkeypatch.setattr(F, "_RESULT_BLOCKS", F._ResultBlocks())  # a cache of this test's own
    monkeypatch.delenv(F._REUSE_ENV, raising=False)


def _frame(seed: int, n: int = 5000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.integers(0, 6, n), "b": rng.integers(0, 3, n).astype(np.int8),
                         "c": pd.Categorical(rng.choice(["x", "y", "z"], n))})


def _expected(df: pd.DataFrame) -> np.ndarray:
    return df.groupby(KEYS, observed=True)["a"].transform("size").to_numpy()


def test_a_dropped_result_block_is_used_again():
    df = _frame(1)
    first = idrisk.frequencies(df, KEYS)
    np.testing.assert_array_equal(first["fk"].to_numpy(), _expected(df))
    kept = weakref.ref(F._RESULT_BLOCKS._block)  # (a weak reference: it does not hold the block)
    assert np.shares_memory(first["fk"].to_numpy(), kept())
    del first
    other = _frame(2)
    second = idrisk.frequencies(other, KEYS)
    assert kept() is not None and np.shares_memory(second["fk"].to_numpy(), kept())  # the same block, written afresh
    np.testing.assert_array_equal(second["fk"].to_numpy(), _expected(other))
    np.testing.assert_array_equal(second["Fk"].to_numpy(), _expected(other))


@pytest.mark.parametrize("hold", ["frame", "series", "numpy view", "memoryview", "arrow array"])
def test_a_result_still_held_is_never_written(hold):
    df, other = _frame(3), _frame(4)
    first = idrisk.frequencies(df, KEYS)
    held = {"frame": lambda: first, "series": lambda: first["Fk"], "numpy view": lambda: first["fk"].to_numpy()[10:],
            "memoryview": lambda: memoryview(first["fk"].to_numpy()),
            "arrow array": lambda: pa.array(first["fk"].to_numpy())}[hold]()
    before = np.array(held, copy=True) if hold != "frame" else held.to_numpy(copy=True)
    del first
    second = idrisk.frequencies(other, KEYS)
    after = np.array(held, copy=True) if hold != "frame" else held.to_numpy(copy=True)
    np.testing.assert_array_equal(after, before)
    np.testing.assert_array_equal(second["fk"].to_numpy(), _expected(other))


def test_at_most_one_block_is_kept_and_another_shape_frees_it():
    big, small = _frame(5, 6000), _frame(6, 3000)
    idrisk.frequencies(big, KEYS)
    assert F._RESULT_BLOCKS._block.shape == (1, 6000)
    res = idrisk.frequencies(small, KEYS)
    assert F._RESULT_BLOCKS._block.shape == (1, 3000)  # the 6000-row block was let go
    np.testing.assert_array_equal(res["fk"].to_numpy(), _expected(small))


def test_reuse_is_off_with_the_environment_variable(monkeypatch):
    monkeypatch.setenv(F._REUSE_ENV, "0")
    df = _frame(7)
    res = idrisk.frequencies(df, KEYS)
    assert F._RESULT_BLOCKS._block is None
    np.testing.assert_array_equal(res["fk"].to_numpy(), _expected(df))


def test_threads_calling_at_once_each_get_their_own_result():
    frames = [_frame(10 + t) for t in range(3)]
    expected = [_expected(df) for df in frames]
    failures = []

    def work(t):
        for _ in range(15):
            res = idrisk.frequencies(frames[t], KEYS)
            if not np.array_equal(res["fk"].to_numpy(), expected[t]):
                failures.append(t)
            del res

    threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
