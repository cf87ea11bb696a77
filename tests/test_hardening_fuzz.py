"""Property-based fuzzing of what idrisk reads: the TOML configuration, extract files and the
result JSON. Whatever the input, the answer is a configuration/frame/result or an idrisk
error (one line per problem), never another exception; what is read back round-trips.

The budget is small in the suite; ``make fuzz`` (``IDRISK_FUZZ_EXAMPLES=2000``)
runs a larger one.
"""

from __future__ import annotations

import json
import os
import re
import tomllib

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idrisk
from idrisk.assessment import AssessmentResult
from idrisk.assessment.config_io import _SECTION_KEYS, config_from_dict
from idrisk.assessment.io import read_extract
from idrisk.exceptions import DataValidationError, InvalidParameterError

BUDGET = settings(max_examples=int(os.environ.get("IDRISK_FUZZ_EXAMPLES", "40")), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
LINE = re.compile(r"^config[^\n]*: .+$")

names = st.sampled_from(["a", "b", "sex", "la, code", "fsm", "birth_month", "x$y", "é"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.floats(-1, 2, allow_nan=False),
                    st.just(float("inf")), names, st.text(max_size=5))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(names, inner, max_size=3)), max_leaves=6)
ALL_KEYS = sorted({k for ks in _SECTION_KEYS.values() for k in ks})


def _section(keys):
    return st.dictionaries(st.sampled_from(sorted(keys)) | st.sampled_from(["typo"]), values, max_size=4)


scenario = st.fixed_dictionaries({"quasi_identifiers": st.one_of(st.lists(names, min_size=1, max_size=3), values)},
                                 optional={"name": st.one_of(names, values), "intruder": values,
                                           "public": st.one_of(st.booleans(), values)})
docs = st.fixed_dictionaries(
    {"scenario": st.lists(scenario, min_size=1, max_size=2)},
    optional={"extract": _section(_SECTION_KEYS["extract"]), "analysis": _section(_SECTION_KEYS["analysis"]),
              "mitigation": _section(_SECTION_KEYS["mitigation"]),
              "thresholds": _section(["min_k", "max_individual_risk", "claim_confidence", "max_correct_claims"]),
              "flags": _section(["social_care", "membership_sensitive"]),
              "tiers": st.dictionaries(names, values, max_size=2),
              "sensitive": st.dictionaries(names, values, max_size=2)})


@BUDGET
@given(doc=docs)
def test_any_config_is_a_config_or_one_error_listing_its_problems(doc):
    try:
        cfg = config_from_dict(doc)
    except InvalidParameterError as exc:
        lines = str(exc).splitlines()
        assert lines and all(LINE.match(ln) for ln in lines), lines
        return
    # what is accepted round-trips through TOML and through the dict form
    again = config_from_dict(tomllib.loads(cfg.to_toml()))
    assert again == cfg
    assert config_from_dict(json.loads(cfg.to_json())) == cfg


@BUDGET
@given(text=st.text(max_size=200))
def test_any_toml_text_reads_or_gives_one_idrisk_error(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_bytes(text.encode("utf-8", "replace"))
    try:
        idrisk.load_config(p)
    except InvalidParameterError:
        pass


@BUDGET
@given(data=st.binary(max_size=300), ext=st.sampled_from([".csv", ".csv.gz", ".parquet", ".dta", ".sav"]))
def test_any_bytes_as_an_extract_read_or_give_one_idrisk_error(tmp_path, data, ext):
    p = tmp_path / f"x{ext}"
    p.write_bytes(data)
    try:
        frame = read_extract(p)
    except DataValidationError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0


@BUDGET
@given(rows=st.lists(st.tuples(st.sampled_from(["F", "M", "", "é", "a,b", '"q"', "x\ny"]), st.integers(-5, 5)),
                     min_size=1, max_size=30))
def test_csv_written_by_pandas_reads_back(tmp_path, rows):
    # (a NUL byte makes a file binary data: refused as a CSV by design, tested in test_assessment)
    df = pd.DataFrame(rows, columns=["sex", "n"])
    df.to_csv(tmp_path / "x.csv", index=False)
    back = read_extract(tmp_path / "x.csv")
    assert list(back.columns) == ["sex", "n"] and len(back) == len(df)
    assert back["n"].tolist() == df["n"].tolist()


@pytest.fixture(scope="module")
def result_dict():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"sex": rng.choice(["F", "M"], 200), "yob": rng.integers(2008, 2012, 200),
                       "s": rng.choice(list("pqr"), 200)})
    res = idrisk.assess(df, quasi_identifiers=["sex", "yob"], sensitive=["s"], progress=False)
    return json.loads(res.to_json())


def _paths(d, prefix=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


@BUDGET
@given(data=st.data())
def test_an_edited_result_reads_or_gives_one_idrisk_error(result_dict, data):
    d = json.loads(json.dumps(result_dict))
    paths = list(_paths(d))
    path = data.draw(st.sampled_from(paths))
    new = data.draw(values)
    target = d
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = new
    try:
        res = AssessmentResult.from_dict(d)
    except InvalidParameterError:
        return
    assert AssessmentResult.from_dict(json.loads(res.to_json())).to_json() == res.to_json()


def test_the_result_round_trips(result_dict):
    res = AssessmentResult.from_dict(result_dict)
    assert json.loads(res.to_json()) == result_dict


# -- what the fuzzing found, kept as plain tests ---------------------------------------------------

def test_repeated_scenario_names_in_the_one_message_shape():
    with pytest.raises(InvalidParameterError, match=r"^config \[\[scenario\]\]: scenario names must be unique; "
                                                    r"repeated: a$"):
        config_from_dict({"scenario": [{"quasi_identifiers": ["a"], "name": "a"},
                                       {"quasi_identifiers": ["b"], "name": "a"}]})


def test_a_gzip_header_cut_short_is_a_data_error(tmp_path):
    (tmp_path / "x.csv").write_bytes(b"\x1f\x8b")
    with pytest.raises(DataValidationError, match="the extension says CSV text but the content is"):
        read_extract(tmp_path / "x.csv")


def test_a_result_holding_infinity_is_refused(result_dict):
    d = json.loads(json.dumps(result_dict))
    d["meta"]["sampling_fraction"] = float("inf")  # json.dumps writes Infinity; Python's json reads it
    with pytest.raises(InvalidParameterError, match="/meta/sampling_fraction: expected number"):
        AssessmentResult.from_dict(json.loads(json.dumps(d)))


def test_a_result_whose_config_assess_would_refuse_is_refused(result_dict, tmp_path, capsys):
    from idrisk.cli import main

    d = json.loads(json.dumps(result_dict))
    d["config"]["thresholds"]["min_k"] = None  # the report reads min_k from here
    with pytest.raises(InvalidParameterError, match=r"^the result's config is not a valid configuration: "
                                                    r"config \[thresholds\]: min_k must be an integer >= 1; got None$"):
        AssessmentResult.from_dict(d)
    (tmp_path / "r.json").write_text(json.dumps(d))
    assert main(["report", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.html")]) == 2
    assert "Traceback" not in capsys.readouterr().err and not (tmp_path / "r.html").exists()
