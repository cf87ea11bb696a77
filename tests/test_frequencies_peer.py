"""Parity with sdcMicro 5.8.1 ``freqCalc``: every freqcalc_*.csv in tests/peer/sdcmicro.

Each reference file was written by the call recorded in tests/peer/sdcmicro/index.json
(dataset, key variables, weight, alpha). Input data are the repo copies in
idrisk/_data/public/sdcmicro (``shared/data/sdcmicro/...``) and tests/peer/sdcmicro
(``bars/ref/sdcmicro/input_edge_*``). sdcMicro converts key columns with ``as.numeric``;
every key column used here is numeric already, so no conversion is needed.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import idrisk

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "tests" / "peer" / "sdcmicro"
DATA = Path(idrisk.__file__).resolve().parent / "_data" / "public" / "sdcmicro"
INDEX = json.loads((PEER / "index.json").read_text())
ENTRIES = [e for e in INDEX["entries"] if e["function"] == "freqCalc"]


def _dataset(entry) -> pd.DataFrame:
    name = entry["dataset"].rsplit("/", 1)[-1]
    if entry["dataset"].startswith("shared/data/sdcmicro/"):
        return pd.read_csv(DATA / name)
    assert entry["dataset"].startswith("bars/ref/sdcmicro/"), entry["dataset"]
    return pd.read_csv(PEER / name)


def test_every_freqcalc_file_is_indexed():
    on_disk = sorted(p.name for p in PEER.glob("freqcalc_*.csv"))
    assert on_disk == sorted(e["file"] for e in ENTRIES)
    assert len(on_disk) == 13


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_freqcalc_parity(entry):
    df = _dataset(entry)
    keys = entry["keyVars"]
    keys = [keys] if isinstance(keys, str) else keys
    alpha = entry["params"]["alpha"]
    ref = pd.read_csv(PEER / entry["file"])
    assert ref["row"].tolist() == list(range(1, len(df) + 1))
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning is expected on these files
        out = idrisk.frequencies(df, keys, weights=entry["weight"], missing="wildcard", alpha=alpha)
    pd.testing.assert_frame_equal(df, before)
    assert out.index.equals(df.index)
    # counts exactly (fk is fractional only with alpha < 1 and NAs: compare as floats then)
    if alpha == 1:
        assert out["fk"].dtype == np.int64
        np.testing.assert_array_equal(out["fk"].to_numpy(), ref["fk"].to_numpy().astype(np.int64))
    else:
        np.testing.assert_allclose(out["fk"].to_numpy(), ref["fk"].to_numpy(), rtol=1e-9, atol=0)
    np.testing.assert_allclose(out["Fk"].to_numpy(), ref["Fk"].to_numpy(), rtol=1e-9, atol=0)
    # sdcMicro's n1 / n2: exact equality fk == 1 / fk == 2
    fk = out["fk"].to_numpy()
    assert int((fk == 1).sum()) == entry["scalars"]["n1"]
    assert int((fk == 2).sum()) == entry["scalars"]["n2"]


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["params"]["alpha"] == 1 and
                                   "francdat_na" not in e["file"] and "edge" not in e["file"]],
                         ids=lambda e: e["file"])
def test_no_missing_all_conventions_agree(entry):
    """Without NAs the three conventions are the same partition: category == wildcard == never."""
    df = _dataset(entry)
    ref = pd.read_csv(PEER / entry["file"])
    for missing in ("category", "never"):
        out = idrisk.frequencies(df, entry["keyVars"], weights=entry["weight"], missing=missing)
        np.testing.assert_array_equal(out["fk"].to_numpy(), ref["fk"].to_numpy())
        np.testing.assert_allclose(out["Fk"].to_numpy(), ref["Fk"].to_numpy(), rtol=1e-9, atol=0)


def test_testdata_na_against_naive_subset():
    """testdata_na (NAs in 4 keys, one all-NA row; no sdcMicro file for it here): the
    wildcard result on a 400-row slice equals the pairwise reference implementation."""
    from naive_frequency import frequencies as naive

    df = pd.read_csv(DATA / "testdata_na.csv").iloc[4180:].reset_index(drop=True)
    kv7 = INDEX["kv7"]
    assert df[kv7].isna().all(axis=1).any()
    for alpha in (1.0, 0.3):
        out = idrisk.frequencies(df, kv7, weights="household_weights", missing="wildcard", alpha=alpha)
        fk, Fk = naive(df, kv7, df["household_weights"], "wildcard", alpha)
        np.testing.assert_allclose(out["fk"].to_numpy(), fk, rtol=1e-12)
        np.testing.assert_allclose(out["Fk"].to_numpy(), Fk, rtol=1e-9)
