"""Standard extracts, public-style auxiliary sources and the bundled public data loaders."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import idrisk.datasets as ds
from idrisk.datasets import auxiliary as aux
from idrisk.exceptions import DataValidationError, InvalidParameterError

import naive_datasets as naive

N = 60_000


@pytest.fixture(scope="module")
def pop():
    return ds.make_population(N, seed=21)


@pytest.fixture(scope="module")
def truth(pop):
    return pop.set_index("pupil_id")


def _unchanged(pop, fn):
    before = pop.copy(deep=True)
    dtypes = pop.dtypes.copy()
    out = fn()
    assert pop.equals(before) and pop.dtypes.equals(dtypes) and pop.index.equals(before.index)
    return out


# ---------------------------------------------------------------------------------------
# extracts
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ds.EXTRACT_KINDS)
def test_extract_roles(pop, kind):
    e = _unchanged(pop, lambda: ds.extract(pop, kind))
    assert e.name == kind
    assert set(e.roles) == set(e.data.columns)
    assert set(e.roles.values()) <= {"direct_identifier", "quasi_identifier", "sensitive", "other"}
    assert e.direct_identifiers == ["pupil_id"]
    assert "pupil_id" not in e.releasable().columns
    assert not set(e.quasi_identifiers) & set(e.sensitive)
    assert all(isinstance(t, int) and 1 <= t <= 4 for t in e.sensitive_tiers.values())
    assert e.sensitive_tiers["pupil_id"] == 1
    d = e.to_dict()
    assert json.loads(json.dumps(d)) == d and d["n_rows"] == len(e.data)
    assert "P0" not in json.dumps(d)  # no record-level values in the description
    # the extract is a copy: changing it leaves the population alone
    e.data.iloc[0, 0] = "changed"
    assert (pop["pupil_id"] != "changed").all()


def test_extract_rows(pop):
    y = pop["year_group"]
    assert len(ds.extract(pop, "school_census").data) == N
    assert len(ds.extract(pop, "ks2").data) == (y == 6).sum()
    ks4 = ds.extract(pop, "ks4").data
    assert len(ks4) == (y == 11).sum()
    # KS4 linked to KS2 prior attainment (Year 11 in 2024 took KS2 in 2019)
    assert ks4["ks2_reading"].notna().mean() > 0.9 and ks4["attainment8"].notna().all()
    ae = ds.extract(pop, "absence_exclusions")
    assert len(ae.data) == (y >= 1).sum()
    assert (ae.data["persistent_absence"] == (ae.data["absence_rate"] >= 0.1)).all()
    assert "date_of_birth" not in ds.extract(pop, "ks2").data
    e = ds.extract(pop, "ks2", include_date_of_birth=True, include_direct_identifiers=False)
    assert e.roles["date_of_birth"] == "quasi_identifier" and e.direct_identifiers == []


def test_extract_bad_input(pop):
    with pytest.raises(InvalidParameterError, match="school_census"):
        ds.extract(pop, "ks3")
    with pytest.raises(DataValidationError, match="fsm.*sen_provision|sen_provision.*fsm"):
        ds.extract(pop.drop(columns=["fsm", "sen_provision"]), "school_census")
    with pytest.raises(InvalidParameterError):
        ds.extract([1, 2], "ks2")


# ---------------------------------------------------------------------------------------
# school tables
# ---------------------------------------------------------------------------------------
def test_school_tables_match_naive():
    small = ds.make_population(6_000, seed=3)  # small schools: some cohorts under 6
    got = _unchanged(small, lambda: ds.school_tables(small)).set_index("urn")
    ref = naive.school_table(small, min_cohort=6)
    assert sorted(ref) == sorted(got.index.tolist())
    one_dp = ("pct_fsm", "pct_eal", "pct_sen_support", "pct_ehc_plan", "attainment8_avg")
    whole = ("ks2_reading_avg", "ks2_maths_avg", "ks2_reading_exp_pct", "ks2_maths_exp_pct")
    n_suppressed = 0
    for urn, rec in ref.items():
        row = got.loc[urn]
        assert row["pupils"] == rec["pupils"]
        assert row["ks2_cohort"] == rec["ks2_cohort"] and row["ks4_cohort"] == rec["ks4_cohort"]
        for col in one_dp + whole:
            want = rec[col]
            if want is None:
                assert pd.isna(row[col]), (urn, col)
                n_suppressed += 1
            else:
                # published rounding: within half a unit of the unrounded figure
                assert abs(row[col] - want) <= (0.05 if col in one_dp else 0.5) + 1e-9, (urn, col)
    assert n_suppressed > 0
    assert "_truth_pupil_id" not in got.columns and "pupil_id" not in got.columns


def test_school_tables_suppression_threshold(pop):
    st = ds.school_tables(pop, min_cohort=30)
    small = st["ks2_cohort"] < 30
    assert st.loc[small, "ks2_reading_avg"].isna().all()
    assert st.loc[~small & (st["ks2_cohort"] > 0), "ks2_reading_avg"].notna().all()
    with pytest.raises(InvalidParameterError):
        ds.school_tables(pop, min_cohort=0)


# ---------------------------------------------------------------------------------------
# social media profiles
# ---------------------------------------------------------------------------------------
def _truth_of(profiles, truth, field):
    return truth.loc[profiles["_truth_pupil_id"], field].astype(object).to_numpy()


def test_profiles_error_and_missing_rates(pop, truth):
    n = 20_000
    err = {"urn": 0.10, "year_group": 0.05, "sex": 0.02, "birth_month": 0.08,
           "birth_year": 0.03, "ethnicity_major": 0.06, "postcode_district": 0.12}
    prof = _unchanged(pop, lambda: ds.social_media_profiles(
        pop, n, seed=5, error_rate=err, missing_rate=0.15))
    assert len(prof) == n and prof["_truth_pupil_id"].is_unique
    assert set(prof["_truth_pupil_id"]) <= set(pop["pupil_id"])
    assert ds.visible_columns(prof) == list(ds.PROFILE_FIELDS) + ["posted_years_ago"]
    for f, rate in err.items():
        se = np.sqrt(rate * (1 - rate) / n)
        assert abs(prof[f"_error_{f}"].mean() - rate) < 4 * se + 0.002, f
        assert abs(prof[f"_missing_{f}"].mean() - 0.15) < 4 * np.sqrt(0.15 * 0.85 / n), f
        # the flags tell the truth: a shown value differs from the truth iff flagged
        shown = prof[f].astype(object).to_numpy()
        true = _truth_of(prof, truth, f)
        vis = ~prof[f"_missing_{f}"].to_numpy()
        assert (prof[f].isna().to_numpy() == ~vis).all()
        differs = np.array([str(a) != str(b) for a, b in zip(shown[vis], true[vis])])
        assert (differs == prof.loc[vis, f"_error_{f}"].to_numpy()).all(), f


def test_profile_errors_are_plausible(pop, truth):
    prof = ds.social_media_profiles(pop, 5_000, seed=8, error_rate=0.5, missing_rate=0.0)
    e = prof["_error_year_group"]
    d = prof.loc[e, "year_group"].astype(int).to_numpy() - _truth_of(prof[e], truth, "year_group").astype(int)
    assert set(np.abs(d)) == {1}
    e = prof["_error_birth_month"]
    d = (prof.loc[e, "birth_month"].astype(int).to_numpy()
         - _truth_of(prof[e], truth, "birth_month").astype(int)) % 12
    assert set(d) <= {1, 11}
    # a wrong school is a school of the same phase; a wrong district is in the same region
    school_phase = pop.groupby("urn")["school_phase"].first().astype(str)
    e = prof["_error_urn"]
    assert (school_phase.loc[prof.loc[e, "urn"].astype(int)].to_numpy()
            == _truth_of(prof[e], truth, "school_phase").astype(str)).all()


def test_profiles_coarsening_and_time_lag(pop, truth):
    prof = ds.social_media_profiles(
        pop, 4_000, seed=2, error_rate=0.0, missing_rate=0.0, time_lag_years=2,
        coarsening={"birth": "year", "geography": "area", "school": "la"})
    assert prof["birth_month"].isna().all() and prof["urn"].isna().all()
    assert (prof["la_code"].astype(str).to_numpy() == _truth_of(prof, truth, "la_code").astype(str)).all()
    assert prof["postcode_district"].str.fullmatch(r"[A-Z]{2}").all()
    assert (prof["posted_years_ago"] == 2).all()
    assert (prof["year_group"].astype(int).to_numpy()
            == _truth_of(prof, truth, "year_group").astype(int) - 2).all()
    # pupils who moved from primary to secondary since the post show a primary school
    lagged = ds.social_media_profiles(pop, 4_000, seed=2, error_rate=0.0, missing_rate=0.0,
                                      time_lag_years=2)
    phase_now = _truth_of(lagged, truth, "school_phase").astype(str)
    moved_up = (phase_now == "secondary") & (lagged["year_group"].astype(int).to_numpy() <= 6)
    assert moved_up.any()
    assert lagged.loc[moved_up, "_stale_urn"].all()
    school_phase = pop.groupby("urn")["school_phase"].first().astype(str)
    assert (school_phase.loc[lagged.loc[moved_up, "urn"].astype(int)] == "primary").all()
    stale_home = lagged["_stale_postcode_district"].mean()
    assert 0.10 < stale_home < 0.20  # 1 - (1 - 0.08)^2 = 15.4%, minus no-op moves


def test_profiles_deterministic_and_bad_input(pop):
    a = ds.social_media_profiles(pop, 500, seed=1)
    pd.testing.assert_frame_equal(a, ds.social_media_profiles(pop, 500, seed=1))
    assert not a["_truth_pupil_id"].equals(ds.social_media_profiles(pop, 500, seed=2)["_truth_pupil_id"])
    for kwargs in ({"error_rate": 1.5}, {"missing_rate": -0.1}, {"error_rate": {"shoe": 0.1}},
                   {"coarsening": {"birth": "day"}}, {"coarsening": {"colour": "x"}},
                   {"time_lag_years": -1}, {"seed": -3}):
        with pytest.raises(InvalidParameterError):
            ds.social_media_profiles(pop, 10, **kwargs)
    with pytest.raises(InvalidParameterError, match="exceeds"):
        ds.social_media_profiles(pop, N + 1)
    with pytest.raises(DataValidationError):
        ds.social_media_profiles(pop.drop(columns=["sex"]), 10)


def test_nosy_neighbour(pop, truth):
    nn = _unchanged(pop, lambda: ds.nosy_neighbour(pop, 3_000, seed=4))
    assert ds.visible_columns(nn) == list(ds.NOSY_FIELDS)
    assert nn["_truth_pupil_id"].is_unique
    for f in ds.NOSY_FIELDS:
        assert abs(nn[f"_error_{f}"].mean() - 0.02) < 0.012, f
        assert abs(nn[f"_missing_{f}"].mean() - 0.05) < 0.018, f
    exact = ds.nosy_neighbour(pop, 200, seed=4, error_rate=0.0, missing_rate=0.0)
    for f in ("urn", "ethnicity_minor", "lsoa", "fsm"):
        assert (exact[f].astype(str).to_numpy() == _truth_of(exact, truth, f).astype(str)).all(), f
    assert (pd.to_datetime(exact["date_of_birth"]).to_numpy()
            == truth.loc[exact["_truth_pupil_id"], "date_of_birth"].to_numpy()).all()
    with pytest.raises(InvalidParameterError):
        ds.nosy_neighbour(pop, 0)


# ---------------------------------------------------------------------------------------
# public data loaders
# ---------------------------------------------------------------------------------------
def test_load_public_all():
    listing = ds.list_public()
    assert {"census2011_teaching_10k", "uci_adult", "arx_adult", "sd2011", "francdat",
            "testdata"} <= set(listing["name"])
    for row in listing.itertuples(index=False):
        df = ds.load_public(row.name)
        assert isinstance(df, pd.DataFrame) and len(df) > 0
        if row.rows:
            assert len(df) == row.rows, row.name


def test_load_public_matches_sdcmicro_metadata():
    meta = json.loads(ds.public.public_path("francdat").parent.joinpath(
        "datasets_info.json").read_text())
    for name, info in meta.items():
        if name in ds.PUBLIC_DATASETS:
            df = ds.load_public(name)
            assert df.shape == (info["nrow"], info["ncol"]), name
            assert list(df.columns) == info["columns"], name


def test_load_public_known_values():
    adult = ds.load_public("uci_adult")
    assert (adult["workclass"] == "?").sum() > 0  # kept as a literal, as documented
    assert set(adult["split"]) == {"train", "test"}
    assert ds.load_public("arx_adult").columns.tolist()[:3] == ["sex", "age", "race"]
    a = ds.load_public("francdat")
    a.iloc[0, 0] = -1  # a fresh copy each call
    assert ds.load_public("francdat").iloc[0, 0] != -1


def test_load_public_unknown():
    with pytest.raises(InvalidParameterError, match="francdat"):
        ds.load_public("franc")
    with pytest.raises(InvalidParameterError):
        ds.load_public(3)


# ---------------------------------------------------------------------------------------
# random small populations, odd indexes, one row
# ---------------------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 400), seed=st.integers(0, 10_000), frac=st.floats(0.05, 1.0),
       min_cohort=st.integers(1, 8))
def test_school_tables_random_subsets_match_naive(n, seed, frac, min_cohort):
    p = ds.make_population(n, seed=seed)
    # a subset with a shuffled, non-default index (an extract rather than the population)
    sub = p.sample(frac=frac, random_state=seed)
    if len(sub) == 0:
        sub = p.iloc[:1]
    sub = sub.set_axis(10_000 - 3 * np.arange(len(sub)), axis=0)
    got = _unchanged(sub, lambda: ds.school_tables(sub, min_cohort=min_cohort)).set_index("urn")
    ref = naive.school_table(sub, min_cohort=min_cohort)
    assert sorted(ref) == sorted(got.index.tolist())
    for urn, rec in ref.items():
        for col, want in rec.items():
            have = got.loc[urn, col]
            if want is None:
                assert pd.isna(have), (urn, col)
            else:
                assert abs(float(have) - want) <= 0.5 + 1e-9, (urn, col, have, want)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 300), seed=st.integers(0, 1000), k=st.integers(1, 5))
def test_profiles_and_extracts_on_random_frames(n, seed, k):
    p = ds.make_population(n, seed=seed)
    p.index = pd.Index([f"r{i}" for i in range(n)][::-1])  # non-default string index
    k = min(k, n)
    prof = _unchanged(p, lambda: ds.social_media_profiles(p, k, seed=seed, error_rate=0.3,
                                                          missing_rate=0.3))
    assert len(prof) == k and set(prof["_truth_pupil_id"]) <= set(p["pupil_id"])
    nn = ds.nosy_neighbour(p, k, seed=seed)
    assert len(nn) == k
    for kind in ds.EXTRACT_KINDS:
        e = ds.extract(p, kind)
        assert e.data.index.isin(p.index).all()
        assert (e.data["pupil_id"] == p.loc[e.data.index, "pupil_id"]).all()


def test_one_pupil_population():
    p = ds.make_population(1, seed=0)
    assert len(ds.school_tables(p)) == 1
    assert ds.school_tables(p)["pct_fsm"].isna().all()  # a school of 1 is suppressed
    prof = ds.social_media_profiles(p, 1, seed=0, error_rate=1.0, missing_rate=0.0)
    # with one pupil and one school there is no other school or district to swap to
    assert not prof["_error_urn"].any() and not prof["_error_postcode_district"].any()
    assert prof["_error_sex"].all() and prof["_error_year_group"].all()
