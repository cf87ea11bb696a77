"""Loaders for the real public microdata bundled in ``idrisk/_data/public``.

Each folder there keeps the README of its source with provenance and licence (ONS 2011
Census teaching file samples: Open Government Licence; UCI Adult: CC BY 4.0; ARX data:
Apache-2.0 / CC BY 4.0; sdcMicro datasets: GPL-2; SD2011 via synthpop: GPL-2/3).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

from ..exceptions import InvalidParameterError

__all__ = ["PUBLIC_DATASETS", "list_public", "load_public", "public_path"]


@dataclass(frozen=True)
class _Entry:
    path: str
    rows: int
    description: str
    licence: str
    read: dict


_SDC = "GPL-2 (sdcMicro 5.8.1)"
_ARX = "Apache-2.0 (ARX) / CC BY 4.0 (UCI Adult)"


def _sdc(file, rows, desc):
    return _Entry(f"sdcmicro/{file}", rows, desc, _SDC, {})


PUBLIC_DATASETS = {
    "census2011_teaching_10k": _Entry(
        "ons_census2011_teaching/census2011_teaching_random10k.csv.gz", 10_000,
        "ONS 2011 Census microdata teaching file, 10,000-record random extract (E&W), "
        "19 columns incl. source_row", "Open Government Licence (ONS)", {}),
    "census2011_teaching_50k": _Entry(
        "ons_census2011_teaching/census2011_teaching_quipp50k.csv.gz", 50_000,
        "ONS 2011 Census microdata teaching file, 50,000 records from 6 regions, households "
        "only (not a random sample)", "Open Government Licence (ONS)", {}),
    "uci_adult": _Entry(
        "uci_adult/adult_full.csv.gz", 48_842,
        "UCI Adult (1994 US CPS extract), train+test, 16 columns; '?' kept as a literal value",
        "CC BY 4.0 (UCI)", {"keep_default_na": False}),
    "arx_adult": _Entry(
        "arx_adult/adult.csv.gz", 30_162,
        "ARX's copy of Adult: 30,162 rows without '?', 9 columns", _ARX, {"sep": ";"}),
    "arx_adult_subset": _Entry(
        "arx_adult/adult_subset.csv", 3_016,
        "ARX research subset of adult (3,016 rows) used for journalist risk / delta-presence",
        _ARX, {"sep": ";"}),
    "arx_test": _Entry("arx_adult/test.csv", 7, "ARX's 7-row toy table (age, gender, zipcode)",
                       _ARX, {"sep": ";"}),
    "arx_adult_k5_qi6_output": _Entry(
        "arx_adult/adult_k5_qi6_output.csv.gz", 30_162,
        "ARX 5-anonymous output of adult on 6 QIs (generalised values, '*' = suppressed)",
        _ARX, {"sep": ";"}),
    "arx_adult_k2_qi9_nosupp_output": _Entry(
        "arx_adult/adult_k2_qi9_nosupp_output.csv.gz", 30_162,
        "ARX 2-anonymous output of adult on 9 QIs without suppression", _ARX, {"sep": ";"}),
    "arx_adult_k3_ldiv3_occupation_qi6_output": _Entry(
        "arx_adult/adult_k3_ldiv3_occupation_qi6_output.csv.gz", 30_162,
        "ARX 3-anonymous, distinct-3-diverse (occupation) output of adult on 6 QIs", _ARX,
        {"sep": ";"}),
    "sd2011": _Entry(
        "sd2011_social_diagnosis/sd2011_subset.csv.gz", 4_895,
        "Social Diagnosis 2011 (Poland), 13-variable subset from synthpop; income -8 = no answer",
        "GPL-2 | GPL-3 (synthpop)", {}),
    "francdat": _sdc("francdat.csv", 8, "sdcMicro francdat: 8-row test set (keys Key1..Key4, weight w)"),
    "francdat_na": _sdc("francdat_na.csv", 8, "francdat with the NAs of sdcMicro's ?freqCalc example"),
    "testdata": _sdc("testdata.csv", 4_580, "sdcMicro testdata: synthetic household survey"),
    "testdata2": _sdc("testdata2.csv", 93, "sdcMicro testdata2"),
    "testdata_na": _sdc("testdata_na.csv", 4_580, "testdata with NAs in the key variables"),
    "free1": _sdc("free1.csv", 4_000, "CASC free1 public test file (numeric codes)"),
    "CASCrefmicrodata": _sdc("CASCrefmicrodata.csv", 1_080, "CASC continuous reference microdata"),
    "casc1": _sdc("casc1.csv", 13, "CASC casc1 small integer matrix"),
    "EIA": _sdc("EIA.csv", 4_092, "US Energy Information Administration utility data"),
    "Tarragona": _sdc("Tarragona.csv", 834, "Tarragona company data (continuous)"),
    "microData": _sdc("microData.csv", 13, "sdcMicro microData (5 numeric columns)"),
    "calcrisks_nomiss": _sdc("testthat_fixtures/calcrisks_nomiss.csv", 10,
                             "sdcMicro test_calcRisks.R fixture without NAs (keys Var4..Var6)"),
    "calcrisks_miss": _sdc("testthat_fixtures/calcrisks_miss.csv", 4,
                           "sdcMicro test_calcRisks.R fixture with NAs (keys Var6..Var11)"),
    "localsuppression_seed3": _sdc("testthat_fixtures/localsuppression_seed3.csv", 10,
                                   "sdcMicro test_localSuppression.R fixture"),
}
_HIERARCHY_ATTRS = ("age", "education", "marital-status", "native-country", "occupation",
                    "race", "salary-class", "sex", "workclass")
for _a in _HIERARCHY_ATTRS:
    PUBLIC_DATASETS[f"arx_hierarchy_{_a}"] = _Entry(
        f"arx_adult/adult_hierarchy_{_a}.csv", 0,
        f"ARX generalisation hierarchy of adult '{_a}' (one row per value, levels 0..h)", _ARX,
        {"sep": ";", "header": None, "dtype": str, "keep_default_na": False})


def public_path(name: str):
    """Path (a ``pathlib``-like Traversable) of a bundled dataset file."""
    entry = _entry(name)
    return resources.files("idrisk").joinpath("_data", "public", *entry.path.split("/"))


def _entry(name) -> _Entry:
    if not isinstance(name, str) or name not in PUBLIC_DATASETS:
        close = [k for k in PUBLIC_DATASETS if isinstance(name, str) and name.lower() in k.lower()]
        hint = f" Did you mean: {', '.join(close[:5])}?" if close else ""
        raise InvalidParameterError(
            f"unknown public dataset {name!r}.{hint} See idrisk.datasets.list_public() for "
            "the available names.")
    return PUBLIC_DATASETS[name]


def list_public() -> pd.DataFrame:
    """Available bundled datasets: ``name``, ``rows``, ``description``, ``licence``, ``path``.

    ``rows`` is 0 for the ARX generalisation hierarchies (lookup tables, not microdata).
    """
    return pd.DataFrame([
        {"name": k, "rows": e.rows, "description": e.description, "licence": e.licence,
         "path": f"idrisk/_data/public/{e.path}"}
        for k, e in PUBLIC_DATASETS.items()])


def load_public(name: str) -> pd.DataFrame:
    """Load a bundled real public dataset as a DataFrame (a fresh copy each call).

    Examples
    --------
    >>> from idrisk.datasets import load_public
    >>> load_public("francdat").shape
    (8, 8)
    """
    entry = _entry(name)
    with resources.as_file(public_path(name)) as path:
        return pd.read_csv(path, **entry.read)
