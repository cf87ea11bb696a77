"""idrisk.assess: configuration, file reading, indicators, route, mitigations, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.assessment import AssessmentConfig, AssessmentResult, load_config, what_if
from idrisk.assessment import measures as measures_mod
from idrisk.assessment.io import read_extract, sniff_format
from idrisk.assessment.schema import SCHEMA, schema_errors
from idrisk.exceptions import DataValidationError, InvalidParameterError, RiskThresholdExceeded

ROOT = Path(__file__).resolve().parents[1]


def safe_frame(n_per_class=50, seed=0):
    """4 classes of ``n_per_class`` on (a, b); sensitive s has 3 values in every class."""
    rng = np.random.default_rng(seed)
    a = np.repeat(["x", "y"], 2 * n_per_class)
    b = np.tile(np.repeat(["p", "q"], n_per_class), 2)
    s = np.tile(["s1", "s2", "s3"], 4 * n_per_class)[: 4 * n_per_class]
    rng.shuffle(s)
    return pd.DataFrame({"a": a, "b": b, "s": s}, index=pd.RangeIndex(100, 100 + 4 * n_per_class))


def risky_frame():
    """Hand-checkable: on (sex, yob) the class sizes are 5, 3, 1, 1 (n = 10)."""
    return pd.DataFrame({
        "id": [f"P{i:03d}" for i in range(10)],
        "sex": ["F"] * 5 + ["M"] * 3 + ["F", "M"],
        "yob": [2010] * 5 + [2011] * 3 + [2012, 2013],
        "grade": ["A", "B", "A", "C", "B", "A", "A", "A", "B", "C"],
    })


SENS = {"s": {"tier": 3, "special_category": True}}


@pytest.fixture(scope="module")
def safe_result():
    return idrisk.assess(safe_frame(), quasi_identifiers=["a", "b"], sensitive=SENS, progress=False)


@pytest.fixture(scope="module")
def risky_result():
    return idrisk.assess(risky_frame(), quasi_identifiers=["sex", "yob"], direct_identifiers=["id"],
                         sensitive={"grade": {"tier": 3, "special_category": True}}, progress=False)


# -- frequency indicators against hand computation -----------------------------------------------
def test_risky_frequency_numbers_by_hand(risky_result):
    k = risky_result.scenarios[0].measures["k_anonymity"]
    # classes: (F,2010)=5, (M,2011)=3, (F,2012)=1, (M,2013)=1
    assert k.min_class_size == 1
    assert k.n1 == 2 and k.n2 == 0
    assert k.records_below_k == {2: 2, 3: 2, 5: 5, 10: 10}
    assert k.sample_unique_share == pytest.approx(0.2)
    r = risky_result.scenarios[0].measures["individual_risk"]
    # census prosecutor risk 1/fk: 5 * 1/5 + 3 * 1/3 + 1 + 1 = 4 expected re-identifications
    assert r.max_risk == 1.0
    assert r.expected_reidentifications == pytest.approx(4.0)
    assert r.mean_risk == pytest.approx(0.4)


def test_risky_route_and_breaches(risky_result):
    ind = {i.id: i for i in risky_result.indicators if i.scenario == "main"}
    assert ind["min_k"].holds is False and ind["min_k"].value == 1
    assert ind["min_k"].basis == "guidance"
    assert ind["sample_unique_share"].holds is False
    assert ind["max_individual_risk"].value == 1.0
    assert risky_result.route.recommended in ("controlled", "refer back")
    assert risky_result.route.underlying == "controlled"
    assert not risky_result.passed
    with pytest.raises(RiskThresholdExceeded) as ei:
        risky_result.check()
    assert ei.value.breaches
    risky_result.check("refer back")  # a policy that accepts anything does not raise


def test_safe_extract_is_safeguarded(safe_result):
    r = safe_result
    assert r.scenarios[0].measures["k_anonymity"].min_class_size == 50
    assert r.scenarios[0].measures["individual_risk"].max_risk == pytest.approx(0.02)
    assert r.route.recommended == "safeguarded", r.summary()
    assert r.score.score == 0
    assert r.passed
    assert r.check() is r
    with pytest.raises(RiskThresholdExceeded):
        r.check("open")  # record-level data never meets an open policy
    with pytest.raises(RiskThresholdExceeded):
        r.check({"min_k": 60})  # classes of 50 fail a stricter board threshold
    r.check({"min_k": 50})


def test_content_flags_force_controlled():
    r = idrisk.assess(safe_frame(), quasi_identifiers=["a", "b"],
                      sensitive={"s": {"tier": 1, "special_category": True}}, flags={"social_care": True},
                      progress=False, mitigations=False)
    forced = {i.id for i in r.indicators if i.effect == "forces controlled" and i.holds is False}
    assert forced == {"tier", "social_care"}
    assert r.route.recommended == "controlled"
    assert r.score.content_flags_raised == 2


def test_small_area_geography_detected_in_census():
    df = safe_frame().assign(lsoa=np.repeat(["E01", "E02"], 100))
    r = idrisk.assess(df, quasi_identifiers=["a", "b"], progress=False, mitigations=False)
    ind = {i.id: i for i in r.indicators}
    assert ind["small_area_geography"].holds is False
    assert r.route.recommended == "controlled"


def test_measure_not_computed_is_not_assessed_and_blocks_safeguarded(monkeypatch):
    def out_of_memory(*a, **k):
        raise MemoryError("the MSU search needs 40 GB")

    monkeypatch.setattr(measures_mod, "suda", out_of_memory)
    r = idrisk.assess(safe_frame(), quasi_identifiers=["a", "b"], sensitive=SENS, progress=False)
    ind = {i.id: i for i in r.indicators}
    assert ind["special_uniques"].holds is None
    # the exception's text is not published (it could quote a record), its type and columns are
    assert "MemoryError on column(s) a, b" in ind["special_uniques"].not_assessed_reason
    assert r.route.recommended == "controlled"
    assert r.score.conditions_not_assessed == 1
    assert not r.passed


def test_import_error_in_a_measure_surfaces(monkeypatch):
    # a broken installation must fail loudly, never read "not computed" in a board report
    def broken(*a, **k):
        raise ImportError("numba is not installed")

    monkeypatch.setattr(measures_mod, "suda", broken)
    with pytest.raises(ImportError, match="numba"):
        idrisk.assess(safe_frame(), quasi_identifiers=["a", "b"], progress=False)


def test_failing_measure_is_recorded_not_hidden(monkeypatch):
    def boom(*a, **k):
        raise ValueError("synthetic failure")

    monkeypatch.setattr(measures_mod, "l_diversity", boom)
    r = idrisk.assess(safe_frame(), quasi_identifiers=["a", "b"], sensitive=SENS, progress=False,
                      mitigations=False)
    assert r.scenarios[0].not_computed["l_diversity"] == "ValueError on column(s) a, b, s"
    assert {i.id: i for i in r.indicators}["distinct_l"].holds is None


def test_homogeneous_special_category_class_breaches():
    df = safe_frame()
    df.loc[(df.a == "x") & (df.b == "p"), "s"] = "s1"  # one class where everyone has s1
    r = idrisk.assess(df, quasi_identifiers=["a", "b"], sensitive=SENS, progress=False, mitigations=False)
    ind = {i.id: i for i in r.indicators}
    assert ind["distinct_l"].value == 1 and ind["distinct_l"].holds is False
    assert r.scenarios[0].measures["l_diversity"]["s"].records_in_homogeneous_classes == 50



@pytest.mark.parametrize("missing", ["category", "wildcard"])
def test_missing_sensitive_values_are_one_value_in_the_assessment(missing):
    """A class whose sensitive values are all missing (no SEN need recorded) is homogeneous:
    the assessment reads a missing sensitive value as one value, not as sdcMicro's "each NA a new
    value" (which would call it 50-diverse). Under the wildcard rule for keys, l-diversity groups
    a missing key value as one more category (the class of blanked records) instead of refusing."""
    df = safe_frame()
    df["s"] = df["s"].astype(object)
    df.loc[(df.a == "x") & (df.b == "p"), "s"] = None
    df.loc[df.index[:4], "a"] = None  # four records with a blank key cell: one class of their own
    r = idrisk.assess(df, quasi_identifiers=["a", "b"], sensitive=SENS, missing=missing, progress=False,
                      mitigations=False)
    ld = r.scenarios[0].measures["l_diversity"]["s"]
    blank = df.a.isna()
    hand = df.assign(a=df.a.fillna("?")).groupby(["a", "b"])["s"].transform(lambda v: v.fillna("NA").nunique())
    assert ld.min_distinct_l == hand.min() == 1
    # the 46 left of the all-missing class and the 4 blanked records (their own class, all missing too)
    assert ld.records_in_homogeneous_classes == int((hand == 1).sum()) == 50
    assert ld.n_values == df["s"].nunique(dropna=False)
    assert blank.sum() == 4 and "l_diversity" not in r.scenarios[0].not_computed


# -- inputs ---------------------------------------------------------------------------------------
def test_input_frame_not_modified(risky_result):
    df = risky_frame()
    before = df.copy(deep=True)
    idrisk.assess(df, quasi_identifiers=["sex", "yob"], direct_identifiers=["id"], progress=False)
    pd.testing.assert_frame_equal(df, before)


def test_bad_inputs_are_clear():
    df = risky_frame()
    with pytest.raises(DataValidationError, match="nope.*zilch|zilch.*nope"):
        idrisk.assess(df, quasi_identifiers=["sex", "nope", "zilch"], progress=False)
    with pytest.raises(InvalidParameterError, match="quasi_identifiers"):
        idrisk.assess(df, progress=False)
    with pytest.raises(DataValidationError, match="both direct identifier"):
        idrisk.assess(df, quasi_identifiers=["sex", "id"], direct_identifiers=["id"], progress=False)
    with pytest.raises(DataValidationError, match="smaller than the extract"):
        idrisk.assess(df, quasi_identifiers=["sex"], population_size=5, progress=False)
    with pytest.raises(InvalidParameterError, match="either weights or population_size"):
        idrisk.assess(df, quasi_identifiers=["sex"], population_size=50, weights="yob", progress=False)
    with pytest.raises(InvalidParameterError, match="unknown option"):
        idrisk.assess(df, quasi_identifiers=["sex"], colour="blue", progress=False)


def test_direct_identifier_lookalike_is_flagged():
    df = risky_frame().rename(columns={"id": "UPN"})
    with pytest.warns(idrisk.IdentifierWarning, match="UPN"):
        r = idrisk.assess(df, quasi_identifiers=["sex", "yob"], progress=False, mitigations=False)
    ind = {i.id: i for i in r.indicators}
    assert ind["direct_identifiers"].holds is False
    assert r.content.direct_identifiers_present == ["UPN"]


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet", "dta", "sav"])
def test_reads_every_format(tmp_path, fmt):
    df = risky_frame()
    p = tmp_path / f"x.{fmt}"
    if fmt.startswith("csv"):
        df.to_csv(p, index=False)
    elif fmt == "parquet":
        df.to_parquet(p)
    elif fmt == "dta":
        df.to_stata(p, write_index=False)
    else:
        import pyreadstat

        pyreadstat.write_sav(df, str(p))
    back = read_extract(p)
    assert list(back.columns) == list(df.columns)
    assert back["sex"].tolist() == df["sex"].tolist()
    assert [int(v) for v in back["yob"]] == df["yob"].tolist()


@pytest.mark.parametrize("real, claimed", [("parquet", "csv"), ("csv", "parquet"), ("csv", "dta"),
                                           ("parquet", "sav"), ("csv", "csv.gz")])
def test_extension_content_mismatch(tmp_path, real, claimed):
    df = risky_frame()
    src = tmp_path / f"real.{real}"
    df.to_parquet(src) if real == "parquet" else df.to_csv(src, index=False)
    p = tmp_path / f"lie.{claimed}"
    p.write_bytes(src.read_bytes())
    with pytest.raises(DataValidationError, match="extension says"):
        read_extract(p)


def test_sniff_html_and_unsupported(tmp_path):
    p = tmp_path / "page.csv"
    p.write_text("<!DOCTYPE html><html><body>404</body></html>")
    assert sniff_format(p) == "html"
    with pytest.raises(DataValidationError, match="HTML"):
        read_extract(p)
    q = tmp_path / "data.xlsx"
    q.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataValidationError, match="unsupported"):
        read_extract(q)


# -- config -----------------------------------------------------------------------------------------
CONFIG = """
[extract]
path = "pupils.csv"
name = "toy"
direct_identifiers = ["id"]

