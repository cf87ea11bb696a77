"""sdcMicro's wildcard rule on a Spark table (from its distinct keys) against the pandas path
and against sdcMicro 5.8.1's own outputs (tests/peer/sdcmicro: freqCalc and measure_risk)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import idrisk

from spark_compare import per_record, same_result
from test_spark_peer import FREQ, PEER, RISK, _dataset, _with_row

WITH_NA = [e for e in FREQ if _dataset(e)[e["keyVars"]].isna().any().any()]
RISK_NA = [e for e in RISK if _dataset(e)[e["keyVars"]].isna().any().any()]


def test_the_cases_hold_missing_keys():
    assert len(WITH_NA) >= 2 and RISK_NA


@pytest.mark.parametrize("entry", WITH_NA, ids=[e["file"] for e in WITH_NA])
def test_freqcalc_wildcard(spark, entry):
    data = _with_row(_dataset(entry))
    qis, w, alpha = entry["keyVars"], entry["weight"], entry["params"]["alpha"]
    sdf = spark.createDataFrame(data)
    if alpha == 1:  # k_anonymity counts whole records
        same_result(idrisk.k_anonymity(data, qis, weights=w, missing="wildcard"),
                    idrisk.k_anonymity(sdf, qis, weights=w, missing="wildcard"))
    got = per_record(idrisk.frequencies(sdf, qis, weights=w, missing="wildcard", alpha=alpha), data,
                     ["fk", "Fk_pop"], "row__")
    ref = pd.read_csv(PEER / entry["file"])  # sdcMicro freqCalc: the wildcard rule
    np.testing.assert_allclose(got["fk"], ref["fk"], rtol=1e-12)
    np.testing.assert_allclose(got["Fk_pop"], ref["Fk"], rtol=1e-9)
    local = idrisk.frequencies(data, qis, weights=w, missing="wildcard", alpha=alpha)
    np.testing.assert_allclose(got["fk"], local["fk"], rtol=1e-12)
    np.testing.assert_allclose(got["Fk_pop"], local["Fk"], rtol=1e-12)


@pytest.mark.parametrize("entry", RISK_NA, ids=[e["file"] for e in RISK_NA])
def test_measure_risk_wildcard(spark, entry):
    data = _with_row(_dataset(entry))
    qis, w = entry["keyVars"], entry["weight"]
    mgr = entry["params"]["max_global_risk"]
    sdf = spark.createDataFrame(data)
    res = idrisk.global_risk(sdf, qis, weights=w, missing="wildcard", max_global_risk=mgr)
    same_result(idrisk.global_risk(data, qis, weights=w, missing="wildcard", max_global_risk=mgr), res)
    assert res.expected_reidentifications == pytest.approx(entry["scalars"]["global_risk_ER"], rel=1e-9)
    local = idrisk.individual_risk(data, qis, weights=w, missing="wildcard")
    got = per_record(idrisk.individual_risk(sdf, qis, weights=w, missing="wildcard"), data,
                     ["fk", "Fk_pop", "risk"], "row__")
    np.testing.assert_array_equal(got["fk"], local["fk"])
    np.testing.assert_allclose(got["risk"], local["risk"], rtol=1e-12)
