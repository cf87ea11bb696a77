"""Config values and public parameters are checked against their declared constraints.

Every problem of a configuration is reported at once, one line each, in one shape:
``<config key or function>: <parameter> must be <what>; got <type/shape>``.
"""

import re
import tomllib

import pandas as pd
import pytest

import idrisk
from idrisk.assessment import AssessmentConfig
from idrisk.assessment.config_io import config_from_dict, load_config
from idrisk.exceptions import InvalidParameterError

SHAPE = re.compile(r"^(config( \[\[?[a-z]+\]\]?)?( \d+)?|what_if): \S.* must be .+; got .+$")
SCEN = "[[scenario]]\nquasi_identifiers = ['a', 'b']\n"


def _problems(text: str) -> list[str]:
    with pytest.raises(InvalidParameterError) as info:
        config_from_dict(tomllib.loads(text))
    return str(info.value).splitlines()


@pytest.mark.parametrize("toml, line", [
    ("[extract]\ncensus = 'no'\n" + SCEN,
     "config [extract]: census must be true or false or absent (None); got str"),
    ("[extract]\ndirect_identifiers = 'fsm'\n" + SCEN,
     "config [extract]: direct_identifiers must be a list of column names (strings); got str"),
    ("[extract]\npath = 5\n" + SCEN,
     "config [extract]: path must be a file path (a string) or absent (None); got int 5"),
    ("[extract]\npopulation_size = 0\n" + SCEN,
     "config [extract]: population_size must be an integer >= 1 or absent (None); got int 0"),
    ("[extract]\nprofile = 'npdx'\n" + SCEN,
     "config [extract]: profile must be one of 'npd', 'generic'; got str"),
    (SCEN + "[mitigation]\ngeography = 'la'\n",
     "config [mitigation]: geography must be a list of column names (strings) or absent (None); got str"),
    (SCEN + "[mitigation]\ngroupings = 5\n",
     "config [mitigation]: groupings must be a table (dict) of string keys to a string or absent (None); got int 5"),
    (SCEN + "[analysis]\nk_values = 5\n",
     "config [analysis]: k_values must be a non-empty list of integers >= 1; got int 5"),
    (SCEN + "[analysis]\nk_values = [2, 0]\n",
     "config [analysis]: k_values must be a non-empty list of integers >= 1; got list of 2"),
    (SCEN + "[analysis]\nmitigations = 'yes'\n",
     "config [analysis]: mitigations must be true or false; got str"),
    (SCEN + "[analysis]\nseed = -1\n",
     "config [analysis]: seed must be an integer >= 0; got int -1"),
    (SCEN + "[analysis]\nmax_msu_size = 0\n",
     "config [analysis]: max_msu_size must be an integer >= 1 or 'none' or absent (None); got int 0"),
    (SCEN + "[analysis]\nmissing = 'maybe'\n",
     "config [analysis]: missing must be one of 'category', 'wildcard', 'never'; got str"),
    (SCEN + "[flags]\nsocial_care = 'false'\n",
     "config [flags]: social_care must be true or false; got str"),
    (SCEN + "[thresholds]\nmax_individual_risk = 5\n",
     "config [thresholds]: max_individual_risk must be a number in [0, 1]; got int 5"),
    (SCEN + "[thresholds]\nmin_k = 0\n",
     "config [thresholds]: min_k must be an integer >= 1; got int 0"),
    (SCEN + "[thresholds]\nmin_k = 2.5\n",
     "config [thresholds]: min_k must be an integer >= 1; got float 2.5"),
    (SCEN + "[tiers]\nbirth_month = 5\n",
     "config [tiers]: tier of 'birth_month' must be an integer in [1, 4]; got int 5"),
    (SCEN + "[sensitive]\nfsm = { tier = 1, special_category = 'no' }\n",
     "config [sensitive]: fsm.special_category must be true or false; got str"),
    ("[[scenario]]\nquasi_identifiers = 'la'\n",
     "config [[scenario]] 1: quasi_identifiers must be a non-empty list of column names (strings); got str"),
    ("[[scenario]]\nquasi_identifiers = ['a']\npublic = 'no'\n",
     "config [[scenario]] 1: public must be true or false; got str"),
    (SCEN + "[extract]\nname = 7\n", "config [extract]: name must be a string; got int 7"),
])
def test_one_bad_value_one_line(toml, line):
    assert _problems(toml) == [line]
    assert SHAPE.match(line)


def test_every_problem_at_once():
    text = ("[extract]\npath = 5\ncensus = 'no'\ndirect_identifiers = 'fsm'\n" + SCEN
            + "[flags]\nsocial_care = 'false'\n[thresholds]\nmax_individual_risk = 5\nmin_k = 0\n"
            + "[analysis]\nk_values = 5\n[mitigation]\ngeography = 'la'\ngroupings = 5\n")
    lines = _problems(text)
    assert len(lines) == 9
    assert {ln.split(":")[1].split()[0] for ln in lines} == {
        "path", "census", "direct_identifiers", "social_care", "max_individual_risk", "min_k", "k_values",
        "geography", "groupings"}
    assert all(SHAPE.match(ln) for ln in lines)