[[scenario]]
name = "neighbour"
quasi_identifiers = ["sex", "yob"]

[sensitive]
grade = { tier = 3, special_category = true }

[thresholds]
min_k = 3

[analysis]
seed = 7
max_msu_size = 2
"""


def test_toml_config_and_path_resolution(tmp_path):
    risky_frame().to_csv(tmp_path / "pupils.csv", index=False)
    (tmp_path / "a.toml").write_text(CONFIG)
    cfg = load_config(tmp_path / "a.toml")
    assert cfg.thresholds.min_k == 3 and cfg.seed == 7 and cfg.max_msu_size == 2
    assert cfg.sensitive[0].special_category and cfg.sensitive[0].tier == 3
    assert cfg.is_census
    r = idrisk.assess(tmp_path / "a.toml", progress=False)
    assert r.meta.fingerprint_of == "file"
    import hashlib

    assert r.meta.fingerprint_sha256 == hashlib.sha256((tmp_path / "pupils.csv").read_bytes()).hexdigest()
    assert r.config["thresholds"]["min_k"] == 3
    assert {i.id: i for i in r.indicators}["min_k"].threshold == 3
    # the same config as a dataclass gives the same JSON
    r2 = idrisk.assess(AssessmentConfig(
        scenarios=[{"name": "neighbour", "quasi_identifiers": ["sex", "yob"]}], data=str(tmp_path / "pupils.csv"),
        name="toy", direct_identifiers=["id"], sensitive={"grade": {"tier": 3, "special_category": True}},
        thresholds={"min_k": 3}, seed=7, max_msu_size=2), progress=False)
    assert r2.to_json() == r.to_json()


@pytest.mark.parametrize("bad, match", [
    ("[extract]\npath='x.csv'\n", "at least one"),
    ("[extrakt]\n", "unknown section"),
    ("[[scenario]]\nquasi_identifiers=['a']\n[sensitive]\ns={tier=7}\n", "tier must be"),
    ("[[scenario]]\nquasi_identifiers=['a']\n[thresholds]\nmin_kay=3\n", "unknown threshold"),
    ("[[scenario]]\nquasi_identifiers=[]\n", "non-empty list"),
    ("[[scenario]]\nquasi_identifiers=['a']\n[flags]\nspooky=true\n", "unknown flag"),
    ("[[scenario]\n", "not a valid TOML"),
])
def test_bad_config(tmp_path, bad, match):
    p = tmp_path / "bad.toml"
    p.write_text(bad)
    with pytest.raises(InvalidParameterError, match=match):
        load_config(p)


# -- result -----------------------------------------------------------------------------------------
def test_json_validates_and_round_trips(risky_result, safe_result, tmp_path):
    for r in (risky_result, safe_result):
        d = json.loads(r.to_json())
        assert schema_errors(d) == []
        again = AssessmentResult.from_dict(d)
        assert again.to_json() == r.to_json()
    d = json.loads(risky_result.to_json())
    d["route"]["recommended"] = "probably fine"
    del d["meta"]["n_records"]
    errs = schema_errors(d)
    assert any("probably fine" in e for e in errs) and any("n_records" in e for e in errs)
    p = tmp_path / "r.json"
    risky_result.to_json(p)
    with pytest.raises(FileExistsError):
        risky_result.to_json(p)


def test_schema_file_is_the_schema():
    on_disk = json.loads((ROOT / "docs" / "report-schema.json").read_text())
    assert on_disk == json.loads(json.dumps(SCHEMA))


def test_same_inputs_and_seed_give_identical_json():
    df = risky_frame()
    kw = dict(quasi_identifiers=["sex", "yob"], direct_identifiers=["id"], seed=3, progress=False,
              sensitive={"grade": {"tier": 3}})
    a = idrisk.assess(df, **kw).to_json()
    b = idrisk.assess(df.copy(), **kw).to_json()
    assert a == b


# -- mitigations ------------------------------------------------------------------------------------
def naive_at_risk(df, qis, k):
    if not qis:
        return len(df) if len(df) < k else 0
    sizes = df.groupby(qis, dropna=False, observed=True)[qis[0]].transform("size")
    return int((sizes < k).sum())


def test_what_if_matches_pandas_and_entropy_by_hand():
    df = pd.DataFrame({
        "eth_minor": ["WBRI", "WIRI", "WBRI", "BAFR", "BCRB", "WBRI", "WIRI", "BAFR"],
        "eth_major": ["W", "W", "W", "B", "B", "W", "W", "B"],
        "sex": ["F", "F", "M", "M", "F", "F", "M", "M"],
    })
    out = what_if(df, ["eth_minor", "sex"], k=2, groupings={"eth_minor": "eth_major"})
    assert out.before.at_risk == naive_at_risk(df, ["eth_minor", "sex"], 2)
    by = {c.description: c for c in out.candidates}
    g = by["eth_minor to eth_major"]
    assert g.at_risk == naive_at_risk(df, ["eth_major", "sex"], 2)
    # entropy by hand: minor (3/8 WBRI, 2/8 WIRI, 2/8 BAFR, 1/8 BCRB), major (5/8 W, 3/8 B)
    h = lambda p: -sum(x * np.log2(x) for x in p)
    h0, h1 = h([3 / 8, 2 / 8, 2 / 8, 1 / 8]), h([5 / 8, 3 / 8])
    assert g.information_lost == pytest.approx((h0 - h1) / h0)
    d = by["drop sex"]
    assert d.at_risk == naive_at_risk(df, ["eth_minor"], 2) and d.information_lost == 1.0
    effs = [c.efficiency if c.efficiency is not None else np.inf for c in out.candidates]
    assert effs == sorted(effs, reverse=True)
    assert [c.rank for c in out.candidates] == list(range(1, len(effs) + 1))


def test_what_if_geography_dates_topcoding():
    """Year 11 of the synthetic population (idrisk.datasets): pupils' LSOAs lie in their
    school's LA (mostly), months of birth span one academic year, Attainment 8 is skewed.

    At 6,000 pupils the generator gives one postcode district per LSOA, so the ladder goes
    from LSOA straight to LA here (district coarsening only bites from ~200k pupils).
    """
    from idrisk.datasets import make_population

    pop = make_population(6000, seed=1)
    df = pop.loc[pop["year_group"] == 11, ["lsoa", "la_code", "date_of_birth", "sex", "attainment8", "urn"]]
    df = df.rename(columns={"date_of_birth": "dob", "attainment8": "score"})
    assert len(df) > 300 and df["score"].notna().all()
    df["score"] = df["score"].astype("int64")  # nullable Int16: see test_what_if_topcoding_nullable_integer_scores
    df["dob"] = df["dob"].dt.to_period("M").dt.to_timestamp()  # month of birth, as a date
    before = df.copy(deep=True)
    qis = ["lsoa", "dob", "sex", "urn"]
    out = what_if(df, qis, k=5, geography=["lsoa", "la_code"])
    pd.testing.assert_frame_equal(df, before)
    at_risk = naive_at_risk(df, qis, 5)
    assert out.before.at_risk == at_risk > 0
    geo = next(c for c in out.candidates if c.kind == "geography up one level")
    assert geo.description == "lsoa to la_code"
    assert geo.at_risk == naive_at_risk(df.assign(lsoa=df["la_code"]), qis, 5) < at_risk
    yr = next(c for c in out.candidates if c.kind == "date to year")
    assert yr.at_risk == naive_at_risk(df.assign(dob=df["dob"].dt.year), qis, 5) < at_risk
    # top-coding: the score, not the school code
    qis = ["urn", "score"]
    out = what_if(df, qis, k=5)
    kinds = {(c.variable, c.kind) for c in out.candidates}
    assert ("score", "top-coding") in kinds
    assert ("urn", "top-coding") not in kinds  # a code, not a quantity
    top = next(c for c in out.candidates if c.kind == "top-coding")
    cut = df["score"].quantile(0.95)
    assert top.at_risk == naive_at_risk(df.assign(score=df["score"].clip(upper=cut)), qis, 5)
    assert top.at_risk < out.before.at_risk
    # the report never carries the top-coding cut value
    assert "95th percentile" in top.description and str(cut) not in top.description


def test_what_if_topcoding_nullable_integer_scores():
    # top-coding a nullable Int16 column: the 95th percentile can be fractional
    from idrisk.datasets import make_population

    pop = make_population(6000, seed=1)
    df = pop.loc[pop["year_group"] == 11, ["attainment8", "urn", "sex"]]
    out = what_if(df, ["attainment8", "urn", "sex"], k=5)
    top = next(c for c in out.candidates if c.kind == "top-coding")
    s = df["attainment8"].astype(float)
    assert top.at_risk == naive_at_risk(df.assign(attainment8=s.clip(upper=s.quantile(0.95))),
                                           ["attainment8", "urn", "sex"], 5)


def test_refer_back_when_one_coarsening_removes_most_risk():
    # 'detail' splits every safe class into singletons: dropping it removes all the risk
    df = safe_frame().assign(detail=np.arange(200))
    r = idrisk.assess(df, quasi_identifiers=["a", "b", "detail"], progress=False)
    assert r.route.recommended == "refer back"
    assert r.route.underlying == "controlled"
    drop = next(c for c in r.mitigations.candidates if c.description == "drop detail")
    assert drop.at_risk == 0 and drop.risk_removed_share == 1.0
    # top-coding 'detail' merges only the top 5%: less risk removed, but far less information lost
    top = next(c for c in r.mitigations.candidates if c.kind == "top-coding")
    assert top.risk_removed_share < drop.risk_removed_share
    assert top.information_lost < drop.information_lost


# -- what_if against the pandas reference on random frames ------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@pytest.mark.filterwarnings("ignore::idrisk.exceptions.DataQualityWarning")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), cards=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       miss=st.floats(0, 0.3), min_k=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_what_if_equals_pandas_on_random_frames(n, cards, miss, min_k, seed):
    rng = np.random.default_rng(seed)
    cols = {}
    for j, c in enumerate(cards):
        v = pd.Series(rng.integers(0, c, n).astype(str), dtype=object)
        v[rng.random(n) < miss] = None
        cols[f"q{j}"] = v
    df = pd.DataFrame(cols, index=rng.permutation(n) + 1000)  # non-default index
    qis = list(cols)
    before = df.copy(deep=True)
    out = what_if(df, qis, k=min_k)
    pd.testing.assert_frame_equal(df, before)
    assert out.before.at_risk == naive_at_risk(df, qis, min_k)
    for c in out.candidates:
        assert c.kind == "drop variable"
        rest = [q for q in qis if q != c.variable]
        assert c.at_risk == naive_at_risk(df, rest, min_k)
        sizes = df.groupby(rest, dropna=False)[rest[0]].transform("size") if rest else pd.Series([n] * n)
        assert c.sample_uniques == int((sizes == 1).sum())
        assert c.max_risk == pytest.approx(1.0 / sizes.min())


def test_tiers_of_quasi_identifiers_count():
    r = idrisk.assess(safe_frame(), quasi_identifiers=["a", "b"], tiers={"a": 1}, progress=False,
                      mitigations=False)
    ind = {i.id: i for i in r.indicators}
    assert ind["tier"].value == 1 and ind["tier"].holds is False
    assert "a" in ind["tier"].label and r.content.tier_1_2_columns == ["a"]
    with pytest.raises(InvalidParameterError, match="tier of 'b'"):
        AssessmentConfig(scenarios=[["a"]], tiers={"b": 9})


def test_assess_an_extract_uses_its_roles_and_tiers():
    from idrisk.datasets import extract, make_population

    ex = extract(make_population(3000, seed=2), "ks4")
    r = idrisk.assess(ex, progress=False, mitigations=False, max_msu_size=2, sweep_max_size=1)
    assert r.meta.direct_identifiers_dropped == ex.direct_identifiers
    # the extract's key, each key variable replaced by the finer column the file holds
    finer = r.scenarios[0].refined
    assert finer == {"region": "la_code", "ethnicity_major": "ethnicity_minor"}
    assert r.scenarios[0].quasi_identifiers == list(dict.fromkeys(finer.get(q, q) for q in ex.quasi_identifiers))
    assert r.content.highest_tier == min(ex.sensitive_tiers[c] for c in ex.data.columns
                                         if c in ex.sensitive_tiers and c not in ex.direct_identifiers)
    assert r.route.underlying == "controlled"
    js = r.to_json()
    assert not any(pid in js for pid in ex.data["pupil_id"].astype(str).head(50))


def test_docstring_examples_run():
    import doctest

    from idrisk.assessment import run

    res = doctest.testmod(run, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_intruder_preset_restricted_to_the_extract_columns():
    from idrisk.assessment.intruder_bridge import _restrict
    from idrisk.intruder import load_scenarios

    sc = load_scenarios("nosy_neighbour")[0]
    cols = {"urn", "sex", "date_of_birth", "ethnicity_major"}  # no year_group / postcode / SEN
    r = _restrict(sc, cols, cap=50, n=1000)
    assert list(r.quasi_identifiers) == [v for v in sc.quasi_identifiers if v in cols]
    assert set(r.error_rate) <= cols and set(r.missing_rate) <= cols
    assert all(set(p) <= cols for p in (r.blocking or []))
    assert r.targets == 50  # capped
    with pytest.raises(ValueError, match="none of the variables"):
        _restrict(sc, {"unrelated"}, cap=50, n=1000)
