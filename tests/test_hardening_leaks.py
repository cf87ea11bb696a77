"""Error text is a safe output: a record value never reaches the JSON, the report, stdout or stderr.

Every cell of the extract holds a canary string; each measure of the assessment is made to
fail with an exception whose text quotes a cell (as ``float('SECRET0')`` does), and the
original failure (text birth year and month with the nosy-neighbour intruder) is run as is.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import idrisk.assessment.measures as measures
from idrisk.cli import main

CANARY = "SECRET0"
#: the name of each measure in idrisk.assessment.measures -> its key under not_computed
MEASURES = {"k_anonymity": "k_anonymity", "individual_risk": "individual_risk",
            "population_uniqueness": "population_uniqueness", "sample_risks": "sample_risks",
            "l_diversity": "l_diversity", "t_closeness": "t_closeness", "suda": "suda",
            "combination_sweep": "combination_sweep", "run_intruder": "intruder"}
KEY = ["urn", "year_group", "sex", "birth_year", "birth_month"]


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    d = tmp_path_factory.mktemp("canary")
    rng = np.random.default_rng(3)
    n = 240
    cols = {c: [f"{CANARY}{v}" for v in rng.integers(0, k, n)]
            for c, k in {"urn": 3, "year_group": 2, "sex": 2, "birth_year": 2, "birth_month": 4,
                         "ethnicity_major": 3, "fsm": 2}.items()}
    pd.DataFrame(cols).to_csv(d / "x.csv", index=False)
    (d / "a.toml").write_text(
        '[extract]\npath = "x.csv"\npopulation_size = 2400\n'
        '[[scenario]]\nname = "gate"\nquasi_identifiers = ["urn", "year_group", "sex", "birth_year", "birth_month"]\n'
        'intruder = "nosy_neighbour"\n'
        '[sensitive]\nfsm = { tier = 1 }\n'
        '[analysis]\nintruder_targets = 50\nmax_msu_size = 3\n')
    return d


def _run(d, tmp_path, capsys):
    out, rep = tmp_path / "r.json", tmp_path / "r.html"
    rc = main(["assess", str(d / "a.toml"), "--output", str(out), "--report", str(rep), "--no-progress",
               "--overwrite"])
    stdout, stderr = capsys.readouterr()
    assert rc in (0, 1), stderr
    texts = {"json": out.read_text(), "html": rep.read_text(), "stdout": stdout, "stderr": stderr}
    for where, text in texts.items():
        assert CANARY not in text, f"a record value reached {where}"
    return json.loads(texts["json"]), texts


def test_the_original_failure_publishes_type_and_columns(extract, tmp_path, capsys):
    res, texts = _run(extract, tmp_path, capsys)
    nc = res["scenarios"][0]["not_computed"]
    # the date-of-birth mapping turns text birth_year/birth_month into floats: a ValueError
    # whose text quotes a cell; only its type and the scenario's key are published
    assert nc == {"intruder": "ValueError on column(s) " + ", ".join(KEY)}
    assert "ValueError on column(s) urn, year_group" in texts["stdout"]


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_every_measure_failure_is_published_without_its_text(extract, tmp_path, capsys, monkeypatch, name):
    def fail(*args, **kwargs):
        raise ValueError(f"could not convert string to float: '{CANARY}1'")

    monkeypatch.setattr(measures, name, fail)
    res, texts = _run(extract, tmp_path, capsys)
    nc = res["scenarios"][0]["not_computed"]
    cols = KEY + (["fsm"] if name in ("l_diversity", "t_closeness") else [])
    assert nc[MEASURES[name]] == "ValueError on column(s) " + ", ".join(cols)
    assert f"{MEASURES[name]}: ValueError on column(s) urn" in texts["stdout"]
    assert "ValueError on column(s) urn" in texts["html"]


def test_idrisk_errors_keep_their_own_text():
    from idrisk.exceptions import DataValidationError

    assert measures._failure(DataValidationError("column 'a' has 3 infinite value(s)\nmore"), ["a"]) == \
        "DataValidationError: column 'a' has 3 infinite value(s)"
    assert measures._failure(KeyError("SECRET0"), ["a", "b"]) == "KeyError on column(s) a, b"


@pytest.fixture(scope="module")
def identifying(tmp_path_factory):
    """Canary cells in columns found by content, a finer date of birth, and free text."""
    d = tmp_path_factory.mktemp("canary_ids")
    rng = np.random.default_rng(4)
    n = 240
    year, month = rng.integers(2008, 2010, n), rng.integers(1, 13, n)
    df = pd.DataFrame({
        "urn": [f"{CANARY}{v}" for v in rng.integers(0, 3, n)], "sex": rng.choice(["F", "M"], n),
        "birth_year": year, "birth_month": month,
        "date_of_birth": [f"{CANARY}{y}-{m:02d}-{dd:02d}" for y, m, dd in zip(year, month, rng.integers(1, 28, n))],
        "contact": [f"{CANARY}.{i}@example.org" for i in range(n)],
        "ref": [f"{CANARY}-{i:05d}" for i in range(n)],
        "notes": [f"{CANARY} said the pupil moved house twice this year {i}" for i in range(n)],
        "fsm": [f"{CANARY}{v}" for v in rng.integers(0, 2, n)]})
    df.to_csv(d / "x.csv", index=False)
    (d / "a.toml").write_text('[extract]\npath = "x.csv"\n[[scenario]]\nname = "gate"\n'
                              'quasi_identifiers = ["urn", "sex", "birth_year", "birth_month"]\n'
                              'intruder = "bulk_linkage"\n'
                              '[sensitive]\nfsm = { special_category = true }\n'
                              '[analysis]\nintruder_targets = 50\nmax_msu_size = 3\nintruder_runs = 2\n')
    return d


def test_columns_found_by_content_refinements_and_assumptions_publish_no_value(identifying, tmp_path, capsys):
    res, texts = _run(identifying, tmp_path, capsys)
    cols = {c["name"]: c for c in res["columns"]}
    assert {c for c, v in cols.items() if v["role"] == "direct identifier"} == {"contact", "ref", "notes"}
    assert res["scenarios"][0]["refined"] == {"birth_year": "date_of_birth", "birth_month": "date_of_birth"}
    assert [a["declared"] for a in res["assumptions"]] == [False, False, False]
    assert "census or sample not declared" in texts["stderr"]


def test_a_failure_while_examining_columns_publishes_no_value(identifying, tmp_path, capsys, monkeypatch):
    import idrisk.assessment.content as content

    def fail(*args, **kwargs):
        raise ValueError(f"could not convert string to float: '{CANARY}1'")

    monkeypatch.setattr(content, "identifier_kind", fail)
    rc = main(["assess", str(identifying / "a.toml"), "--no-progress"])
    out, err = capsys.readouterr()
    assert rc == 2 and CANARY not in out + err and "unexpected ValueError" in err
    rc = main(["assess", str(identifying / "a.toml"), "--no-progress", "--remove", "nope"])
    out, err = capsys.readouterr()
    assert rc == 2 and CANARY not in out + err
