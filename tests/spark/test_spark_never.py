"""l-diversity and t-closeness under ``missing="never"`` on a Spark table (a record with a
missing key value is a class of its own) against the pandas path, on sdcMicro's
``testdata_na`` (missing key values and missing sensitive values)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import idrisk

from spark_compare import per_record, same_result

SDC_DATA = Path(idrisk.__file__).resolve().parent / "_data" / "public" / "sdcmicro"
KEY = ["urbrur", "roof", "walls", "water", "sex"]


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(SDC_DATA / "testdata_na.csv")
    assert d[KEY].isna().any(axis=1).sum() > 10
    d["row__"] = np.arange(len(d))
    return d


def test_l_diversity_never(spark, data):
    sdf = spark.createDataFrame(data)
    for na in ("distinct", "category"):
        local = idrisk.l_diversity(data, KEY, ["relat", "hhcivil"], missing="never", sensitive_na=na)
        remote = idrisk.l_diversity(sdf, KEY, ["relat", "hhcivil"], missing="never", sensitive_na=na)
        same_result(local, remote)
        cols = [f"{s}_{m}" for s in ("relat", "hhcivil") for m in ("distinct", "entropy", "recursive")]
        got = per_record(remote.per_record, data, cols, "row__")
        for c in cols:
            np.testing.assert_allclose(got[c].to_numpy(float), local.per_record[c].to_numpy(float), rtol=1e-12)
        assert local.n_classes == remote.n_classes


def test_t_closeness_never(spark, data):
    sdf = spark.createDataFrame(data)
    local = idrisk.t_closeness(data, KEY, "relat", missing="never")
    remote = idrisk.t_closeness(sdf, KEY, "relat", missing="never")
    same_result(local, remote)
    assert remote.per_class["size"].sum() == len(data)
