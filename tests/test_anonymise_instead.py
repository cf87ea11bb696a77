"""What the requester could have instead: the demo's refer-back case transformed to the
safeguarded conditions and assessed again; the section agrees with an independent re-run of
anonymise and assess, and its HTML shows no record-level value."""

import re

import pytest

import idrisk
from idrisk.anonymise.instead import alternative
from idrisk.anonymise.ladders import profile_hierarchies
from idrisk.assessment.demo import DEMO_SEED, _ks4_config
from idrisk.datasets import extract, make_population
from idrisk.report.instead import render_instead

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def case():
    pop = make_population(60_000, seed=DEMO_SEED)
    ex = extract(pop, "ks4", include_date_of_birth=True)
    res = idrisk.assess(ex.data, _ks4_config(ex), progress=False)
    return ex, res, alternative(ex.data, res)


def test_refer_back_gets_a_reduced_extract_and_its_route(case):
    ex, res, s = case
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
    ex, res, s = case
    page = render_instead(s)
    assert "What the requester could have instead" in page and s["route_after"] in page
    text = re.sub(r'src="data:image/png;base64,[^"]*"', "", page)
    for col in ("urn", "date_of_birth", "pupil_id"):
        if col in ex.data:
            values = set(ex.data[col].dropna().astype(str))
            found = [v for v in re.findall(r"[\w-]+", text) if v in values and len(v) >= 5]
            assert not found, col
