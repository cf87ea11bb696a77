"""A verdict that fails safe: the cases an assessor meets on data the project never saw.

Each case is run through the API and through the command line (in process) on a KS4-like
CSV made from the synthetic population (docs/methods.md#routes, #indicators, #profiles).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.cli import main
from idrisk.datasets import extract, make_population


@pytest.fixture(scope="module")
def ks4(tmp_path_factory):
    """A KS4 extract written to CSV: 4,537 pupils, no identifiers, birth month and year."""
    d = tmp_path_factory.mktemp("verdict")
    ex = extract(make_population(60_000, seed=3), "ks4", include_direct_identifiers=False)
    path = d / "ks4.csv"
    ex.data.to_csv(path, index=False)
    return path


def cli(capsys, *args):
    """(exit status, parsed JSON on stdout, stderr) of ``idrisk assess ... --format json``."""
    rc = main(["assess", *map(str, args), "--format", "json", "--no-progress"])
    out = capsys.readouterr()
    return rc, json.loads(out.out), out.err


def by_id(d, id_):
    return [i for i in d["indicators"] if i["id"] == id_]


# -- Tier-1 data is never recommended safeguarded -------------------------------------------------
def test_tier_1_items_named_as_npd_items_force_controlled_cli(ks4, capsys):
    rc, d, _ = cli(capsys, ks4, "--qi", "region,sex", "--sensitive", "sen_primary_need,fsm",
                   "--special-category", "sen_primary_need")
    assert rc == 1
    assert d["route"]["recommended"] == "controlled"
    (tier,) = by_id(d, "tier")
    assert tier["holds"] is False and tier["value"] == 1
    # the NPD tiers by item name: every Tier 1/2 item of the file is named
    for col in ("sen_primary_need", "fsm", "ethnicity_minor", "first_language", "birth_month", "birth_year"):
        assert col in tier["label"]


def test_tier_1_items_named_as_npd_items_force_controlled_api(ks4):
    r = idrisk.assess(ks4, quasi_identifiers=["region", "sex"], progress=False,
                      sensitive={"sen_primary_need": {"special_category": True}, "fsm": {}})
    assert r.route.recommended == "controlled"
    tier = [i for i in r.indicators if i.id == "tier"][0]
    assert tier.holds is False and "sen_primary_need" in r.content.tier_1_2_columns


def test_an_undeclared_tier_is_not_assessed_and_never_holds(capsys, tmp_path):
    # a generic file: no profile knows the item "grade"; its tier was declared by nobody
    df = pd.DataFrame({"a": np.repeat(["x", "y"], 100), "b": np.tile(np.repeat(["p", "q"], 50), 2),
                       "grade": np.tile(["g1", "g2", "g3", "g4"], 50)})
    df.to_csv(tmp_path / "g.csv", index=False)
    rc, d, _ = cli(capsys, tmp_path / "g.csv", "--qi", "a,b", "--special-category", "grade", "--census")
    (tier,) = by_id(d, "tier")
    assert tier["holds"] is None and "grade" in tier["not_assessed_reason"]
    assert rc == 1 and d["route"]["recommended"] == "controlled"
    # declared on the command line, the same file holds every condition
    rc, d, _ = cli(capsys, tmp_path / "g.csv", "--qi", "a,b", "--special-category", "grade", "--census",
                   "--tier", "grade=3")
    assert rc == 0 and d["route"]["recommended"] == "safeguarded" and by_id(d, "tier")[0]["holds"] is True
    r = idrisk.assess(df, quasi_identifiers=["a", "b"], sensitive={"grade": {"special_category": True}},
                      census=True, progress=False)
    assert r.route.recommended == "controlled" and r.score.conditions_not_assessed == 1
    html = (tmp_path / "g.html")
    r.to_html(html)
    text = html.read_text()
    start = text.index('<th scope="row">Most sensitive NPD tier present')
    row = text[start:text.index("</tr>", start)]
    assert "NOT ASSESSED" in row and "HOLDS" not in row
    assert "Every measure was computed" not in text
