"""``idrisk.assess`` on a Spark table against the pandas path on the same data.

The JSON of both paths must be identical (counts exactly, floats to 1e-12 relative) apart
from ``meta.engine`` (which says where the figures were computed and what was collected to
the driver) and the fingerprint (of the frame's rows in order; of the table's rows without
order). The cases: the demo's synthetic KS4 pupil extract with its NPD configuration
(three scenarios with intruder presets, sensitive attributes, what-if coarsenings), and
sdcMicro's ``testdata`` (a peer-reference dataset) as a weighted sample, as a sample of a
declared population and as an undeclared census.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import idrisk
from idrisk.assessment.demo import _ks4_config
from idrisk.datasets import extract, make_population

from spark_compare import close

SDC_DATA = Path(idrisk.__file__).resolve().parent / "_data" / "public" / "sdcmicro"


def _without_engine(d: dict) -> dict:
    d = dict(d, meta=dict(d["meta"]))
    for key in ("engine", "fingerprint_sha256", "fingerprint_of"):
        d["meta"].pop(key)
    return d


def _same_assessment(spark, data: pd.DataFrame, config=None, **kw):
    local = idrisk.assess(data, config, progress=False, **kw)
    remote = idrisk.assess(spark.createDataFrame(data), config, progress=False, **kw)
    a, b = local.to_dict(), remote.to_dict()
    assert a["meta"]["engine"] == {"name": "pandas", "collected_to_driver": {}}
    assert b["meta"]["engine"]["name"] == "spark"
    assert b["meta"]["fingerprint_of"] == "table"
    close(_without_engine(a), _without_engine(b), "assess")
    return local, remote


def test_the_demo_pupil_extract(spark):
    ex = extract(make_population(8000, seed=5, progress=False), "ks4", include_date_of_birth=True)
    local, remote = _same_assessment(spark, ex.data, _ks4_config(ex))
    # the intruder needs records: it ran on its columns collected to the driver, and says so
    collected = remote.meta.engine.collected_to_driver
    assert sorted(collected) == sorted(f"[{s.name}] intruder" for s in remote.scenarios)
    assert all(note.startswith(f"all {ex.n_rows} records") for note in collected.values())
    assert all("intruder" in s.measures for s in local.scenarios)  # the case covers it
    assert local.mitigations.candidates  # and the what-if coarsenings


@pytest.fixture(scope="module")
def testdata():
    return pd.read_csv(SDC_DATA / "testdata.csv")


KEY = ["urbrur", "roof", "walls", "water", "sex"]


def test_sdcmicro_testdata_weighted_sample(spark, testdata):
    _, remote = _same_assessment(spark, testdata, quasi_identifiers=KEY, weights="sampling_weight",
                                 sensitive=["relat"], intruder_targets=200, max_msu_size=3)
    assert "population_uniqueness" in remote.scenarios[0].measures


def test_sdcmicro_testdata_declared_population(spark, testdata):
    _same_assessment(spark, testdata.drop(columns=["sampling_weight", "household_weights"]),
                     quasi_identifiers=[*KEY, "age"], population_size=200_000, intruder_targets=200)


def test_sdcmicro_testdata_undeclared_census_and_missing_values(spark):
    data = pd.read_csv(SDC_DATA / "testdata_na.csv") if (SDC_DATA / "testdata_na.csv").exists() else None
    assert data is not None and data[KEY].isna().any().any()  # the case has missing key values
    _same_assessment(spark, data, quasi_identifiers=KEY, sensitive=["relat"], intruder_targets=200)
    _same_assessment(spark, data, quasi_identifiers=KEY, sensitive=["relat"], missing="never", intruder_targets=200)
    _same_assessment(spark, data, quasi_identifiers=KEY, sensitive=["relat"], missing="wildcard",
                     intruder_targets=200)
