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
    assert d["route"]["underlying"] == "controlled" and d["route"]["recommended"] != "safeguarded"
    (tier,) = by_id(d, "tier")
    assert tier["holds"] is False and tier["value"] == 1
    # the NPD tiers by item name: every Tier 1/2 item of the file is named
    for col in ("sen_primary_need", "fsm", "ethnicity_minor", "first_language", "birth_month", "birth_year"):
        assert col in tier["label"]


def test_tier_1_items_named_as_npd_items_force_controlled_api(ks4):
    r = idrisk.assess(ks4, quasi_identifiers=["region", "sex"], progress=False,
                      sensitive={"sen_primary_need": {"special_category": True}, "fsm": {}})
    assert r.route.underlying == "controlled" and r.route.recommended != "safeguarded"
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


# -- every column has a role; the finest form of a key variable is assessed -------------------------
def test_every_column_listed_with_role_tier_and_distinct_count(ks4, capsys):
    rc, d, _ = cli(capsys, ks4, "--qi", "region,sex", "--sensitive", "sen_primary_need,fsm",
                   "--special-category", "sen_primary_need", "--tier", "attainment8=3")
    frame = pd.read_csv(ks4)
    cols = {c["name"]: c for c in d["columns"]}
    assert list(cols) == list(frame.columns)
    assert cols["sen_primary_need"]["role"] == "sensitive" and cols["sen_primary_need"]["special_category"]
    assert cols["sen_primary_need"]["tier"] == 1 and cols["sen_primary_need"]["tier_from"] == "profile"
    assert cols["attainment8"]["tier"] == 3 and cols["attainment8"]["tier_from"] == "declared"
    assert cols["sex"]["role"] == "key variable" and cols["ks2_maths"]["role"] == "other"
    for name, c in cols.items():
        assert c["distinct"] == frame[name].nunique()
    # la_code refines region (each local authority lies in one region): flagged and used
    assert cols["la_code"]["role"] == "key variable"
    assert any("refines key variable(s) region" in f for f in cols["la_code"]["flags"])
    assert d["scenarios"][0]["quasi_identifiers"] == ["la_code", "sex"]
    assert d["scenarios"][0]["refined"] == {"region": "la_code"}


@pytest.fixture(scope="module")
def ks4_dob(tmp_path_factory):
    """The demo's kind of extract: the full date of birth beside birth month and year."""
    d = tmp_path_factory.mktemp("dob")
    ex = extract(make_population(20_000, seed=5), "ks4", include_date_of_birth=True,
                 include_direct_identifiers=False)
    ex.data.to_csv(d / "ks4dob.csv", index=False)
    return d / "ks4dob.csv"


def test_date_of_birth_is_assessed_when_the_file_holds_it(ks4_dob, capsys):
    key = "urn,sex,birth_month,birth_year,ethnicity_major"
    rc, d, err = cli(capsys, ks4_dob, "--qi", key, "--remove", "ethnicity_minor")
    frame = pd.read_csv(ks4_dob)
    sc = d["scenarios"][0]
    assert sc["quasi_identifiers"] == ["urn", "sex", "date_of_birth", "ethnicity_major"]
    assert sc["refined"] == {"birth_month": "date_of_birth", "birth_year": "date_of_birth"}
    uniques = int((frame.groupby(["urn", "sex", "date_of_birth", "ethnicity_major"]).size() == 1).sum())
    assert sc["measures"]["k_anonymity"]["n1"] == uniques
    assert any("date_of_birth for birth_month" in w for w in d["warnings"])
    # declared removed: the key the scenario names is assessed, and the column is listed as removed
    rc, d2, _ = cli(capsys, ks4_dob, "--qi", key, "--remove", "ethnicity_minor,date_of_birth")
    assert d2["scenarios"][0]["quasi_identifiers"] == ["urn", "sex", "birth_month", "birth_year", "ethnicity_major"]
    dob = [c for c in d2["columns"] if c["name"] == "date_of_birth"][0]
    assert dob["removed"] is True
    r = idrisk.assess(ks4_dob, quasi_identifiers=key.split(","), removed=["ethnicity_minor"], progress=False)
    assert r.scenarios[0].quasi_identifiers == sc["quasi_identifiers"]
    assert r.scenarios[0].measures["k_anonymity"].n1 == uniques > 0.5 * len(frame)


