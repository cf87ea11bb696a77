"""Household risk on a Spark table against the pandas path and sdcMicro 5.8.1's
``measure_risk(..., hid=)`` outputs (tests/peer/sdcmicro: ``hier_risk``, ``hier_risk_ER``)."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.exceptions import DataValidationError

from spark_compare import per_record, same_result
from test_spark_peer import INDEX, PEER, _dataset, _with_row

HID = [e for e in INDEX if e["function"] == "measure_risk" and e["params"]["hid"] is not None]


def test_there_are_household_cases():
    assert len(HID) >= 3


@pytest.mark.parametrize("entry", HID, ids=[e["file"] for e in HID])
def test_household_risk_cases(spark, entry):
    data = _with_row(_dataset(entry))
    qis, w, hid = entry["keyVars"], entry["weight"], entry["params"]["hid"]
    mgr = entry["params"]["max_global_risk"]
    sdf = spark.createDataFrame(data)
    kw = dict(weights=w, household=hid, missing="category")
    res = idrisk.global_risk(sdf, qis, max_global_risk=mgr, **kw)
    same_result(idrisk.global_risk(data, qis, max_global_risk=mgr, **kw), res)
    assert res.household_expected_reidentifications == pytest.approx(entry["scalars"]["hier_risk_ER"], rel=1e-9)
    local = idrisk.individual_risk(data, qis, **kw)
    got = per_record(idrisk.individual_risk(sdf, qis, **kw), data, ["risk", "household_risk"], "row__")
    np.testing.assert_allclose(got["household_risk"], local["household_risk"], rtol=1e-12)
    ref = pd.read_csv(PEER / entry["file"])
    if "hier_risk" in ref.columns:
        np.testing.assert_allclose(got["household_risk"], ref["hier_risk"], rtol=1e-9)


def test_missing_household_ids_are_refused(spark):
    sdf = spark.createDataFrame(pd.DataFrame({"a": [1, 1, 2], "h": [1.0, None, 2.0]}))
    with pytest.raises(DataValidationError, match="1 missing value"):
        idrisk.individual_risk(sdf, ["a"], household="h", missing="category")
