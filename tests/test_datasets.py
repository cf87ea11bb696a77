"""Synthetic pupil population: contract, determinism, published marginals, consistency.

Expected values are DfE published figures (idrisk/datasets/_reference.py, sources in
datasets/README.md) with tolerances stated next to each check; consistency checks are
exact. One 100k-pupil population is shared by the module (about 0.5 s to build).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import idrisk.datasets as ds
from idrisk.datasets import _reference as R
from idrisk.datasets._sampling import calibrate_intercept, draw_by_group, expit, largest_remainder
from idrisk.exceptions import InvalidParameterError

import naive_datasets as naive

N = 100_000
SEED = 11


@pytest.fixture(scope="module")
def pop():
    return ds.make_population(N, seed=SEED)


# ---------------------------------------------------------------------------------------
# contract and determinism
# ---------------------------------------------------------------------------------------
def test_columns_and_dtypes(pop):
    assert tuple(pop.columns) == ds.POPULATION_COLUMNS
    assert len(pop) == N
    assert isinstance(pop.index, pd.RangeIndex)
    assert pop["pupil_id"].is_unique
    assert pop["pupil_id"].str.fullmatch(r"P\d{9}").all()
    for c in ("school_phase", "school_type", "la_code", "region", "sex", "ethnicity_minor",
              "ethnicity_major", "sen_provision", "sen_primary_need", "first_language", "lsoa",
              "postcode_district"):
        assert isinstance(pop[c].dtype, pd.CategoricalDtype), c
    assert pop["date_of_birth"].dtype == "datetime64[ns]"
    for c in ("fsm", "eal", "permanent_exclusion", "cin", "cla"):
        assert pop[c].dtype == bool, c
    assert str(pop["ks2_reading"].dtype) == "Int16"
    assert set(pop["sex"].cat.categories) == {"F", "M"}
    assert set(pop["sen_provision"].cat.categories) == {"N", "K", "E"}


def test_same_seed_same_frame_other_seed_differs():
    a = ds.make_population(3_000, seed=4)
    b = ds.make_population(3_000, seed=4)
    c = ds.make_population(3_000, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a["date_of_birth"].equals(c["date_of_birth"])
    pd.testing.assert_frame_equal(ds.make_schools(3_000, seed=4), ds.make_schools(3_000, seed=4))


@pytest.mark.parametrize("ext", ["parquet", "csv", "csv.gz"])
def test_write_population_identical_bytes(tmp_path, ext):
    p1 = ds.write_population(tmp_path / f"a.{ext}", 4_000, seed=2)
    p2 = ds.write_population(tmp_path / f"b.{ext}", 4_000, seed=2)
    p3 = ds.write_population(tmp_path / f"c.{ext}", 4_000, seed=3)
    assert p1.read_bytes() == p2.read_bytes()
    assert p1.read_bytes() != p3.read_bytes()
    back = pd.read_parquet(p1) if ext == "parquet" else pd.read_csv(p1)
    assert list(back.columns) == list(ds.POPULATION_COLUMNS)
    assert len(back) == 4_000
    if ext == "parquet":  # Parquet round-trips values (categoricals come back as categoricals)
        orig = ds.make_population(4_000, seed=2)
        pd.testing.assert_frame_equal(back.astype(object).where(back.notna(), None),
                                      orig.astype(object).where(orig.notna(), None),
                                      check_dtype=False)


def test_cli_main(tmp_path, capsys):
    out = tmp_path / "pupils.parquet"
    assert ds.main(["make", "--n", "2000", "--seed", "1", "--out", str(out)]) == 0
    assert len(pd.read_parquet(out)) == 2000
    # an existing file is refused by default, and by the old flag; --overwrite replaces it
    before = out.read_bytes()
    assert ds.main(["make", "--n", "2000", "--seed", "1", "--out", str(out)]) == 2
    assert ds.main(["make", "--n", "2000", "--seed", "1", "--out", str(out),
                    "--no-overwrite"]) == 2
    assert out.read_bytes() == before
    assert ds.main(["make", "--n", "1000", "--seed", "1", "--out", str(out), "--overwrite"]) == 0
    assert len(pd.read_parquet(out)) == 1000
    assert ds.main(["make", "--n", "2000", "--out", str(tmp_path / "x.txt")]) == 2
    assert ds.main(["make", "--n", "0", "--out", str(tmp_path / "y.csv")]) == 2
    assert ds.main(["make", "--out", "z.csv"]) == 2  # --n is required
    assert ds.main(["list"]) == 0
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "10", None, 30_000_000])
def test_bad_n(bad):
    with pytest.raises(InvalidParameterError):
        ds.make_population(bad)


@pytest.mark.parametrize("bad", [-1, 1.0, "a", True])
def test_bad_seed(bad):
    with pytest.raises(InvalidParameterError):
        ds.make_population(100, seed=bad)


@pytest.mark.parametrize("n", [1, 2, 7, 60, 999])
def test_tiny_populations(n):
    p = ds.make_population(n, seed=0)
    assert len(p) == n
    assert p["pupil_id"].is_unique
    s = ds.make_schools(n, seed=0)
    assert s["size"].sum() == n and (s["size"] >= 1).all()


# ---------------------------------------------------------------------------------------
# schools and geography
# ---------------------------------------------------------------------------------------
def test_schools_match_population(pop):
    s = ds.make_schools(N, seed=SEED)
    assert s["urn"].is_unique
    counts = pop.groupby("urn").size()
    assert counts.reindex(s["urn"]).to_numpy().tolist() == s["size"].tolist()
    # school counts are the national counts scaled by n / 8.5M (rounded, at least one)
    scale = N / R.NATIONAL_PUPILS
    per_phase = s["school_phase"].value_counts()
    for phase, k in R.NATIONAL_SCHOOLS.items():
        assert per_phase[phase] == max(1, round(k * scale))
    # every pupil's LA / region / phase / type is its school's
    merged = pop[["urn", "la_code", "region", "school_phase", "school_type"]].merge(
        s, on="urn", suffixes=("", "_s"))
    for c in ("la_code", "region", "school_phase", "school_type"):
        assert (merged[c].astype(str) == merged[c + "_s"].astype(str)).all(), c
    mean_size = s.groupby("school_phase", observed=True)["size"].mean()
    # state-funded averages: primary ~280, secondary ~1,050 (SPC 2023/24; +-15%)
    assert 240 <= mean_size["primary"] <= 320
    assert 900 <= mean_size["secondary"] <= 1250


def test_geography_counts():
    geo = ds.make_geography(R.NATIONAL_PUPILS)
    las = geo.las
    assert len(las) == sum(k for k, _ in R.REGIONS.values()) == 152
    assert las.groupby("region").size().to_dict() == {r: k for r, (k, _) in R.REGIONS.items()}
    assert len(geo.lsoa_codes) == R.NATIONAL_LSOAS
    assert len(geo.district_codes) == R.NATIONAL_POSTCODE_DISTRICTS
    assert len(set(geo.lsoa_codes)) == len(geo.lsoa_codes)
    assert len(set(geo.district_codes)) == len(geo.district_codes)
    # an LSOA's district belongs to the LSOA's LA
    assert (geo.district_la[geo.lsoa_district] == geo.lsoa_la).all()


def test_home_geography_consistent_with_school_la(pop):
    geo = ds.make_geography(N)
    la_codes = geo.las["la_code"].to_numpy()
    la_region = dict(zip(geo.las["la_code"], geo.las["region"]))
    lsoa_la = dict(zip(geo.lsoa_codes, la_codes[geo.lsoa_la]))
    lsoa_dist = dict(zip(geo.lsoa_codes, geo.district_codes[geo.lsoa_district]))
    home_la = pop["lsoa"].astype(str).map(lsoa_la)
    # the postcode district is the district of the home LSOA (exact)
    assert (pop["postcode_district"].astype(str) == pop["lsoa"].astype(str).map(lsoa_dist)).all()
    # home LA = school LA except cross-border pupils, who stay in the region (exact)
    same = home_la == pop["la_code"].astype(str)
    assert (home_la.map(la_region) == pop["region"].astype(str)).all()
    # cross-border share 7% (model value); +-1.5 points
    assert abs((~same).mean() - R.CROSS_BORDER_SHARE) < 0.015


# ---------------------------------------------------------------------------------------
# internal consistency (exact)
# ---------------------------------------------------------------------------------------
def test_birth_date_consistent_with_year_group(pop):
    y = pop["year_group"].astype(int)
    first = pd.to_datetime((R.ACADEMIC_YEAR_START - 5 - y).astype(str) + "-09-01")
    last = pd.to_datetime((R.ACADEMIC_YEAR_START - 4 - y).astype(str) + "-08-31")
    dob = pop["date_of_birth"]
    assert ((dob >= first) & (dob <= last)).all()
    assert (pop["birth_month"] == dob.dt.month).all()
    assert (pop["birth_year"] == dob.dt.year).all()
    # every day of the cohort year can occur: September and August births both present
    assert set(pop["birth_month"].unique()) == set(range(1, 13))


def test_year_groups_by_phase(pop):
    ph = pop["school_phase"].astype(str)
    y = pop["year_group"]
    assert y[ph == "primary"].between(0, 6).all()
    assert y[ph == "secondary"].between(7, 13).all()
    assert y[ph == "special"].between(0, 13).all()
    share = y.value_counts(normalize=True)
    # sixth forms are smaller than Year 11 (many 16-18s are in colleges)
    assert share[12] < 0.8 * share[11] and share[13] < 0.8 * share[11]


def test_attainment_only_where_taken(pop):
    y = pop["year_group"]
    has_ks2 = pop["ks2_reading"].notna()
    # KS2 in Year 6 (2024), 7 (2023), 8 (2022), 11-13 (2019, 2018, 2017); none for the
    # cancelled 2020 and 2021 tests (Years 10 and 9) or before Year 6
    assert not has_ks2[y.isin([0, 1, 2, 3, 4, 5, 9, 10])].any()
    assert has_ks2[y == 6].mean() > 0.9
    assert (pop["ks2_reading"].notna() == pop["ks2_maths"].notna()).all()
    assert (pop["attainment8"].notna() == (y >= 11)).all()
    assert pop["ks2_reading"].dropna().between(80, 120).all()
    assert pop["ks2_maths"].dropna().between(80, 120).all()
    assert pop["attainment8"].dropna().between(0, 90).all()


def test_category_consistency(pop):
    minor = pop["ethnicity_minor"].astype(str)
    assert (minor.map(R.ETHNICITY_MAJOR) == pop["ethnicity_major"].astype(str)).all()
    assert (pop["sen_primary_need"].isna() == (pop["sen_provision"] == "N")).all()
    assert ((pop["first_language"] == "ENG") == ~pop["eal"]).all()
    assert not (pop["cla"] & ~pop["cin"]).any()  # looked-after children are children in need
    assert pop["absence_rate"].between(0, 1).all()
    assert (pop["suspensions"] >= 0).all()


# ---------------------------------------------------------------------------------------
# published marginals (tolerances: about 3 standard errors, clustering by school included)
# ---------------------------------------------------------------------------------------
def test_marginals(pop):
    assert abs(pop["fsm"].mean() - R.FSM_SHARE) < 0.01  # 24.6%, SPC 2023/24
    sen = pop["sen_provision"].value_counts(normalize=True)
    assert abs(sen["E"] - R.SEN_EHC_SHARE) < 0.004  # 4.8%, SEN 2024
    assert abs(sen["K"] - R.SEN_SUPPORT_SHARE) < 0.008  # 13.6%
    assert abs(pop["eal"].mean() - R.EAL_SHARE) < 0.015  # ~20%
    assert abs((pop["sex"] == "M").mean() - 0.512) < 0.01  # 51.2% boys
    phase = pop["school_phase"].value_counts(normalize=True)
    for p, share in R.PHASE_SHARE.items():
        assert abs(phase[p] - share) < 1e-4
    eth = pop["ethnicity_minor"].value_counts(normalize=True)
    total = sum(R.ETHNICITY_NATIONAL.values())
    assert abs(eth["WBRI"] - R.ETHNICITY_NATIONAL["WBRI"] / total) < 0.03
    for code in ("WOTH", "BAFR", "APKN", "AIND"):
        assert abs(eth[code] - R.ETHNICITY_NATIONAL[code] / total) < 0.015, code
    assert abs(pop["cin"].mean() - R.CIN_SHARE) < 0.004
    assert 0.004 < pop["cla"].mean() < 0.009  # ~0.7% of children looked after


def test_attainment_marginals(pop):
    y6 = pop[pop["year_group"] == 6]
    r = y6["ks2_reading"].astype(float)
    m = y6["ks2_maths"].astype(float)
    assert abs(r.mean() - 105) < 1.0 and abs(m.mean() - 104) < 1.0  # KS2 2024 averages
    assert abs((r >= 100).mean() - 0.74) < 0.04  # expected standard, % of all pupils
    assert abs((m >= 100).mean() - 0.73) < 0.05
    assert abs((r >= 110).mean() - 0.28) < 0.04  # high standard
    assert 0.6 < np.corrcoef(r[r.notna()], m[r.notna()])[0, 1] < 0.8
    y11 = pop[pop["year_group"] == 11]
    a8 = y11["attainment8"].astype(float)
    assert abs(a8.mean() - R.A8_MEAN) < 1.5  # 46.3 (2022/23)
    by_sen = y11.groupby("sen_provision", observed=True)["attainment8"].mean()
    assert abs(by_sen["E"] - R.A8_BY_SEN["E"]) < 4  # 14.0
    assert abs(by_sen["K"] - R.A8_BY_SEN["K"]) < 3  # 33.3


def test_absence_and_exclusion_marginals(pop):
    assert abs(pop["absence_rate"].mean() - 0.074) < 0.004
    assert abs((pop["absence_rate"] >= 0.10).mean() - R.PERSISTENT_ABSENCE_SHARE) < 0.02
    by_phase = pop.groupby("school_phase", observed=True)["absence_rate"].mean()
    assert by_phase["primary"] < by_phase["secondary"] < by_phase["special"]
    assert abs(pop["suspensions"].sum() / len(pop) - R.SUSPENSION_RATE) < 0.01  # 9.33 per 100
    assert abs((pop["suspensions"] > 0).mean() - R.ONE_PLUS_SUSPENSION_RATE) < 0.004
    assert abs(pop["permanent_exclusion"].mean() - R.PERMANENT_EXCLUSION_RATE) < 0.0004


# ---------------------------------------------------------------------------------------
# main correlations (direction and rough size, from the published breakdowns)
# ---------------------------------------------------------------------------------------
def test_correlations(pop):
    fsm_region = pop.groupby("region", observed=True)["fsm"].mean()
    assert fsm_region.idxmax() == "North East" and fsm_region.idxmin() == "South East"
    assert abs(fsm_region["North East"] - 0.312) < 0.02  # calibrated per region
    assert abs(fsm_region["South East"] - 0.197) < 0.015
    fsm_sen = pop.groupby("sen_provision", observed=True)["fsm"].mean()
    assert fsm_sen["K"] > fsm_sen["N"] + 0.10 and fsm_sen["E"] > fsm_sen["N"] + 0.10
    wbri = pop.assign(w=pop["ethnicity_minor"] == "WBRI").groupby("region", observed=True)["w"].mean()
    assert wbri["London"] < 0.35 and wbri["North East"] > 0.7 and wbri["South West"] > 0.7
    apkn = pop.assign(a=pop["ethnicity_minor"] == "APKN").groupby("region", observed=True)["a"].mean()
    assert apkn["Yorkshire and The Humber"] > 2 * apkn["South West"]
    eal_major = pop.groupby("ethnicity_major", observed=True)["eal"].mean()
    assert eal_major["Asian"] > 0.6 and pop.loc[pop["ethnicity_minor"] == "WBRI", "eal"].mean() < 0.02
    y11 = pop[pop["year_group"] == 11]
    a8_fsm = y11.groupby("fsm")["attainment8"].mean()
    assert 8 < a8_fsm[False] - a8_fsm[True] < 20  # disadvantage gap 13.6 points (2018/19)
    a8_sex = y11.groupby("sex", observed=True)["attainment8"].mean()
    assert a8_sex["F"] > a8_sex["M"]
    pa = pop.assign(pa=pop["absence_rate"] >= 0.1).groupby("fsm")["pa"].mean()
    assert pa[True] > 1.6 * pa[False]  # 37.2% vs 17.5% in 2021/22
    ab_sen = pop.groupby("sen_provision", observed=True)["absence_rate"].mean()
    assert ab_sen["K"] > ab_sen["N"] and ab_sen["E"] > ab_sen["N"]
    sus = pop.groupby("sex", observed=True)[["suspensions", "permanent_exclusion"]].mean()
    assert sus.loc["F", "suspensions"] < sus.loc["M", "suspensions"]
    assert sus.loc["F", "permanent_exclusion"] < sus.loc["M", "permanent_exclusion"]
    pe = pop["permanent_exclusion"]
    assert (pop.loc[pe, "suspensions"] > 0).mean() > 0.7
    sus_fsm = pop.groupby("fsm")["suspensions"].mean()
    assert sus_fsm[True] > 2.5 * sus_fsm[False]
    # FSM clusters in neighbourhoods: LSOA-level FSM shares vary far more than binomial
    g = pop.groupby("lsoa", observed=True)["fsm"].agg(["mean", "size"])
    g = g[g["size"] >= 100]
    binom_sd = np.sqrt(R.FSM_SHARE * (1 - R.FSM_SHARE) / g["size"]).mean()
    assert g["mean"].std() > 2 * binom_sd
    male_sen = pop.groupby("sen_provision", observed=True)["sex"].apply(lambda s: (s == "M").mean())
    assert abs(male_sen["E"] - 0.73) < 0.04 and abs(male_sen["K"] - 0.64) < 0.03


# ---------------------------------------------------------------------------------------
# sampling helpers against naive references
# ---------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_draw_by_group_matches_naive(data):
    n_groups = data.draw(st.integers(1, 5))
    k = data.draw(st.integers(1, 6))
    probs = np.array(data.draw(st.lists(
        st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0, 3.0]), min_size=k, max_size=k)
        .filter(lambda r: sum(r) > 0), min_size=n_groups, max_size=n_groups)))
    n = data.draw(st.integers(1, 40))
    group = np.array(data.draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)))
    seed = data.draw(st.integers(0, 2**32 - 1))
    got = draw_by_group(np.random.default_rng(seed), probs, group)
    u = np.random.default_rng(seed).random(n)  # the same stream the function consumed
    assert got.tolist() == naive.draw_by_group(u, probs, group)
    assert (probs[group, got] > 0).all()


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.floats(0.001, 100), min_size=1, max_size=8))
def test_largest_remainder_matches_naive(total, shares):
    got = largest_remainder(total, shares)
    assert got.sum() == total
    assert got.tolist() == naive.largest_remainder(total, shares)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-4, 4), min_size=1, max_size=50), st.floats(0.01, 0.99))
def test_calibrate_intercept(lin, target):
    lin = np.asarray(lin)
    a = calibrate_intercept(lin, target)
    assert abs(expit(lin + a).mean() - target) < 1e-9


def test_population_columns_json_contract():
    # the column list is a contract with the intruder and assessment modules
    assert json.loads(json.dumps(list(ds.POPULATION_COLUMNS)))[0] == "pupil_id"
