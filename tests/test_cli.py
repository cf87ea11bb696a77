"""End-to-end CLI tests: the ``idrisk`` command as a subprocess, one per exit code and path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from idrisk.assessment.schema import schema_errors
from idrisk.cli import main

ENV = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")


def idrisk(*args, cwd=None):
    """Run ``python -m idrisk ARGS`` (same as the console script) and return the process."""
    return subprocess.run([sys.executable, "-m", "idrisk", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=ENV, timeout=300)


def expect(proc, code):
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}\nstdout:{proc.stdout}\n" \
                                    f"stderr:{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    safe = pd.DataFrame({"a": np.repeat(["x", "y"], 100), "b": np.tile(np.repeat(["p", "q"], 50), 2),
                         "s": np.tile(["s1", "s2", "s3", "s4"], 50)})
    safe.to_csv(d / "safe.csv", index=False)
    risky = pd.DataFrame({"sex": ["F"] * 5 + ["M"] * 3 + ["F", "M"], "yob": [2010] * 5 + [2011] * 3 + [2012, 2013],
                          "grade": list("ABACBAAABC")})
    risky.to_parquet(d / "risky.parquet")
    (d / "risky.toml").write_text('[extract]\npath = "risky.parquet"\n[[scenario]]\nname = "key"\n'
                                  'quasi_identifiers = ["sex", "yob"]\n[analysis]\nseed = 5\n')
    return d


def test_exit_0_when_every_threshold_holds(files):
    # the tier of the sensitive column is declared: an undeclared tier is not assessed (exit 1)
    p = expect(idrisk("assess", files / "safe.csv", "--qi", "a,b", "--special-category", "s", "--tier", "s=3",
                      "--census", "--format", "json"), 0)
    d = json.loads(p.stdout)
    assert schema_errors(d) == []
    assert d["route"]["recommended"] == "safeguarded"
    assert "assessing" not in p.stderr  # no progress bar in a pipe


def test_exit_1_when_a_threshold_is_breached_and_outputs(files, tmp_path, capsys):
    out, rep = tmp_path / "r.json", tmp_path / "r.html"
    p = expect(idrisk("assess", files / "risky.toml", "--output", out, "--report", rep), 1)
    assert "Recommended route" in p.stdout and "BREACHED" in p.stdout
    d = json.loads(out.read_text())
    assert schema_errors(d) == []
    assert d["scenarios"][0]["measures"]["k_anonymity"]["min_class_size"] == 1
    assert rep.read_text().startswith("<!DOCTYPE html>")
    # never overwrite without --overwrite: exit 2 and the files are untouched
    before = out.read_text()
    # idrisk report RESULT.json --report REPORT.html gives the same page
    rep2 = tmp_path / "again.html"
    expect(idrisk("report", out, "--report", rep2), 0)
    assert rep2.read_text() == rep.read_text()
    # in-process from here (same code path as the console script, cheaper than a new interpreter)
    assert main(["assess", str(files / "risky.toml"), "--output", str(out), "--overwrite", "--format", "json",
                 "--no-progress"]) == 1
    assert out.read_text() == before  # same inputs and seed: identical JSON
    assert main(["assess", str(files / "risky.toml"), "--nofail", "--no-progress"]) == 0
    assert main(["report", str(out), "--report", str(rep2)]) == 2
    assert main(["assess", str(files / "risky.toml"), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--overwrite" in err
    assert out.read_text() == before


@pytest.mark.parametrize("args, message", [
    (["assess", "{d}/risky.parquet", "--qi", "sex,nope,zilch"], "nope, zilch"),
    (["assess", "{d}/risky.parquet"], "--qi is required"),
    (["assess", "{d}/missing.csv", "--qi", "a"], "not found"),
    (["assess", "{d}/fake.csv", "--qi", "a"], "extension says CSV"),
    (["assess", "{d}/bad.toml"], "not a valid TOML"),
    (["assess", "{d}/risky.parquet", "--qi", "sex", "--population-size", "3"], "smaller than the extract"),
    (["assess", "{d}/risky.parquet", "--qi", "sex", "--format", "xml"], "invalid choice"),
    (["report", "{d}/risky.toml", "--report", "{d}/x.html"], "not a JSON assessment result"),
    (["frobnicate"], "invalid choice"),
    ([], ""),
])
def test_exit_2_for_usage_config_and_data_errors(files, args, message, capsys):
    (files / "fake.csv").write_bytes((files / "risky.parquet").read_bytes())
    (files / "bad.toml").write_text("[[scenario]\n")
    try:
        code = main([a.format(d=files) for a in args])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.startswith("idrisk: error")]) <= 1


def test_exit_2_as_a_subprocess(files):
    p = expect(idrisk("assess", files / "risky.parquet", "--qi", "sex,nope"), 2)
    assert p.stderr.strip().splitlines()[-1] == "idrisk: error: quasi-identifier column(s) not found in the data: nope"


def test_progress_bar_only_when_asked_or_on_a_terminal(files, capsys):
    assert main(["assess", str(files / "risky.toml"), "--progress", "--nofail"]) == 0
    assert "assessing" in capsys.readouterr().err
    assert main(["assess", str(files / "risky.toml"), "--nofail"]) == 0  # stderr is not a terminal here
    assert "assessing" not in capsys.readouterr().err


def test_report_rejects_json_that_is_not_a_result(files, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"route": {"recommended": "open"}}))
    assert main(["report", str(bad), "--report", str(tmp_path / "x.html")]) == 2
    assert "schema" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_datasets_make_is_delegated(tmp_path):
    out = tmp_path / "pupils.csv"
    expect(idrisk("datasets", "make", "--n", "2000", "--seed", "3", "--out", out), 0)
    df = pd.read_csv(out)
    assert len(df) == 2000 and "pupil_id" in df.columns


def test_demo_refuses_to_overwrite(tmp_path, capsys):
    (tmp_path / "demo.json").write_text("{}")
    assert main(["demo", "--out", str(tmp_path)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "demo.json").read_text() == "{}"


def test_profile_and_json_config(files, tmp_path, capsys):
    # a JSON configuration (the dict form of a result's config) and --profile
    from idrisk.assessment import load_config

    cfg = load_config(files / "risky.toml")
    path = tmp_path / "risky.json"
    cfg.to_json(path)
    (tmp_path / "risky.parquet").write_bytes((files / "risky.parquet").read_bytes())
    assert main(["assess", str(path), "--format", "json", "--no-progress", "--nofail"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["scenarios"][0]["measures"]["k_anonymity"]["min_class_size"] == 1
    # the TOML names no geography: it comes from the profile chosen on the command line
    assert main(["assess", str(files / "risky.toml"), "--format", "json", "--no-progress", "--nofail",
                 "--profile", "generic"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["config"]["profile"] == "generic" and d["config"]["geography"] == []


def test_demo_report_carries_the_reduced_extract_and_report_renders_it_again(tmp_path):
    """The demo's report holds "what the requester could have instead" (the demo's extract is a
    refer-back case); the section, the reduced extract and its recipe are written beside it, and
    `idrisk report --instead` renders the same page from the two JSON files."""
    out = tmp_path / "demo"
    expect(idrisk("demo", "--n", "20000", "--out", out), 0)
    page = (out / "demo.html").read_text(encoding="utf-8")
    section = json.loads((out / "demo_instead.json").read_text(encoding="utf-8"))
    assert 'id="instead"' in page and f"it reaches the route: {section['route_after']}" in page
    assert section["route_before"] == json.loads((out / "demo.json").read_text())["route"]["recommended"]
    reduced = pd.read_parquet(out / "demo_instead.parquet")
    assert len(reduced) == section["records"]
    assert (out / "demo_instead.recipe.toml").read_text().startswith("# idrisk anonymisation recipe")
    again = tmp_path / "again.html"
    expect(idrisk("report", out / "demo.json", "--report", again, "--instead", out / "demo_instead.json"), 0)
    assert again.read_text(encoding="utf-8") == page
    expect(idrisk("report", out / "demo.json", "--report", tmp_path / "x.html", "--instead", out / "demo.json"), 2)


def test_assess_instead_names_the_reduced_extract(tmp_path):
    """`idrisk assess --instead`: a controlled or refer-back extract gets the reduced extract's
    section (written, and in the report, whose verdict names it); a file that is already
    safeguarded is left alone and says so."""
    from idrisk.datasets import extract, make_population

    ex = extract(make_population(20_000, seed=5), "ks4").data
    data = tmp_path / "ks4.parquet"
    ex.drop(columns=["pupil_id"]).to_parquet(data)
    section, report = tmp_path / "instead.json", tmp_path / "r.html"
    proc = idrisk("assess", data, "--qi", "urn,sex,birth_month,ethnicity_major", "--census", "--report", report,
                  "--instead", section, "--nofail")
    expect(proc, 0)
    s = json.loads(section.read_text(encoding="utf-8"))
    assert s["route_before"] in ("refer back", "controlled")
    page = report.read_text(encoding="utf-8")
    assert 'id="instead"' in page and f"it reaches the route: {s['route_after']}" in page
    safe = tmp_path / "safe.csv"
    pd.DataFrame({"a": ["x", "y"] * 100, "b": ["p"] * 200}).to_csv(safe, index=False)
    proc = idrisk("assess", safe, "--qi", "a,b", "--census", "--profile", "generic", "--tier", "a=4,b=4", "--instead",
                  tmp_path / "none.json", "--nofail")
    expect(proc, 0)
    assert not (tmp_path / "none.json").exists() and "no reduced extract needed" in proc.stderr
