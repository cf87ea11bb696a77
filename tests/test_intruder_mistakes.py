"""The one divergence mechanism (idrisk.intruder.mistakes): step order, draws, flags, strategies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idrisk.exceptions import DataValidationError, InvalidParameterError
from idrisk.intruder.mistakes import (
    FieldDivergence,
    blank,
    coarsen_values,
    diverge,
    jitter_values,
    redraw,
)


def _plus_100(rng, values, rows):
    out = values.copy()
    out[rows] = out[rows] + 100
    return out


def _state(rng):
    return rng.bit_generator.state["state"]


def test_a_rate_of_none_draws_nothing_and_a_rate_of_zero_draws_one_uniform_per_record():
    x = np.arange(5, dtype=float)
    skipped, drawn, ref = (np.random.default_rng(1) for _ in range(3))
    out = diverge({"a": x}, {"a": FieldDivergence(wrong=_plus_100)}, skipped)
    assert _state(skipped) == _state(np.random.default_rng(1))
    np.testing.assert_array_equal(out.values["a"], x)
    out = diverge({"a": x}, {"a": FieldDivergence(wrong=_plus_100, error_rate=0.0, missing_rate=0.0)}, drawn)
    ref.random(5)
    ref.random(5)
    assert _state(drawn) == _state(ref)
    np.testing.assert_array_equal(out.values["a"], x)
    assert not out.flags.to_numpy().any()
    assert list(out.flags.columns) == ["_error_a", "_missing_a"]


def test_changes_of_every_field_come_first_then_errors_field_by_field():
    calls = []

    def recorder(tag):
        def strategy(rng, values, rows):
            calls.append((tag, int(values[0])))
            return values + 1
        return strategy

    fields = {f: FieldDivergence(wrong=recorder("error"), error_rate=1.0, change_probability=1.0,
                                 changed=recorder("change"))
              for f in ("a", "b")}
    out = diverge({"a": np.array([10.0]), "b": np.array([20.0])}, fields, np.random.default_rng(0))
    assert calls == [("change", 10), ("change", 20), ("error", 11), ("error", 21)]
    assert (out.values["a"].tolist(), out.values["b"].tolist()) == ([12.0], [22.0])
    assert list(out.flags.columns) == ["_error_a", "_missing_a", "_error_b", "_missing_b",
                                       "_stale_a", "_stale_b"]
    assert out.flags.to_numpy().sum() == 4  # stale and error in both fields, nothing blanked


def test_missing_values_are_never_given_to_a_strategy_and_flags_record_real_changes():
    seen = []

    def even_rows_only(rng, values, rows):
        seen.append(rows.tolist())
        out = values.copy()
        keep = rows[rows % 2 == 0]
        out[keep] = -1.0
        return out

    x = np.array([1.0, np.nan, 3.0, 4.0, np.nan, 6.0])
    out = diverge({"a": x}, {"a": FieldDivergence(wrong=even_rows_only, error_rate=1.0)},
                  np.random.default_rng(0))
    assert seen == [[0, 2, 3, 5]]
    np.testing.assert_array_equal(out.values["a"], [-1.0, np.nan, -1.0, 4.0, np.nan, 6.0])
    np.testing.assert_array_equal(out.flags["_error_a"], [True, False, True, False, False, False])
    np.testing.assert_array_equal(x, [1.0, np.nan, 3.0, 4.0, np.nan, 6.0])  # input untouched


def test_must_change_changes_even_at_probability_zero():
    out = diverge({"a": np.array([1.0, 2.0, 3.0])},
                  {"a": FieldDivergence(changed=_plus_100, change_probability=0.0,
                                        must_change=np.array([False, True, False]))},
                  np.random.default_rng(0))
    np.testing.assert_array_equal(out.values["a"], [1.0, 102.0, 3.0])
    np.testing.assert_array_equal(out.flags["_stale_a"], [False, True, False])


def test_one_stream_per_field_equals_each_field_alone():
    x = np.arange(50, dtype=float)
    pool = np.arange(10, dtype=float)
    spec = FieldDivergence(wrong=redraw(pool), error_rate=0.5, missing_rate=0.2)
    streams = dict(zip("ab", np.random.default_rng(4).spawn(2)))
    both = diverge({"a": x, "b": x}, {"a": spec, "b": spec}, streams)
    alone = diverge({"b": x}, {"b": spec}, np.random.default_rng(4).spawn(2)[1])
    np.testing.assert_array_equal(both.values["b"], alone.values["b"])


def test_redraw_with_two_values_must_draw_the_other_one():
    out = diverge({"a": np.array([1.0, 2.0, 1.0])},
                  {"a": FieldDivergence(wrong=redraw(np.array([1.0, 2.0])), error_rate=1.0)},
                  np.random.default_rng(7))
    np.testing.assert_array_equal(out.values["a"], [2.0, 1.0, 2.0])
    assert out.flags["_error_a"].all()
    # a pool with only the current value: no other value exists, the value stays
    same = redraw(np.array([1.0]))(np.random.default_rng(0), np.array([1.0, 1.0]), np.array([0, 1]))
    np.testing.assert_array_equal(same, [1.0, 1.0])


def test_blank_uses_the_container_missing_marker():
    mask = np.array([True, False])
    f = blank(np.array([1.0, 2.0]), mask)
    assert np.isnan(f[0]) and f[1] == 2.0
    assert blank(np.array(["x", "y"], dtype=object), mask)[0] is None
    assert np.isnat(blank(np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]"), mask)[0])
    s = blank(pd.Series(["x", "y"], dtype=object), mask)
    assert s.iloc[0] is pd.NA and s.iloc[1] == "y"
    d = blank(pd.Series(pd.to_datetime(["2020-01-02", "2020-01-03"])), mask)
    assert d.iloc[0] is pd.NaT


def test_coarsening_by_hand():
    np.testing.assert_array_equal(coarsen_values(np.array([7.0, 12.0, -1.0]), "round:5", "x"), [5.0, 10.0, -5.0])
    assert coarsen_values(np.array(["AB12", None], dtype=object), "prefix:2", "x").tolist() == ["AB", None]
    d = np.array(["2010-05-17"], dtype="datetime64[ns]")
    assert str(coarsen_values(d, "month", "x")[0])[:10] == "2010-05-01"
    assert str(coarsen_values(d, "year", "x")[0])[:10] == "2010-01-01"
    with pytest.raises(DataValidationError, match="needs dates"):
        coarsen_values(np.array([1.0]), "month", "x")


def test_jitter_shifts_months_keeping_the_day_at_most_28():
    d = np.array(["2010-01-31"] * 200, dtype="datetime64[ns]")
    out = jitter_values(d, 1, np.random.default_rng(0), "x")
    assert set(str(v)[:10] for v in out) == {"2009-12-28", "2010-01-28", "2010-02-28"}
    assert jitter_values(d, 0, None, "x") is d  # j = 0 draws nothing
    with pytest.raises(DataValidationError, match="holds text"):
        jitter_values(np.array(["a"], dtype=object), 1, np.random.default_rng(0), "x")


def test_a_rate_needs_its_strategy():
    with pytest.raises(InvalidParameterError, match="wrong"):
        FieldDivergence(error_rate=0.1)
    with pytest.raises(InvalidParameterError, match="changed"):
        FieldDivergence(change_probability=0.1)