def test_unknown_keys_reported_with_bad_values(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[extract]\nnmae = 'x'\ncensus = 1\n" + SCEN)
    with pytest.raises(InvalidParameterError) as info:
        load_config(p)
    assert str(info.value).splitlines() == [
        "config [extract]: unknown key(s) in [extract]: nmae",
        "config [extract]: census must be true or false or absent (None); got int 1"]


def test_a_section_that_is_not_a_table():
    assert _problems("analysis = 5\n" + SCEN) == ["config: [analysis] must be a table; got int 5"]


def test_message_never_holds_a_string_value():
    lines = _problems("[extract]\ncensus = 'SECRET-CANARY'\nweights = ['SECRET-CANARY']\n" + SCEN)
    assert len(lines) == 2 and not any("SECRET" in ln for ln in lines)


def test_booleans_are_kept_as_booleans():
    cfg = config_from_dict(tomllib.loads("[extract]\ncensus = false\n" + SCEN + "[flags]\nsocial_care = true\n"))
    assert cfg.census is False and cfg.is_census is False and cfg.flags["social_care"] is True
    assert cfg.geography is None and cfg.direct_identifiers == []


def test_dataclass_and_dict_forms_are_checked_the_same():
    with pytest.raises(InvalidParameterError, match=r"^config \[extract\]: census must be true or false"):
        AssessmentConfig(scenarios=[["a"]], census="no")
    with pytest.raises(InvalidParameterError) as info:
        config_from_dict({"scenarios": [["a"]], "geography": "la", "k_values": 5, "min_k": 3})
    assert str(info.value).splitlines() == [
        "config: unknown key(s): min_k",
        "config [analysis]: k_values must be a non-empty list of integers >= 1; got int 5",
        "config [mitigation]: geography must be a list of column names (strings) or absent (None); got str"]
    with pytest.raises(InvalidParameterError, match="min_k must be an integer >= 1; got int 0"):
        idrisk.assessment.Thresholds(min_k=0)


def test_thresholds_keep_their_types():
    th = config_from_dict(tomllib.loads(SCEN + "[thresholds]\nmax_individual_risk = 1\nmin_k = 3\n")).thresholds
    assert th.max_individual_risk == 1.0 and isinstance(th.max_individual_risk, float)
    assert th.min_k == 3 and isinstance(th.min_k, int)


def test_what_if_k_checked():
    df = pd.DataFrame({"a": [1, 2, 3, 1], "b": [1, 1, 2, 2]})
    with pytest.raises(InvalidParameterError, match=r"^what_if: k must be an integer >= 1; got int 0$"):
        idrisk.what_if(df, ["a", "b"], k=0)
    with pytest.warns(DeprecationWarning), pytest.raises(InvalidParameterError, match="what_if: k must be"):
        idrisk.what_if(df, ["a", "b"], min_k=0)
    with pytest.raises(InvalidParameterError, match="what_if: missing must be one of"):
        idrisk.what_if(df, ["a", "b"], missing="maybe")


# -- a walk over every configuration field -------------------------------------------------------
from idrisk.assessment._constraints import FIELDS, SECTION, THRESHOLDS, TOML_KEY  # noqa: E402

#: a value of the wrong type for each kind of constraint
WRONG_TYPE = {"bool": "no", "int": "5", "number": "0.5", "str": 5, "path": 5, "choice": 5, "columns": "la",
              "str_list": "la", "int_list": 5, "table": 5}


def _out_of_range(p):
    if p.kind in ("int", "number") and p.low is not None:
        return p.low - 1
    if p.kind in ("int", "number") and p.high is not None:
        return p.high + 1
    if p.kind == "int_list":
        return [p.low - 1]
    if p.kind == "choice":
        return "not-a-choice"
    return None


WALK = [(f, p, bad) for f, p in FIELDS.items() for bad in (WRONG_TYPE[p.kind], _out_of_range(p))
        if bad is not None]


@pytest.mark.parametrize("field, param, bad", WALK, ids=[f"{f}-{b!r}" for f, _, b in WALK])
def test_every_config_field_is_checked(field, param, bad):
    with pytest.raises(InvalidParameterError) as info:
        AssessmentConfig(scenarios=[["a"]], **{field: bad})
    line = str(info.value)
    assert line.startswith(f"config [{SECTION[field]}]: {TOML_KEY.get(field, field)} must be {param.what()}; got ")
    assert SHAPE.match(line)


@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_every_threshold_is_checked(name):
    p = THRESHOLDS[name]
    for bad in ("1", True, _out_of_range(p)):
        with pytest.raises(InvalidParameterError, match=rf"^config \[thresholds\]: {name} must be "):
            AssessmentConfig(scenarios=[["a"]], thresholds={name: bad})


def test_a_tier_for_a_column_not_in_the_data_is_refused():
    df = pd.DataFrame({"a": [1, 2] * 10, "birth_month": [1, 2, 3, 4] * 5})
    # "birth_mnth" would be ignored and the content's highest tier read as none
    with pytest.raises(idrisk.DataValidationError, match=r"^tier column\(s\) not found in the data: birth_mnth$"):
        idrisk.assess(df, quasi_identifiers=["a"], tiers={"birth_mnth": 1}, progress=False)


def test_cross_field_problems_are_reported_with_the_others():
    lines = _problems('[extract]\nweights = "w"\npopulation_size = 10\ncensus = "no"\n'
                      '[[scenario]]\nname = "s"\nquasi_identifiers = ["a"]\n'
                      '[[scenario]]\nname = "s"\nquasi_identifiers = ["b"]\n')
    assert lines == ["config [extract]: census must be true or false or absent (None); got str",
                     "config [[scenario]]: scenario names must be unique; repeated: s",
                     "config [extract]: give either weights or population_size, not both"]
