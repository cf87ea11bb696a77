"""What the requester could have instead: the demo's refer-back case transformed to the
safeguarded conditions and assessed again; the section agrees with an independent re-run of
anonymise and assess, and its HTML shows no record-level value."""

import re

import pytest

import idrisk
from idrisk.anonymise.instead import alternative, alternative_extract
from idrisk.anonymise.ladders import profile_hierarchies
from idrisk.assessment.demo import DEMO_SEED, _ks4_config
from idrisk.datasets import extract, make_population
from idrisk.report.instead import render_instead

# one worker under pytest-xdist: the module fixture (the demo extract and its search) is built once
pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.xdist_group("anonymise_instead")]


@pytest.fixture(scope="module")
def case():
    pop = make_population(60_000, seed=DEMO_SEED)
    ex = extract(pop, "ks4", include_date_of_birth=True)
    res = idrisk.assess(ex.data, _ks4_config(ex), progress=False)
    section, anon = alternative_extract(ex.data, res)
    assert alternative(ex.data, res) == section  # the section alone, deterministic
    return ex, res, section, anon


def test_refer_back_gets_a_reduced_extract_and_its_route(case):
    ex, res, s, _ = case
    assert s["route_before"] == res.route.recommended == "refer back"
    # independently: the same levels applied, the same conditions, assessed again
    h = profile_hierarchies(ex.data, s["quasi_identifiers"], "npd")
    again = idrisk.anonymise(ex.data, s["quasi_identifiers"], hierarchies=h, k=s["conditions"]["k"],
                             suppression_limit=0.01, levels=s["levels"])
    assert again.suppressed_records == s["suppressed_records"]
    re_res = idrisk.assess(again.data, res.config, missing="wildcard", progress=False)
    assert re_res.route.recommended == s["route_after"] != "refer back"
    after = {i["label"]: i["value"] for i in re_res.to_dict()["indicators"]}
    for i in s["indicators"]:
        assert i["after"] == after.get(i["label"])
    # every key indicator of k, risk and special uniques holds after
    for i in s["indicators"]:
        if i["indicator"].startswith(("Smallest equivalence class", "Highest individual", "Records with a minimal")):
            assert i["holds_after"] is True
    assert s["chosen"][2] and len(s["nodes"]) <= 400 and s["nodes_evaluated"] >= 1
    assert set(s["loss_per_variable"]) == set(s["quasi_identifiers"])


def test_section_html_has_no_record_value(case):
    ex, res, s, _ = case
    page = render_instead(s)
    assert "What the requester could have instead" in page and s["route_after"] in page
    text = re.sub(r'src="data:image/png;base64,[^"]*"', "", page)
    for col in ("urn", "date_of_birth", "pupil_id"):
        if col in ex.data:
            values = set(ex.data[col].dropna().astype(str))
            found = [v for v in re.findall(r"[\w-]+", text) if v in values and len(v) >= 5]
            assert not found, col


def test_board_report_carries_the_reduced_extract_and_names_it(case):
    """The refer-back verdict names the transformation (each coarsened variable and its level
    in words) and the route the reduced extract reaches; the section is in the report."""
    from idrisk.report import render_html

    ex, res, s, _ = case
    page = render_html(res, s)
    plain = render_html(res)
    assert 'id="instead"' in page and 'id="instead"' not in plain
    verdict = re.sub(r"<[^>]+>", " ", page[page.index('id="verdict"'):page.index('id="people"')])
    changed = [q for q in s["quasi_identifiers"] if s["levels"][q] > 0]
    assert changed
    for q in changed:  # the level's words, from the ladder: a coarser column, a date unit, "withheld"
        assert s["level_labels"][q] in verdict
        assert s["level_labels"][q] not in ("as given",) and not s["level_labels"][q].startswith("level ")
    assert f"it reaches the route: {s['route_after']}" in verdict
    text = re.sub(r'src="data:image/png;base64,[^"]*"', "", page)
    for col in ("urn", "date_of_birth"):
        values = set(ex.data[col].dropna().astype(str))
        assert not [v for v in re.findall(r"[\w-]+", text) if v in values and len(v) >= 5], col


def test_recipe_replays_to_identical_bytes(case, tmp_path):
    ex, _, s, anon = case
    again = idrisk.anonymise.apply_recipe(ex.data, anon.recipe)
    assert again.recipe == anon.recipe and again.levels == s["levels"]
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    anon.data.to_parquet(a, index=False)
    again.data.to_parquet(b, index=False)
    assert a.read_bytes() == b.read_bytes()
    assert anon.data.to_csv(index=False).encode() == again.data.to_csv(index=False).encode()


def test_reassessment_assesses_every_indicator_of_the_keys(case):
    """Re-assessed after the transformation (dates released as years, bands as text, blank key
    cells from suppression), every frequency, diversity and intruder indicator is computed:
    none is left "not assessed" by the generalised columns."""
    _, _, s, anon = case
    missing = [i["label"] for i in anon.assessment.to_dict()["indicators"]
               if i["value"] is None and "[" in i["label"]]
    assert not missing, missing
