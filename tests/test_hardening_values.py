"""Unusual values keep their identity; weights are aligned, checked and given one meaning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk import _encode
from idrisk.exceptions import DataValidationError, InvalidParameterError

NUL_VALUES = ["a\0b", "a\0c", "a", "a\0b", "a\0c", "a\0c"]  # classes: 2, 3 and 1 records


@pytest.fixture(params=["pandas' own", "NUL-safe path"])
def nul_path(request, monkeypatch):
    # pandas 3 factorises NUL-containing strings whole; the pandas 2 path is exercised on
    # pandas 3 too by switching it on (under pandas 2 it is the only path)
    if request.param == "NUL-safe path":
        monkeypatch.setattr(_encode, "_FACTORIZE_KEEPS_NUL", False)
    return request.param


@pytest.mark.parametrize("dtype", ["object", "string"])
@pytest.mark.parametrize("repeat", [1, 400])  # 400 x 6 rows takes the object-identity path
def test_strings_differing_after_a_nul_stay_distinct(nul_path, dtype, repeat):
    df = pd.DataFrame({"x": pd.array(NUL_VALUES * repeat, dtype=dtype)})
    res = idrisk.k_anonymity(df, ["x"])
    assert res.n_classes == 3
    assert res.min_class_size == repeat  # the lone "a"
    fk = idrisk.frequencies(df, ["x"])["fk"].to_numpy()
    np.testing.assert_array_equal(fk, np.tile([2, 3, 1, 2, 3, 3], repeat) * repeat)


def test_nul_safe_factorize_gives_back_the_strings(monkeypatch):
    monkeypatch.setattr(_encode, "_FACTORIZE_KEEPS_NUL", False)
    codes, uniques = _encode._factorize(np.array(NUL_VALUES + [None], dtype=object))
    assert codes.tolist() == [0, 1, 2, 0, 1, 1, -1]
    assert list(uniques) == ["a\0b", "a\0c", "a"]
