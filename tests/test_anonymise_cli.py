"""``idrisk anonymise CONFIG.toml --out``: the extract, the recipe and the JSON result written,
the same as the Python API gives; the recipe replays to identical bytes; exit codes 0 and 2;
outputs never overwritten without --overwrite; no record value in the JSON or the errors."""

import json

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.cli import main

CANARY = "Zq7canary"


@pytest.fixture()
def setup(tmp_path):
    rng = np.random.default_rng(5)
    n = 120
    d = pd.DataFrame({"age": rng.integers(20, 70, n), "sex": rng.choice(["F", "M"], n),
                      "pc": rng.choice(["AB1", "AB2", "CD1", "CD9"], n), "score": rng.normal(50, 10, n)})
    d.loc[3, "pc"] = "ZZ" + CANARY  # a rare value that must never be shown
    d.to_parquet(tmp_path / "in.parquet", index=False)
    (tmp_path / "pc.csv").write_text("AB1;AB;*\nAB2;AB;*\nCD1;CD;*\nCD9;CD;*\nZZ" + CANARY + ";ZZ;*\n")
    cfg = tmp_path / "a.toml"
    cfg.write_text('[extract]\npath = "in.parquet"\n\n[anonymise]\nquasi_identifiers = ["age", "sex", "pc"]\n'
                   'k = 3\nsuppression_limit = 0.05\n\n[hierarchies.age]\nkind = "bands"\nwidths = [10, 20]\n\n'
                   '[hierarchies.sex]\nkind = "table"\nrows = [["F", "*"], ["M", "*"]]\n\n'
                   '[hierarchies.pc]\npath = "pc.csv"\n\n[validity]\noutcomes = ["score"]\n'
                   'predictors = ["age", "sex", "pc"]\ntables = ["sex", ["age", "sex"]]\n')
    return tmp_path, d, cfg


def test_cli_writes_extract_recipe_and_result(setup, capsys):
    tmp, d, cfg = setup
    out = tmp / "x.parquet"
    assert main(["anonymise", str(cfg), "--out", str(out)]) == 0
    h = {"age": idrisk.anonymise.bands(10, 20), "sex": [["F", "*"], ["M", "*"]], "pc": str(tmp / "pc.csv")}
    api = idrisk.anonymise(d, ["age", "sex", "pc"], hierarchies=h, k=3, suppression_limit=0.05)
    got = pd.read_parquet(out)
    assert got.astype(object).equals(api.data.astype(object))
    result = json.loads((tmp / "x.result.json").read_text())
    assert result["levels"] == api.levels and result["validity"]["tables"]["sex"] >= 0
    recipe = (tmp / "x.recipe.toml").read_text()
    again = idrisk.anonymise.apply_recipe(d, recipe)
    again.data.to_parquet(tmp / "y.parquet", index=False)
    assert (tmp / "y.parquet").read_bytes() == out.read_bytes()
    text = (tmp / "x.result.json").read_text() + capsys.readouterr().out
    assert CANARY not in text
    # no overwrite without --overwrite: exit 2, nothing replaced
    before = out.read_bytes()
    assert main(["anonymise", str(cfg), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["anonymise", str(cfg), "--out", str(out), "--overwrite"]) == 0


def test_cli_errors_exit_2(setup, capsys):
    tmp, d, cfg = setup
    bad = tmp / "bad.toml"
    bad.write_text(cfg.read_text().replace("k = 3", "k = 3\nkay = 4"))
    assert main(["anonymise", str(bad), "--out", str(tmp / "o.parquet")]) == 2
    assert "unknown key(s) in [anonymise]: kay" in capsys.readouterr().err
    tight = tmp / "tight.toml"
    tight.write_text(cfg.read_text().replace("k = 3", "k = 1000"))
    assert main(["anonymise", str(tight), "--out", str(tmp / "o.parquet")]) == 2
    err = capsys.readouterr().err
    assert "no generalisation meets the conditions" in err and CANARY not in err
    assert main(["anonymise", str(cfg), "--out", str(tmp / "o.txt")]) == 2
    assert not (tmp / "o.parquet").exists()
