"""Hierarchies: ARX tables, parent maps, ladders, and their checks (expected values by hand)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.anonymise.hierarchy import (bands, dates, from_parents, from_rows, map_values, prefixes, read_table,
                                        resolve_hierarchy)
from idrisk.exceptions import DataValidationError, InvalidParameterError

PEER = Path(__file__).parent / "peer" / "arx_anon"


def test_arx_table_read_as_is():
    h = read_table(PEER / "hierarchies" / "test2_hierarchy_ZIPCode.csv", "ZIPCode")
    assert h.height == 5
    assert h.levels[0][0] == "47677" and [lv[0] for lv in h.levels] == ["47677", "4767*", "476**", "47***", "4****",
                                                                        "*****"]
    assert h.source["kind"] == "table" and h.source["rows"][0] == ["47677", "4767*", "476**", "47***", "4****",
                                                                   "*****"]


def test_dataframe_and_rows_give_the_same_table():
    rows = [["a", "ab", "*"], ["b", "ab", "*"], ["c", "c", "*"]]
    h1 = resolve_hierarchy(pd.DataFrame(rows), ["a"], "x")
    h2 = resolve_hierarchy(rows, ["a"], "x")
    assert h1.levels == h2.levels == (("a", "b", "c"), ("ab", "ab", "c"), ("*", "*", "*"))


def test_values_matched_as_text():
    h = from_rows([[1, "1-2", "*"], [2, "1-2", "*"], [3, "3-4", "*"]], "age")
    assert map_values(h, np.array([3, 1, 1.0, 2])).tolist() == [2, 0, 0, 1]
    assert map_values(h, pd.Series(["2", "3"])).tolist() == [1, 2]


def test_bands_by_hand():
    h = bands(5, 10).build([17, 23, 30, 39], "age")
    assert h.rows() == [["17", "15-19", "10-19", "*"], ["23", "20-24", "20-29", "*"],
                        ["30", "30-34", "30-39", "*"], ["39", "35-39", "30-39", "*"]]
    f = bands(0.5, origin=0.25).build([0.3, 1.0], "x")
    assert f.rows() == [["0.3", "[0.25,0.75)", "*"], ["1", "[0.75,1.25)", "*"]]


def test_bands_that_do_not_nest_are_refused():
    with pytest.raises(InvalidParameterError, match="must each divide the next"):
        bands(4, 6)  # 4-7 would split into 0-5 and 6-11


def test_dates_by_hand():
    h = dates("month", "quarter", "year").build(pd.to_datetime(["2010-05-31", "2011-01-02"]), "dob")
    assert h.rows() == [["2010-05-31", "2010-05", "2010-Q2", "2010", "*"],
                        ["2011-01-02", "2011-01", "2011-Q1", "2011", "*"]]
    # numpy datetime64 values (a datetime column's to_numpy) match the same rows as Timestamps
    values = pd.to_datetime(pd.Series(["2010-05-31", "2011-01-02", "2010-05-31"])).to_numpy()
    assert map_values(dates("year").build(values, "dob"), values).tolist() == [0, 1, 0]
    with pytest.raises(InvalidParameterError, match="2 values are not dates"):
        dates().build(["x", "y", "2020-01-01"], "dob")


def test_prefixes_by_hand():
    h = prefixes(3, 1).build(["AB12", "AB19", "C1"], "pc")
    assert h.rows() == [["AB12", "AB1*", "A***", "*"], ["AB19", "AB1*", "A***", "*"], ["C1", "C1", "C*", "*"]]


def test_parent_map():
    h = from_parents({"Leeds": "Yorkshire", "York": "Yorkshire", "Yorkshire": "England", "Wales": "UK",
                      "England": "UK"}, "area")
    rows = sorted(h.rows())
    assert rows == [["Leeds", "Yorkshire", "England", "UK"], ["Wales", "UK", "UK", "UK"],
                    ["York", "Yorkshire", "England", "UK"]]


def test_cycle_is_refused_with_a_count():
    with pytest.raises(InvalidParameterError, match=r"column 'area'.*cycle: 3 values have no path to the top") as e:
        from_parents({"a": "b", "b": "c", "c": "a", "d": "*"}, "area")
    assert "'a'" not in str(e.value) and "'b'" not in str(e.value)


@pytest.mark.parametrize("rows, message", [
    ([["a", "*"], ["b", None]], "1 row with a missing or empty level"),
    ([["a", "*"], ["b"]], "missing or empty level"),
    ([["a", "x", "*"], ["a", "y", "*"]], "1 value listed more than once at level 0"),
    ([["a", "x", "p"], ["b", "x", "q"], ["c", "y", "q"]], "levels do not coarsen: 1 value of level 1 map to more"),
    ([], "no rows"),
])
def test_bad_tables(rows, message):
    with pytest.raises(InvalidParameterError, match=message):
        from_rows(rows, "col")


def test_values_without_a_path_are_counted_never_listed():
    h = from_rows([["a", "*"], ["b", "*"]], "code")
    with pytest.raises(DataValidationError) as e:
        map_values(h, np.array(["a", "secret1", "secret2", "secret2", None], dtype=object))
    msg = str(e.value)
    assert "column 'code'" in msg and "3 values present in the data (4 records) have no path" in msg
    assert "missing value" in msg and "secret" not in msg


def test_anonymise_reports_hierarchy_problems():
    data = pd.DataFrame({"a": ["x", "y", "zz"], "b": [1, 1, 2]})
    with pytest.raises(DataValidationError, match="column 'a': 1 value"):
        idrisk.anonymise(data, ["a", "b"], hierarchies={"a": [["x", "*"], ["y", "*"]], "b": bands(2)}, k=2)


def test_ladder_specs_replay():
    assert bands(5, 10).spec() == {"kind": "bands", "widths": [5, 10], "origin": 0}
    assert resolve_hierarchy({"kind": "prefixes", "lengths": [1]}, ["ab"], "c").rows() == [["ab", "a*", "*"]]
    with pytest.raises(InvalidParameterError, match="unknown kind"):
        resolve_hierarchy({"kind": "nope"}, ["a"], "c")
    with pytest.raises(InvalidParameterError, match="decreasing"):
        prefixes(1, 2)
    with pytest.raises(InvalidParameterError, match="positive band widths"):
        bands(0)
