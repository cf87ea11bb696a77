"""The assessment's public API: config round trips, the explicit signature, typed results and
their schema, profiles, what_if's names, and writers that never overwrite."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import sys
import tomllib
import warnings

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.assessment import (AssessmentConfig, AssessmentResult, Scenario, WhatIfResult, config_from_dict,
                               load_config, what_if)
from idrisk.assessment.schema import SCHEMA, schema_errors
from idrisk.assessment.summaries import KAnonymitySummary, SudaSummary
from idrisk.exceptions import IdentifierWarning, InvalidParameterError
from idrisk.profiles import GENERIC, NPD, get_profile


def risky_frame():
    """On (sex, yob) the class sizes are 5, 3, 1, 1 (n = 10)."""
    return pd.DataFrame({
        "id": [f"P{i:03d}" for i in range(10)],
        "sex": ["F"] * 5 + ["M"] * 3 + ["F", "M"],
        "yob": [2010] * 5 + [2011] * 3 + [2012, 2013],
        "grade": ["A", "B", "A", "C", "B", "A", "A", "A", "B", "C"],
    })


def rich_config(**changes) -> AssessmentConfig:
    """A configuration with a value other than the default in every field."""
    kw = dict(
        scenarios=[Scenario("neighbour", ["sex", "yob"], intruder="nosy_neighbour"),
                   Scenario("school", ["sex"], public=False)],
        data="extracts/pupils.csv", name="toy extract", profile="generic",
        sensitive={"grade": {"tier": 3, "special_category": True}, "Marital Status": {}},
        direct_identifiers=["id"], population_size=50, census=False,
        flags={"social_care": True}, thresholds={"min_k": 3, "max_individual_risk": 0.25}, seed=7,
        missing="wildcard", max_msu_size=None, sweep_max_size=2, k_values=(2, 4), intruder_targets=100,
        mitigations=False, geography=["lsoa", "la_code"], groupings={"eth_minor": "eth_major"},
        tiers={"yob": 1})
    kw.update(changes)
    return AssessmentConfig(**kw)


# -- configuration round trips ---------------------------------------------------------------------
@pytest.mark.parametrize("cfg", [rich_config(), AssessmentConfig(scenarios=[["sex", "yob"]])],
                         ids=["every field", "defaults"])
def test_config_round_trips_through_dict_toml_and_json(cfg, tmp_path):
    assert config_from_dict(cfg.to_dict()) == cfg
    assert config_from_dict(json.loads(cfg.to_json())) == cfg
    assert config_from_dict(tomllib.loads(cfg.to_toml())) == cfg
    toml_path, json_path = tmp_path / "c.toml", tmp_path / "c.json"
    cfg.to_toml(toml_path)
    cfg.to_json(json_path)
    assert load_config(toml_path) == cfg and load_config(json_path) == cfg
    assert load_config(toml_path).base_dir == str(tmp_path)  # relative paths resolve from the file
    # the writers never replace a file without overwrite=True
    with pytest.raises(FileExistsError):
        cfg.to_toml(toml_path)
    with pytest.raises(FileExistsError):
        cfg.to_json(json_path)
    cfg.to_toml(toml_path, overwrite=True)


def test_result_config_reads_back_as_the_same_config():
    cfg = rich_config(data=None, missing="category", max_msu_size=3, scenarios=[Scenario("neighbour", ["sex", "yob"])],
                      sensitive={"grade": {"tier": 3, "special_category": True}})
    r = idrisk.assess(risky_frame(), cfg, progress=False)
    assert config_from_dict(r.config) == cfg
    assert r.config["profile"] == "generic"
    # the default profile is not written, so results keep their layout
    r = idrisk.assess(risky_frame(), quasi_identifiers=["sex", "yob"], direct_identifiers=["id"], progress=False)
    assert "profile" not in r.config and config_from_dict(r.config).profile == "npd"
    assert r.config["geography"] == list(NPD.geography)


def test_config_equality_uses_effective_values():
    a = AssessmentConfig(scenarios=[["a"]])
    assert a == AssessmentConfig(scenarios=[["a"]], census=True, geography=list(NPD.geography),
                                 groupings=dict(NPD.groupings), base_dir="/elsewhere")
    assert a != AssessmentConfig(scenarios=[["a"]], census=False)
    assert a != AssessmentConfig(scenarios=[["a"]], profile="generic")
    assert AssessmentConfig(scenarios=[["a"]], max_msu_size="none").max_msu_size is None


# -- the assess signature --------------------------------------------------------------------------
def test_assess_has_an_explicit_signature():
    params = inspect.signature(idrisk.assess).parameters
    assert list(params)[:2] == ["data", "config"]
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in params.values())
    fields = {f.name for f in dataclasses.fields(AssessmentConfig)} - {"data", "base_dir"}
    assert fields <= set(params)  # every config field can be given as a keyword


def test_keywords_override_the_config(tmp_path):
    df = risky_frame()
    cfg = AssessmentConfig(scenarios=[["sex", "yob"]], direct_identifiers=["id"], seed=1)
    r = idrisk.assess(df, cfg, seed=5, thresholds={"min_k": 3}, progress=False)
    assert r.config["seed"] == 5 and r.config["thresholds"]["min_k"] == 3
    df.to_csv(tmp_path / "pupils.csv", index=False)
    path = tmp_path / "c.toml"
    cfg.to_toml(path)
    r2 = idrisk.assess(tmp_path / "pupils.csv", config=path, progress=False)
    assert r2.meta.fingerprint_of == "file"
    assert r2.scenarios[0].measures["k_anonymity"].min_class_size == 1
    with pytest.raises(InvalidParameterError, match="not both"):
        idrisk.assess(df, quasi_identifiers=["sex"], scenarios=[["yob"]], progress=False)


# -- typed results and the schema -------------------------------------------------------------------
@pytest.fixture(scope="module")
def result():
    return idrisk.assess(risky_frame(), quasi_identifiers=["sex", "yob"], direct_identifiers=["id"],
                         sensitive={"grade": {"tier": 3, "special_category": True}}, progress=False)


def test_results_are_frozen_and_typed(result):
    k = result.scenarios[0].measures["k_anonymity"]
    assert isinstance(k, KAnonymitySummary) and isinstance(result.scenarios[0].measures["suda"], SudaSummary)
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.min_class_size = 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.route = None
    back = AssessmentResult.from_dict(json.loads(result.to_json()))
    assert isinstance(back.scenarios[0].measures["k_anonymity"], KAnonymitySummary)
    assert back.scenarios[0].measures["k_anonymity"].records_below_k == {2: 2, 3: 2, 5: 5, 10: 10}
    assert back.to_json() == result.to_json()


def test_schema_and_types_cannot_drift(result):
    d = json.loads(result.to_json())
    assert schema_errors(d) == []
    # a key the types do not have, or a missing one, is refused
    d["scenarios"][0]["measures"]["k_anonymity"]["smallest_k"] = 1
    del d["scenarios"][0]["measures"]["suda"]["max_score"]
    errs = schema_errors(d)
    assert any("smallest_k" in e for e in errs) and any("max_score" in e for e in errs)
    with pytest.raises(InvalidParameterError, match="schema"):
        AssessmentResult.from_dict(d)
    # every field of every result type is in the schema, and nothing else
    defs = SCHEMA["$defs"]
    for name in ("KAnonymitySummary", "IntruderSummary", "Indicator", "Candidate", "Mitigations", "Meta"):
        cls = getattr(importlib.import_module("idrisk.assessment"), name, None) or \
            getattr(importlib.import_module("idrisk.assessment.summaries"), name, None) or \
            getattr(importlib.import_module("idrisk.assessment.indicators"), name)
        assert list(defs[name]["properties"]) == [f.name for f in dataclasses.fields(cls)]


def test_check_uses_the_indicator_comparison(result):
    # classes of 1: min_k 1 holds, the other conditions still fail
    with pytest.raises(idrisk.RiskThresholdExceeded) as ei:
        result.check({"min_k": 1})
    assert "min_k" not in {i.id for i in ei.value.breaches}
    assert "sample_unique_share" in {i.id for i in ei.value.breaches}


def test_item_access_is_deprecated(result):
    with pytest.warns(DeprecationWarning, match="route"):
        assert result["route"] is result.route
    with pytest.warns(DeprecationWarning):
        assert result.route["recommended"] == result.route.recommended
    with pytest.raises(KeyError):
        result.route["verdict"]


# -- what_if ---------------------------------------------------------------------------------------
def test_what_if_old_names_work_with_a_warning():
    df = risky_frame()
    new = what_if(df, ["sex", "yob"], k=3)
    assert isinstance(new, WhatIfResult)
    with pytest.warns(DeprecationWarning) as caught:
        old = what_if(frame=df, qis=["sex", "yob"], min_k=3)
    said = " ".join(str(w.message) for w in caught)
    assert all(f"({old_name}=...) is deprecated" in said for old_name in ("frame", "qis", "min_k"))
    assert old == new
    with pytest.raises(InvalidParameterError, match="not both"):
        what_if(df, ["sex"], k=3, min_k=3)
    assert idrisk.what_if is what_if


def test_mitigation_module_is_a_deprecated_alias():
    sys.modules.pop("idrisk.mitigation", None)
    with pytest.warns(DeprecationWarning, match="idrisk.mitigation"):
        mod = importlib.import_module("idrisk.mitigation")
    assert mod.what_if is what_if


# -- profiles ---------------------------------------------------------------------------------------
def test_profiles():
    assert get_profile() is NPD and get_profile("generic") is GENERIC
    assert NPD.is_direct_identifier("UPN") and not GENERIC.is_direct_identifier("UPN")
    assert NPD.is_code("urn") and not GENERIC.is_code("urn")
    assert GENERIC.geography == () and dict(GENERIC.groupings) == {} and GENERIC.date_of_birth is None
    assert NPD.truth_id == "pupil_id" and NPD.intruder_presets == "pupil"
    from idrisk.datasets import NPD_TIERS

    assert NPD_TIERS is NPD.item_tiers
    with pytest.raises(InvalidParameterError, match="unknown profile"):
        get_profile("census")


def test_generic_profile_on_uci_adult_bands_the_age():
    """The UCI adult file (real public data, not pupils) with the generic profile: no NPD
    rule fires, and the numeric age is offered in 5-year bands rather than top-coded."""
    from idrisk.datasets import load_public

    df = load_public("uci_adult")
    qis = ["age", "sex", "race", "marital-status", "education"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentifierWarning)
        r = idrisk.assess(df, quasi_identifiers=qis, sensitive={"income": {}}, profile="generic", progress=False,
                          sweep_max_size=1)
    assert r.config["geography"] == [] and r.config["groupings"] == {}
    tier = next(i for i in r.indicators if i.id == "tier")
    assert "NPD" not in tier.label and "NPD" not in tier.source
    kinds = {(c.variable, c.kind) for c in r.mitigations.candidates}
    assert ("age", "banding") in kinds and not any(k == "top-coding" for _, k in kinds)
    band = next(c for c in r.mitigations.candidates if c.kind == "banding")
    assert band.description == "age: bands of 5"  # 17..90 in 16 bands of 5 years
    sizes = df.assign(age=df["age"] // 5 * 5).groupby(qis)["age"].transform("size")
    assert band.at_risk == int((sizes < 10).sum()) < r.mitigations.before.at_risk
    assert "intruder" in r.scenarios[0].measures  # the error-free intruder needs no preset
    # the NPD profile top-codes the same age (a pupil-data convention)
    npd = what_if(df, qis, k=10)
    assert ("age", "top-coding") in {(c.variable, c.kind) for c in npd.candidates}


def test_generic_profile_knows_no_pupil_names():
    df = risky_frame().rename(columns={"id": "UPN"}).assign(lsoa=np.repeat(["E01", "E02"], 5))
    with pytest.warns(IdentifierWarning, match="UPN"):
        npd = idrisk.assess(df, quasi_identifiers=["sex", "yob"], progress=False, mitigations=False)
    assert npd.content.small_area_columns == ["lsoa"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentifierWarning)
        gen = idrisk.assess(df, quasi_identifiers=["sex", "yob"], progress=False, mitigations=False,
                            profile="generic")
    assert gen.content.direct_identifiers_present == [] and gen.content.small_area_columns == []