# -- direct identifiers by content ------------------------------------------------------------------
def _with_identifiers(n=200, seed=1):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": np.repeat(["x", "y"], n // 2), "b": np.tile(np.repeat(["p", "q"], n // 4), 2),
                       "grade": np.tile(["g1", "g2", "g3", "g4"], n // 4)})
    digits = rng.integers(0, 10, size=(n, 9))
    w = np.arange(10, 1, -1)
    check = (11 - (digits * w).sum(axis=1) % 11) % 11
    ok = check != 10
    digits, check = digits[ok][: n], check[ok][: n]
    while len(digits) < n:  # top up (a check digit of 10 is not a valid NHS number)
        digits, check = np.vstack([digits, digits[:1]]), np.append(check, check[0])
    idx = np.arange(n)
    df["email_address"] = [f"pupil{i}.x@school{i % 7}.sch.uk" for i in idx]
    df["phone_number"] = [f"07700 {900000 + 37 * i:06d}" for i in idx]
    df["nhs_no"] = ["".join(map(str, r)) + str(c) for r, c in zip(digits, check)]
    df["student_ref"] = [f"S{(i * 7919) % 100003:06d}X" for i in idx]
    df["home_address"] = [f"{i + 1} Acacia Avenue, Leeds" for i in idx]
    return df


IDS = ["email_address", "phone_number", "nhs_no", "student_ref", "home_address"]


def test_identifiers_found_by_content_force_controlled(tmp_path, capsys):
    df = _with_identifiers()
    path = tmp_path / "ids.csv"
    df.to_csv(path, index=False)
    args = [path, "--qi", "a,b", "--special-category", "grade", "--tier", "grade=3", "--census"]
    rc, d, err = cli(capsys, *args)
    (di,) = by_id(d, "direct_identifiers")
    assert di["value"] == 5 and di["holds"] is False
    assert rc == 1 and d["route"]["recommended"] == "controlled"
    flags = {c["name"]: " ".join(c["flags"]) for c in d["columns"]}
    assert "e-mail addresses" in flags["email_address"] and "telephone" in flags["phone_number"]
    assert "10-digit" in flags["nhs_no"] and "near-unique text" in flags["student_ref"]
    assert "street addresses" in flags["home_address"]
    assert {c["name"] for c in d["columns"] if c["role"] == "direct identifier"} == set(IDS)
    text = json.dumps(d) + err
    for col in IDS:  # nothing of their values is printed
        for v in df[col].head(50):
            assert str(v) not in text
    # removed, or declared non-identifying, they stop forcing controlled
    rc, d, _ = cli(capsys, *args, "--remove", ",".join(IDS))
    assert rc == 0 and d["route"]["recommended"] == "safeguarded"
    rc, d, _ = cli(capsys, *args, "--non-identifying", ",".join(IDS))
    assert rc == 0 and d["route"]["recommended"] == "safeguarded"
    r = idrisk.assess(df, quasi_identifiers=["a", "b"], sensitive={"grade": {"tier": 3, "special_category": True}},
                      census=True, progress=False)
    assert r.route.recommended == "controlled" and sorted(r.content.direct_identifiers_present) == sorted(IDS)


# -- assumptions are declared or shown --------------------------------------------------------------
@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    """UCI adult (a survey sample, with its weights in fnlwgt), first 6,000 rows, as a CSV."""
    from idrisk.datasets.public import load_public

    path = tmp_path_factory.mktemp("adult") / "adult.csv"
    load_public("uci_adult").head(6000).to_csv(path, index=False)
    return path


ADULT = ["--qi", "age,sex,race,marital-status", "--sensitive", "income", "--profile", "generic"]


def test_a_census_not_declared_is_an_assumption_shown_everywhere(adult, capsys, tmp_path):
    rc, d, err = cli(capsys, adult, *ADULT, "--report", tmp_path / "a.html")
    a = {x["id"]: x for x in d["assumptions"]}
    assert a["census"] == {"id": "census", "value": True, "declared": False, "effect": a["census"]["effect"]}
    assert "declare --census" in a["census"]["effect"]
    # its effect: were the file a 10% sample, a sample unique (f = 1, F = 10, p = 0.1) has the
    # Benedetti-Franconi risk p / (1 - p) * ln(1 / p) instead of 1
    import math

    assert f"would be {0.1 / 0.9 * math.log(10):.3g} instead of 1" in a["census"]["effect"]
    assert a["population_size"]["declared"] is False and a["population_size"]["value"] == 6000
    assert "census or sample not declared" in err  # warned on stderr
    assert any("census or sample not declared" in w for w in d["warnings"])
    html = (tmp_path / "a.html").read_text()
    assert "an assumption, not declared" in html and "every member of the population is in the file" not in html
    # declared: with its weights the file is a sample; with --census a declared census
    rc, d, err = cli(capsys, adult, *ADULT, "--weights", "fnlwgt")
    a = {x["id"]: x for x in d["assumptions"]}
    assert a["census"]["value"] is False and a["census"]["declared"] is True
    assert "census or sample not declared" not in err
    rc, d, _ = cli(capsys, adult, *ADULT, "--census")
    assert {x["id"]: x["declared"] for x in d["assumptions"]}["census"] is True
    r = idrisk.assess(adult, quasi_identifiers=["age", "sex"], sensitive=["income"], profile="generic",
                      progress=False)
    assert [(x.id, x.declared) for x in r.assumptions][0] == ("census", False)
    assert "assumed: not declared" in r.summary()


# -- intruders keep their teeth ---------------------------------------------------------------------
def test_a_preset_on_variables_the_extract_lacks_knows_the_scenario_key(tmp_path, capsys):
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame({"area": rng.integers(0, 20, n), "age": rng.integers(10, 20, n),
                       "sex": rng.choice(["F", "M"], n), "grade": rng.choice(["g1", "g2", "g3"], n)})
    df.to_csv(tmp_path / "t.csv", index=False)
    # hand count: records alone on (area, age, sex) are what a key-holding intruder can claim
    uniques = int((df.groupby(["area", "age", "sex"]).size() == 1).sum())
    assert uniques > 0
    cfg = tmp_path / "t.toml"
    cfg.write_text('[extract]\npath = "t.csv"\ncensus = true\n[[scenario]]\nname = "bulk"\n'
                   'quasi_identifiers = ["area", "age", "sex"]\nintruder = "bulk_linkage"\n'
                   '[sensitive]\ngrade = { tier = 3 }\n')
    rc, d, _ = cli(capsys, cfg)
    it = d["scenarios"][0]["measures"]["intruder"]
    # the preset's la_code, postcode_district, date_of_birth, ethnicity_major are not in the file
    assert sorted(it["dropped_variables"]) == ["date_of_birth", "ethnicity_major", "la_code", "postcode_district"]
    assert sorted(it["known_variables"]) == ["age", "area", "sex"]  # not cut to ['sex']
    assert it["correct_claims"] > 0
    (ind,) = by_id(d, "intruder_claims")
    assert ind["holds"] is False
    assert any("dropped: la_code, postcode_district, date_of_birth, ethnicity_major" in w for w in d["warnings"])
    r = idrisk.assess(cfg, progress=False)
    assert sorted(r.scenarios[0].measures["intruder"].known_variables) == ["age", "area", "sex"]


# -- attribute disclosure for every sensitive column ------------------------------------------------
def _homogeneous_share(df, key, col):
    per = df.groupby(key, dropna=False)[col].transform(lambda s: s.nunique(dropna=False))
    return float((per == 1).mean())


def test_homogeneous_classes_reported_for_every_sensitive_column(adult, ks4, capsys):
    rc, d, _ = cli(capsys, adult, *ADULT, "--tier", "income=2")
    df = pd.read_csv(adult)
    (hs,) = by_id(d, "homogeneous_share")
    expected = _homogeneous_share(df, ["age", "sex", "race", "marital-status"], "income")
    assert hs["value"] == pytest.approx(expected, abs=1e-12) and expected > 0.2
    assert hs["holds"] is False and d["route"]["recommended"] != "safeguarded"
    ld = d["scenarios"][0]["measures"]["l_diversity"]["income"]
    assert 1 <= ld["min_distinct_l"] <= ld["n_values"] == 2
    # FSM (not a special category) in the KS4 file, and a sensitive column in the key
    rc, d, _ = cli(capsys, ks4, "--qi", "urn,sex,birth_month,ethnicity_major,fsm", "--sensitive", "fsm,eal",
                   "--remove", "ethnicity_minor")
    inds = {i["label"].split(" on [")[0]: i for i in by_id(d, "homogeneous_share")}
    fsm = inds["Share of records in classes where everyone has the same fsm"]
    assert fsm["holds"] is None and "fsm is in the key" in fsm["not_assessed_reason"]
    eal = inds["Share of records in classes where everyone has the same eal"]
    frame = pd.read_csv(ks4)
    assert eal["value"] == pytest.approx(_homogeneous_share(
        frame, ["urn", "sex", "birth_month", "ethnicity_major", "fsm"], "eal"), abs=1e-12)
    r = idrisk.assess(ks4, quasi_identifiers=["urn", "sex"], sensitive=["fsm"], removed=["ethnicity_minor"],
                      progress=False)
    share = r.scenarios[0].measures["l_diversity"]["fsm"].homogeneous_share
    assert share == pytest.approx(_homogeneous_share(frame, ["urn", "sex"], "fsm"), abs=1e-12)


# -- uncertainty: intruder figures over seeded runs -------------------------------------------------
def test_intruder_figures_come_from_five_seeded_runs(ks4, capsys, tmp_path):
    cfg = tmp_path / "nn.toml"
    cfg.write_text(f'[extract]\npath = "{ks4}"\ncensus = true\nremoved = ["ethnicity_minor"]\n'
                   '[[scenario]]\nname = "nosy neighbour"\n'
                   'quasi_identifiers = ["urn", "sex", "birth_month", "birth_year", "ethnicity_major"]\n'
                   'intruder = "nosy_neighbour"\n[analysis]\nseed = 11\nintruder_targets = 300\n')
    rc, d, _ = cli(capsys, cfg)
    it = d["scenarios"][0]["measures"]["intruder"]
    assert [r["seed"] for r in it["runs"]] == [11, 12, 13, 14, 15]
    at = [r["correct_claims_at_confidence"] for r in it["runs"]]
    assert it["correct_claims_at_confidence"] == max(at)  # the route uses the high end
    sp = it["correct_claims_at_confidence_spread"]
    assert (sp["median"], sp["low"], sp["high"]) == (float(np.median(at)), float(min(at)), float(max(at)))
    cc = [r["correct_claims"] for r in it["runs"]]
    assert it["correct_claims_spread"]["high"] == max(cc) and it["correct_claims"] == cc[0]
    assert len(set(cc)) > 1  # the seeds give different draws
    # each run is the single run of its seed
    one = idrisk.assess(cfg, intruder_runs=1, seed=13, progress=False).scenarios[0].measures["intruder"]
    assert one.correct_claims == cc[2] and len(one.runs) == 1


# -- the panel report -------------------------------------------------------------------------------
def test_panel_report_first_page_in_plain_words(ks4, capsys, tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[extract]\npath = "{ks4}"\ncensus = true\nname = "KS4 request"\nreference = "DR-2024-0183"\n'
                   'assessor = "A. Analyst"\ndate = "2024-06-01"\n'
                   '[[scenario]]\nname = "nosy neighbour"\n'
                   'quasi_identifiers = ["urn", "sex", "birth_month", "birth_year", "ethnicity_major"]\n'
                   'intruder = "nosy_neighbour"\n[sensitive]\nfsm = {}\n'
                   'sen_primary_need = { special_category = true }\n'
                   '[analysis]\nintruder_targets = 200\n')
    rep, out = tmp_path / "p.html", tmp_path / "p.json"
    rc = main(["assess", str(cfg), "--report", str(rep), "--output", str(out), "--no-progress"])
    capsys.readouterr()
    d = json.loads(out.read_text())
    html = rep.read_text()
    first = html[:html.index('<nav class="toc"')]
    assert "Recommended route: Refer back" in first or "Recommended route: Controlled" in first
    for fact in ("DR-2024-0183", "A. Analyst", "2024-06-01"):
        assert fact in first
    k = d["scenarios"][0]["measures"]["k_anonymity"]
    n = d["meta"]["n_records"]
    # the sample uniques as a statement about pupils, with their share (hand check of the words)
    assert (f"{k['n1']:,} pupils ({100 * k['n1'] / n:.0f}%) are the only pupil in the file with their school, sex, "
            "month of birth, year of birth and detailed ethnic group") in first
    assert "free school meals status" in first and "Expected re-identifications" not in first
    # sections in order; technical tables only in the appendix
    order = ['id="verdict"', 'id="mitigations"', 'id="columns"', 'id="assumptions"', 'id="five-safes"',
             'id="intruder-setup"', 'id="reasons"', 'id="indicators"', 'id="risk"', 'id="provenance"']
    pos = [html.index(x) for x in order]
    assert pos == sorted(pos)
    assert "The panel&#39;s own conditions" in html or "The panel's own conditions" in html
    setup = html[html.index('id="intruder-setup"'):html.index('id="reasons"')]
    assert "wrong for 10%" in setup and "knows that the person is in the file" in setup and "200 pupils" in setup
    assert "counter(page)" in html and "break-after: page" in html
    assert "<pre>" not in html  # no raw configuration
    # the same inputs give the same bytes
    rep2 = tmp_path / "p2.html"
    assert main(["report", str(out), "--report", str(rep2)]) == 0
    assert rep2.read_text() == html


def test_a_sample_shows_the_spread_of_population_uniqueness_estimators(adult, capsys, tmp_path):
    rep = tmp_path / "s.html"
    rc, d, _ = cli(capsys, adult, *ADULT, "--weights", "fnlwgt", "--non-identifying", "fnlwgt",
                   "--report", rep)
    pu = d["scenarios"][0]["measures"]["population_uniqueness"]
    est = {m: pu[m] for m in ("zayatz", "pitman", "snb", "dankar") if pu[m] is not None}
    assert len(est) >= 2
    lo, hi = min(est, key=est.get), max(est, key=est.get)
    html = rep.read_text()
    assert (f"between {est[lo]:,.0f} ({lo.capitalize()}) and {est[hi]:,.0f} ({hi.capitalize()}) people are "
            "estimated to be unique in the whole population") in html
    assert d["route"]["recommended"] != "safeguarded"  # income homogeneous classes, tier not declared


def test_an_age_beside_its_age_band_is_assessed_generic_profile():
    rng = np.random.default_rng(2)
    age = rng.integers(16, 90, 600)
    df = pd.DataFrame({"age": age, "age_band": (age // 10) * 10, "sex": rng.choice(["F", "M"], 600),
                       "y": rng.choice(["u", "v"], 600)})
    r = idrisk.assess(df, quasi_identifiers=["age_band", "sex"], sensitive={"y": {"tier": 3}}, profile="generic",
                      census=True, progress=False, mitigations=False)
    assert r.scenarios[0].quasi_identifiers == ["age", "sex"] and r.scenarios[0].refined == {"age_band": "age"}
    assert r.scenarios[0].measures["k_anonymity"].n_classes == df.groupby(["age", "sex"]).ngroups
    # a band that the column does not determine (noise in 5% of records) is not a refinement
    df.loc[df.index[:30], "age_band"] = 0
    r = idrisk.assess(df, quasi_identifiers=["age_band", "sex"], sensitive={"y": {"tier": 3}}, profile="generic",
                      census=True, progress=False, mitigations=False)
    assert r.scenarios[0].quasi_identifiers == ["age_band", "sex"]


def test_the_schema_says_holds_may_be_null_and_lists_columns_and_assumptions():
    from idrisk.assessment.schema import SCHEMA

    defs = SCHEMA["$defs"]
    assert {"route", "indicators", "columns", "assumptions"} <= set(SCHEMA["required"])
    assert set(defs["Indicator"]["properties"]["holds"]["type"]) == {"boolean", "null"}
    assert {"name", "role", "tier", "special_category", "flags", "distinct"} <= set(defs["ColumnInfo"]["required"])
    assert {"id", "value", "declared"} <= set(defs["Assumption"]["required"])


def test_new_configuration_fields_round_trip_through_toml_and_dict():
    import tomllib

    from idrisk.assessment import AssessmentConfig, config_from_dict

    c = AssessmentConfig(scenarios=[["a"]], removed=["x"], non_identifying=["y"], reference="R1", assessor="A",
                         date="2024-01-01", intruder_runs=3, thresholds={"max_homogeneous_share": 0.05})
    assert config_from_dict(tomllib.loads(c.to_toml())) == c
    assert config_from_dict(c.to_dict()) == c
    assert c.to_dict()["removed"] == ["x"] and c.to_dict()["reference"] == "R1"
    assert "removed" not in AssessmentConfig(scenarios=[["a"]]).to_dict()  # written when given
