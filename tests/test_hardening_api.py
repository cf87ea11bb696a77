"""Raw exceptions from the API become idrisk errors that name columns, types and counts."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.assessment import AssessmentConfig, AssessmentResult
from idrisk.exceptions import DataValidationError, InvalidParameterError


@pytest.mark.parametrize("cells, kinds", [([[1], [2], [1]], "list (3)"), ([{"x": 1}, {}, {}], "dict (3)"),
                                          ([{1}, {1}, "a"], "set (2), str (1)")])
def test_cells_that_are_not_single_values(cells, kinds):
    df = pd.DataFrame({"a": pd.Series(cells, dtype=object)})
    message = f"column 'a' holds values that are not single values ({kinds})"
    with pytest.raises(DataValidationError, match=re.escape(message)):
        idrisk.k_anonymity(df, ["a"])


def test_unhashable_column_names():
    with pytest.raises(InvalidParameterError,
                       match=r"quasi-identifier columns must be column names \(strings or numbers\); got list of 1"):
        idrisk.k_anonymity(pd.DataFrame({"a": [1, 2]}), [["a"]])


def test_from_json_on_a_directory(tmp_path):
    with pytest.raises(InvalidParameterError, match="is a directory, not a JSON assessment result"):
        AssessmentResult.from_json(tmp_path)


def test_a_column_name_that_is_not_valid_unicode_is_refused_by_the_config():
    df = pd.DataFrame([[1, 2], [2, 1]] * 10, columns=pd.Index(["a\udc80", "b"], dtype=object))
    with pytest.raises(InvalidParameterError) as info:
        idrisk.assess(df, quasi_identifiers=["a\udc80"], progress=False)
    assert str(info.value) == ("assess: quasi_identifiers must be a non-empty list of column names (strings) or "
                               "absent (None); got list of 1")
    with pytest.raises(InvalidParameterError) as info:
        idrisk.assess(df, scenarios=[{"name": "s", "quasi_identifiers": ["a\udc80"]}], progress=False)
    assert str(info.value) == ("config [[scenario]] 1: quasi_identifiers must be a non-empty list of column names "
                               "(strings); got list of 1")
    with pytest.raises(InvalidParameterError, match="name must be a string; got str with an unpaired surrogate"):
        AssessmentConfig(scenarios=[["b"]], name="x\ud800")


def test_integer_column_names_are_refused_by_the_assessment_not_by_its_schema():
    df = pd.DataFrame({0: [1, 2] * 10, 1: [3, 4] * 10})
    with pytest.raises(InvalidParameterError, match=r"quasi_identifiers must be a non-empty list of column names"):
        idrisk.assess(df, quasi_identifiers=[0, 1], progress=False)
    assert idrisk.k_anonymity(df, [0, 1]).min_class_size == 10  # the measures themselves take any label


@pytest.mark.parametrize("role, message", [("column", "no column was given"),
                                           ("quasi-identifier", "no quasi-identifier column was given")])
def test_no_columns_message(role, message):
    from idrisk._validation import as_column_list

    with pytest.raises(InvalidParameterError, match=f"^{message}$"):
        as_column_list([], role=role)


def test_t_closeness_order_is_checked_and_never_echoes_a_value():
    df = pd.DataFrame({"a": list("xxyy") * 5, "s": ["SECRET1", "SECRET2", "SECRET3", "SECRET4"] * 5})
    with pytest.raises(InvalidParameterError, match="^order must list single values; got list items$"):
        idrisk.t_closeness(df, ["a"], "s", distance="ordered", order=[["SECRET1"], ["SECRET2"]])
    with pytest.raises(InvalidParameterError) as info:
        idrisk.t_closeness(df, ["a"], "s", distance="ordered", order=["SECRET1", "SECRET2"])
    assert str(info.value) == ("order does not cover 2 value(s) of sensitive column 's'; list every observed value")


def test_suda_refuses_a_search_larger_than_the_uncapped_one():
    from idrisk.metrics._suda import MAX_COMBINATIONS

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.integers(0, 3, (50, 25)), columns=[f"q{i}" for i in range(25)])
    # sum over k = 1..20 of C(25, k) = 2^25 - 1 - (C(25,21) + ... + C(25,25)) = 33,554,431 - 15,276
    n_comb = 2 ** 25 - 1 - sum(math.comb(25, k) for k in range(21, 26))
    assert n_comb == 33_539_155 and MAX_COMBINATIONS == 1_048_575
    with pytest.raises(InvalidParameterError, match="max_size=20 over 25 quasi-identifiers allows 33,539,155 "
                                                    "combinations, more than the 1,048,575 SUDA2 searches"):
        idrisk.suda(df, list(df.columns), max_size=20)
    with pytest.warns(idrisk.PerformanceWarning):  # 25 + 300 + 2,300 + 12,650 = 15,275: a warning only
        assert idrisk.suda(df.iloc[:, :25], list(df.columns), max_size=4) is not None


def test_a_level_of_multiindex_columns_is_not_one_column():
    df = pd.DataFrame(np.ones((20, 2)), columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")]))
    with pytest.raises(DataValidationError, match=r"select more than one column of the data \(a level of "
                                                  r"MultiIndex columns\): a; give one column each"):
        idrisk.k_anonymity(df, ["a"])
    with pytest.raises(DataValidationError, match="select more than one column"):
        idrisk.assess(df, quasi_identifiers=["a"], progress=False)
    assert idrisk.k_anonymity(df, [("a", "b")]).n_classes == 1  # a full tuple is one column


def test_a_population_size_beyond_float_precision_is_whole():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.integers(0, 50, 300), "b": rng.integers(0, 5, 300)})
    N, n = 10**30, 300  # float(10**30) != 10**30: once refused as "not a whole number"
    sizes = df.value_counts()
    c1 = int((sizes == 1).sum())
    # Zayatz with pi -> 0: h(j) ~ j pi, so P ~ c1 / n and U = c1 P / pi ~ c1^2 N / n^2
    res = idrisk.population_uniqueness(df, ["a", "b"], population_size=N)
    assert res.population_size == N and res.zayatz == pytest.approx(c1 ** 2 * N / n ** 2, rel=1e-9)
