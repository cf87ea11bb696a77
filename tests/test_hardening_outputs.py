"""Outputs: the same file twice is refused before anything is written; symbolic links at an
output path are refused unless they point inside the output's folder and --overwrite is
given; a dangling link is never followed."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.assessment import AssessmentConfig
from idrisk.cli import main
from idrisk.datasets.io import write_frame
from idrisk.exceptions import InvalidParameterError


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"sex": rng.choice(["F", "M"], 120), "yob": rng.integers(2008, 2011, 120)})
    df.to_csv(tmp_path / "d.csv", index=False)
    return tmp_path


def cli(argv, capsys):
    rc = main([str(a) for a in argv])
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    return rc, err


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_the_same_path_for_output_and_report_is_refused(data, capsys, overwrite):
    out = data / "r.out"
    out.write_text("keep")
    rc, err = cli(["assess", data / "d.csv", "--qi", "sex,yob", "--output", out, "--report", out, *overwrite], capsys)
    assert rc == 2 and "--output and --report name the same file" in err
    assert out.read_text() == "keep"


def test_the_same_file_through_a_link_is_refused(data, capsys):
    (data / "alias.html").symlink_to(data / "r.json")
    rc, err = cli(["assess", data / "d.csv", "--qi", "sex", "--output", data / "r.json", "--report",
                   data / "alias.html", "--overwrite"], capsys)
    assert rc == 2 and "name the same file" in err
    assert not (data / "r.json").exists()


def test_an_output_over_the_input_is_refused(data, capsys):
    before = (data / "d.csv").read_bytes()
    rc, err = cli(["assess", data / "d.csv", "--qi", "sex", "--output", data / "d.csv", "--overwrite"], capsys)
    assert rc == 2 and "the input and --output name the same file" in err
    assert (data / "d.csv").read_bytes() == before
    assert cli(["assess", data / "d.csv", "--qi", "sex", "--output", data / "r.json"], capsys)[0] in (0, 1)
    before = (data / "r.json").read_bytes()
    rc, err = cli(["report", data / "r.json", "--report", data / "r.json", "--overwrite"], capsys)
    assert rc == 2 and "the result and --report name the same file" in err
    assert (data / "r.json").read_bytes() == before


def test_a_dangling_link_is_never_followed(data, capsys):
    target = data / "elsewhere" / "t.json"
    (data / "elsewhere").mkdir()
    (data / "r.json").symlink_to(target)
    for extra in ([], ["--overwrite"]):
        rc, err = cli(["assess", data / "d.csv", "--qi", "sex", "--output", data / "r.json", *extra], capsys)
        assert rc == 2 and "dangling symbolic link" in err
        assert not target.exists() and (data / "r.json").is_symlink()


def test_a_link_outside_the_folder_is_refused_even_with_overwrite(data, tmp_path_factory, capsys):
    outside = tmp_path_factory.mktemp("outside") / "victim.txt"
    outside.write_text("precious")
    (data / "r.json").symlink_to(outside)
    rc, err = cli(["assess", data / "d.csv", "--qi", "sex", "--output", data / "r.json", "--overwrite"], capsys)
    assert rc == 2 and "outside its folder" in err
    assert outside.read_text() == "precious"


def test_a_link_inside_the_folder_needs_overwrite(data, capsys):
    target = data / "real.json"
    target.write_text("old")
    (data / "r.json").symlink_to("real.json")
    rc, err = cli(["assess", data / "d.csv", "--qi", "sex", "--output", data / "r.json"], capsys)
    assert rc == 2 and "exists (a symbolic link)" in err and target.read_text() == "old"
    rc, err = cli(["assess", data / "d.csv", "--qi", "sex", "--output", data / "r.json", "--overwrite"], capsys)
    assert rc in (0, 1)
    assert (data / "r.json").is_symlink() and target.read_text().startswith("{")


def test_every_writer_refuses_a_dangling_link(data):
    res = idrisk.assess(pd.read_csv(data / "d.csv"), quasi_identifiers=["sex"], progress=False, mitigations=False)
    cfg = AssessmentConfig(scenarios=[["sex"]])
    writers = {"json": lambda p: res.to_json(p, overwrite=True), "html": lambda p: res.to_html(p, overwrite=True),
               "toml": lambda p: cfg.to_toml(p, overwrite=True),
               "config json": lambda p: cfg.to_json(p, overwrite=True),
               "parquet": lambda p: write_frame(pd.read_csv(data / "d.csv"), p, overwrite=True)}
    for name, write in writers.items():
        link = data / f"{name.replace(' ', '_')}.parquet"
        target = data / f"{name.replace(' ', '_')}-target"
        os.symlink(target, link)
        with pytest.raises(InvalidParameterError, match="dangling symbolic link"):
            write(link)
        assert not target.exists(), name


def test_long_names_are_shortened_in_plots_and_tables(tmp_path):
    import time

    from idrisk.report.render import _short

    assert _short("a" * 60) == "a" * 60 and _short("a" * 61) == "a" * 59 + "\u2026"
    rng = np.random.default_rng(0)
    long_col, long_name = "c" * 20000, "n" * 200000
    df = pd.DataFrame({"sex": rng.choice(["F", "M"], 300), long_col: rng.integers(0, 5, 300),
                       "s": rng.choice(list("ab"), 300)})
    t0 = time.perf_counter()
    res = idrisk.assess(df, scenarios=[{"name": long_name, "quasi_identifiers": ["sex", long_col]}],
                        sensitive=["s"], progress=False)
    html = res.to_html(tmp_path / "r.html").read_text()
    assert time.perf_counter() - t0 < 120  # it took 272 s (and a MemoryError) when drawn whole
    assert f'<th scope="row">{"n" * 59}\u2026</th>' in html
    assert f'<th scope="row">{long_name}</th>' not in html


def test_writers_refuse_a_directory(data):
    res = idrisk.assess(pd.read_csv(data / "d.csv"), quasi_identifiers=["sex"], progress=False, mitigations=False)
    cfg = AssessmentConfig(scenarios=[["sex"]])
    (data / "adir").mkdir()
    for write in (lambda p: res.to_json(p, overwrite=True), lambda p: res.to_html(p, overwrite=True),
                  lambda p: cfg.to_toml(p, overwrite=True), lambda p: cfg.to_json(p, overwrite=True)):
        with pytest.raises(InvalidParameterError, match="is a directory; give a file path"):
            write(data / "adir")
