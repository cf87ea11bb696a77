"""The CLI exits 0 (holds), 1 (breached) or 2 (anything else), always; an error is one line.

Every case here once crashed with a traceback (exit 1, read by a pipeline as "breached") or
ran on a value it should have refused.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from idrisk.cli import main

ENV = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")
SCEN = '[[scenario]]\nquasi_identifiers = ["sex", "yob"]\n'


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("hcli")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"sex": rng.choice(["F", "M"], 200), "yob": rng.integers(2008, 2011, 200),
                       "grade": rng.integers(1, 9, 200)})
    df.to_csv(d / "d.csv", index=False)
    df.rename(columns={"grade": "$\\zzz$"}).to_csv(d / "math.csv", index=False)
    for name, body in {"kv": '[extract]\npath = "d.csv"\n' + SCEN + "[analysis]\nk_values = 5\n",
                       "path": "[extract]\npath = 5\n" + SCEN,
                       "groupings": '[extract]\npath = "d.csv"\n' + SCEN + "[mitigation]\ngroupings = 5\n",
                       "census": '[extract]\npath = "d.csv"\ncensus = "no"\n' + SCEN,
                       "preset": '[extract]\npath = "d.csv"\n' + SCEN + 'intruder = "no_such_preset"\n',
                       "ok": '[extract]\npath = "d.csv"\n' + SCEN + "[analysis]\nmitigations = false\n"}.items():
        (d / f"{name}.toml").write_text(body)
    (d / "edited.json").write_text(json.dumps({"meta": {}, "score": "high"}))
    (d / "broken.json").write_text("{not json")
    return d


def run(argv, capsys):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def expect_2(argv, capsys, message):
    rc, out, err = run(argv, capsys)
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("idrisk: error:")]
    assert len(lines) == 1, err
    assert message in lines[0], lines[0]
    return err


@pytest.mark.parametrize("argv, message", [
    (["assess", "{d}/kv.toml"], "config [analysis]: k_values must be a non-empty list of integers >= 1; got int 5"),
    (["assess", "{d}/path.toml"], "config [extract]: path must be a file path (a string)"),
    (["assess", "{d}/groupings.toml"], "config [mitigation]: groupings must be a table"),
    (["assess", "{d}/census.toml"], "config [extract]: census must be true or false"),
    (["assess", "{d}/preset.toml"], "config [[scenario]] 1: intruder must be a known intruder preset"),
    (["report", "{d}/edited.json", "--report", "{d}/e.html"], "does not match the schema"),
    (["report", "{d}/broken.json", "--report", "{d}/e.html"], "is not a JSON assessment result"),
    (["demo", "--n", "0", "--out", "{d}/demo0"], "argument --n: must be an integer >= 1; got 0"),
    (["demo", "--n", "x", "--out", "{d}/demo0"], "argument --n: must be an integer >= 1; got 'x'"),
    (["assess", "{d}/d.csv", "--qi", "sex", "--seed", "-1"], "argument --seed: must be an integer >= 0; got -1"),
    (["assess", "{d}/d.csv", "--qi", "sex", "--population-size", "0"],
     "argument --population-size: must be an integer >= 1; got 0"),
    (["assess", "{d}/d.csv", "--qi", "sex", "--output", "{d}/no/such/dir/r.json"], "No such file or directory"),
    (["assess", "{d}/d.csv", "--qi", "sex", "--output", "{d}/d.csv/r.json"], "Not a directory"),
    (["assess", "{d}/nope.csv", "--qi", "sex"], "nope.csv"),
])
def test_cli_error_suite(d, capsys, argv, message):
    expect_2([a.format(d=d) for a in argv], capsys, message)
    assert not (d / "demo0").exists() and not (d / "e.html").exists()


def test_an_unexpected_exception_is_exit_2_and_one_line(d, capsys, monkeypatch):
    import idrisk.assessment

    def boom(*a, **k):
        raise RuntimeError("could not convert string to float: 'SECRET0'")

    monkeypatch.setattr(idrisk.assessment, "assess", boom)
    err = expect_2(["assess", d / "d.csv", "--qi", "sex"], capsys, "unexpected RuntimeError")
    assert "SECRET0" not in err and "--debug" in err
    rc, _, err = run(["--debug", "assess", d / "d.csv", "--qi", "sex"], capsys)
    assert rc == 2 and "Traceback" in err and "idrisk: error: unexpected RuntimeError" in err.splitlines()[-1]


@pytest.mark.parametrize("code, text", [(errno.EROFS, "Read-only file system"), (errno.ENOSPC, "No space left")])
def test_a_read_only_or_full_disk_is_exit_2(d, tmp_path, capsys, monkeypatch, code, text):
    def refuse(self, *a, **k):
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr(Path, "write_text", refuse)
    expect_2(["assess", d / "ok.toml", "--output", tmp_path / "r.json"], capsys, text)


def test_mathtext_in_a_column_name_is_plain_text(d, tmp_path, capsys):
    rc, out, err = run(["assess", d / "math.csv", "--qi", "sex,$\\zzz$", "--report", tmp_path / "m.html",
                        "--no-progress"], capsys)
    assert rc in (0, 1) and "Traceback" not in err and "error" not in err
    assert "$\\zzz$" in (tmp_path / "m.html").read_text()


def test_warnings_reach_stderr(d, tmp_path, capsys):
    df = pd.read_csv(d / "d.csv")
    df.assign(code=np.arange(len(df))).to_csv(tmp_path / "w.csv", index=False)  # an identifier-like key
    rc, out, err = run(["assess", tmp_path / "w.csv", "--qi", "sex,code", "--output", tmp_path / "w.json"],
                       capsys)
    res = json.loads((tmp_path / "w.json").read_text())
    assert res["warnings"], "this input is expected to raise at least one warning"
    for w in res["warnings"]:
        assert f"idrisk: warning: {w}" in err.splitlines()
    assert rc in (0, 1)


def test_subprocess_error_has_no_traceback(d):
    p = subprocess.run([sys.executable, "-m", "idrisk", "assess", str(d / "kv.toml")], capture_output=True,
                       text=True, env=ENV, timeout=300)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("idrisk: error: config [analysis]: k_values")


def test_a_duplicated_csv_header_is_refused(tmp_path, capsys):
    (tmp_path / "dup.csv").write_text("la,la,sex\n1,2,F\n3,4,M\n")
    expect_2(["assess", tmp_path / "dup.csv", "--qi", "la,sex"], capsys,
             "dup.csv: the header names 1 column(s) more than once: la")


def test_a_column_name_holding_a_comma_can_be_passed(tmp_path, capsys):
    (tmp_path / "c.csv").write_text('"la, code",sex\n' + "1,F\n2,M\n" * 10)
    rc, out, err = run(["assess", tmp_path / "c.csv", "--qi", '"la, code",sex', "--format", "json",
                        "--no-progress"], capsys)
    assert rc in (0, 1), err
    assert json.loads(out)["scenarios"][0]["quasi_identifiers"] == ["la, code", "sex"]


def test_warnings_are_shown_before_a_long_step_runs(d, capsys, monkeypatch):
    import warnings

    import idrisk.assessment.measures as measures
    from idrisk.exceptions import PerformanceWarning

    real = measures.suda

    def long_suda(*a, **k):
        warnings.warn("max_size=9 over 9 quasi-identifiers allows 511 combinations", PerformanceWarning)
        print("SUDA IS RUNNING", file=sys.stderr)
        return real(*a, **k)

    monkeypatch.setattr(measures, "suda", long_suda)
    rc, out, err = run(["assess", d / "ok.toml", "--no-progress"], capsys)
    assert rc in (0, 1)
    line = ("idrisk: warning: [scenario 1] suda: PerformanceWarning: max_size=9 over 9 quasi-identifiers "
            "allows 511 combinations")
    assert err.splitlines().index(line) < err.splitlines().index("SUDA IS RUNNING")
    assert err.count(line) == 1


@pytest.mark.parametrize("weights, message", [
    (0.0, "weight column 'w' have 200 zero value(s)"),
    (1e308, "weight column 'w' are too large: their total overflows a float"),
])
def test_unusable_weights_exit_2(d, tmp_path, capsys, weights, message):
    pd.read_csv(d / "d.csv").assign(w=weights).to_csv(tmp_path / "w.csv", index=False)
    expect_2(["assess", tmp_path / "w.csv", "--qi", "sex,yob", "--weights", "w"], capsys, message)


@pytest.mark.parametrize("text", ["sex,yob\nF,1,3\nM,2\n", "sex,yob\nF,1\nM,2,3\n"])
def test_a_row_longer_than_the_header_is_refused(tmp_path, capsys, text):
    # the first case once read silently with the first column as the index (sex then held yob)
    (tmp_path / "r.csv").write_text(text)
    expect_2(["assess", tmp_path / "r.csv", "--qi", "sex,yob"], capsys, "r.csv: could not be read as CSV text")


def test_control_characters_in_names_never_reach_the_terminal(tmp_path, capsys):
    rng = np.random.default_rng(1)
    name = "\x1b[2Jclear"  # an escape sequence that clears the screen
    pd.DataFrame({name: rng.choice(["a", "b"], 50), "sex": rng.choice(["F", "M"], 50)}).to_csv(
        tmp_path / "e.csv", index=False)
    rc, out, err = run(["assess", tmp_path / "e.csv", "--qi", f"sex,{name}", "--no-progress"], capsys)
    assert rc in (0, 1) and "\\x1b[2Jclear" in out
    assert "\x1b" not in out and "\x1b" not in err
    rc, out, err = run(["assess", tmp_path / "e.csv", "--qi", "\x1b[2Jnope"], capsys)
    assert rc == 2 and "\x1b" not in err and "not found in the data: \\x1b[2Jnope" in err
