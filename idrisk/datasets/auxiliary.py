"""Public-style information an intruder could hold about pupils, made from a population.

Three sources, as in the intruder scenarios of docs/methods.md#attacker-models:

* :func:`school_tables`: school-level published tables (school information and
  performance tables: URN, LA, phase, size, % FSM, % EAL, % SEN, KS2/KS4 aggregates)
  with the DfE small-cohort suppression.
* :func:`social_media_profiles`: "school website / social media" facts about a sample of
  pupils (school, year group, sex, birth month and year, apparent ethnic major group,
  postcode district) with configurable error, missingness, coarsening and time lag.
* :func:`nosy_neighbour`: near-complete facts about a few target pupils.

Every pupil-level record carries the hidden ground truth ``_truth_<id>`` (the intruder's one
convention, :func:`idrisk.intruder.divergence.truth_id_column`; ``_truth_pupil_id`` with the
NPD profile's ``truth_id``, the default), and every
perturbation is recorded in hidden boolean columns ``_error_<field>`` (the value was
changed), ``_missing_<field>`` (the value was blanked) and, with a time lag,
``_stale_<field>`` (the value was true then but has changed since). **A linker must
ignore every column whose name starts with an underscore**; :func:`visible_columns`
lists the others.
"""

from __future__ import annotations

import dataclasses
from numbers import Real

import numpy as np
import pandas as pd

from .._validation import as_frame, check_columns, check_seed
from ..exceptions import InvalidParameterError
from ..intruder.divergence import default_truth_id, truth_id_column
from ..intruder.mistakes import change_probability, diverge
from .perturbation import home_move, pupil_divergence, school_move
from ._sampling import streams

__all__ = ["school_tables", "social_media_profiles", "nosy_neighbour", "visible_columns",
           "PROFILE_FIELDS", "NOSY_FIELDS"]

#: Fields of a social-media profile, in order.
PROFILE_FIELDS = ("urn", "year_group", "sex", "birth_month", "birth_year",
                  "ethnicity_major", "postcode_district")
#: Fields a nosy neighbour knows (near-complete facts).
NOSY_FIELDS = ("urn", "la_code", "year_group", "sex", "date_of_birth", "birth_month",
               "birth_year", "ethnicity_major", "ethnicity_minor", "eal", "first_language",
               "postcode_district", "lsoa", "sen_provision", "fsm")

#: Suppression rule of DfE school performance tables: results of a cohort of fewer than 6
#: pupils are not published ("SUPP"); the threshold was 10 before 2010 (TES, 2010).
MIN_PUBLISHED_COHORT = 6


def visible_columns(frame: pd.DataFrame) -> list:
    """Columns a linker may use: every column whose name does not start with ``_``
    (the ground truth ``_truth_*`` and the perturbation flags are hidden)."""
    frame = as_frame(frame, name="frame")
    return [c for c in frame.columns if not str(c).startswith("_")]


# ---------------------------------------------------------------------------------------
# School-level tables
# ---------------------------------------------------------------------------------------
def school_tables(population: pd.DataFrame, *, min_cohort: int = MIN_PUBLISHED_COHORT
                  ) -> pd.DataFrame:
    """School-level published tables computed from the population.

    One row per school: ``urn``, ``la_code``, ``region``, ``school_phase``,
    ``school_type``, ``pupils`` (headcount), ``pct_fsm``, ``pct_eal``,
    ``pct_sen_support``, ``pct_ehc_plan`` (percentages of pupils, one decimal, as in the
    school information tables), ``ks2_cohort``, ``ks2_reading_avg``, ``ks2_maths_avg``
    (average scaled score, whole numbers), ``ks2_reading_exp_pct``,
    ``ks2_maths_exp_pct`` (% reaching the expected standard, score >= 100; whole %),
    ``ks4_cohort``, ``attainment8_avg`` (one decimal).

    Performance-table suppression: results of a cohort with fewer than ``min_cohort``
    pupils (default 6, DfE's rule "groups of fewer than 6") are missing (NA), as are the
    percentages of a school with fewer than ``min_cohort`` pupils. Cohorts are the Year 6
    pupils (KS2, summer 2024) and Year 11 pupils (KS4). Aggregate rows have no
    ground truth: they describe schools, not pupils.
    """
    frame = as_frame(population, name="population")
    if isinstance(min_cohort, bool) or not isinstance(min_cohort, (int, np.integer)) or min_cohort < 1:
        raise InvalidParameterError(f"min_cohort must be a positive int, got {min_cohort!r}")
    check_columns(frame, ["urn", "la_code", "region", "school_phase", "school_type", "fsm",
                          "eal", "sen_provision", "year_group", "ks2_reading", "ks2_maths",
                          "attainment8"], role="population")
    g = frame.groupby("urn", sort=True, observed=True)
    out = g[["la_code", "region", "school_phase", "school_type"]].first()
    out["pupils"] = g.size()
    sen = frame["sen_provision"].astype(object)
    helper = pd.DataFrame({
        "urn": frame["urn"].to_numpy(),
        "fsm": frame["fsm"].to_numpy(dtype=float),
        "eal": frame["eal"].to_numpy(dtype=float),
        "k": (sen == "K").to_numpy(dtype=float),
        "e": (sen == "E").to_numpy(dtype=float),
    })
    pct = helper.groupby("urn", sort=True).mean() * 100
    for src, dst in (("fsm", "pct_fsm"), ("eal", "pct_eal"), ("k", "pct_sen_support"),
                     ("e", "pct_ehc_plan")):
        out[dst] = pct[src].round(1).where(out["pupils"] >= min_cohort)
    y6 = frame.loc[frame["year_group"].to_numpy() == 6, ["urn", "ks2_reading", "ks2_maths"]]
    k2 = y6.groupby("urn", sort=True)
    ks2 = pd.DataFrame({"ks2_cohort": k2.size()})
    for subj in ("reading", "maths"):
        s = y6[f"ks2_{subj}"].astype("Float64")
        tmp = pd.DataFrame({"urn": y6["urn"].to_numpy(), "v": s.to_numpy(dtype=float, na_value=np.nan)})
        tmp["exp"] = np.where(np.isnan(tmp["v"]), 0.0, (tmp["v"] >= 100).astype(float))
        agg = tmp.groupby("urn", sort=True).agg(avg=("v", "mean"), exp=("exp", "mean"))
        ks2[f"ks2_{subj}_avg"] = agg["avg"].round(0)
        ks2[f"ks2_{subj}_exp_pct"] = (agg["exp"] * 100).round(0)
    y11 = frame.loc[frame["year_group"].to_numpy() == 11, ["urn", "attainment8"]]
    tmp = pd.DataFrame({"urn": y11["urn"].to_numpy(),
                        "v": y11["attainment8"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)})
    k4 = tmp.groupby("urn", sort=True)
    ks4 = pd.DataFrame({"ks4_cohort": k4.size(), "attainment8_avg": k4["v"].mean().round(1)})
    out = out.join(ks2).join(ks4)
    for cohort, cols in (("ks2_cohort", ["ks2_reading_avg", "ks2_maths_avg",
                                         "ks2_reading_exp_pct", "ks2_maths_exp_pct"]),
                         ("ks4_cohort", ["attainment8_avg"])):
        out[cohort] = out[cohort].fillna(0).astype(np.int64)
        small = out[cohort] < min_cohort
        for c in cols:
            out[c] = out[c].astype(float).where(~small)
    return out.reset_index()


def _sample_rows(rng, frame, n_rows, eligible, what):
    pool = np.flatnonzero(eligible)
    if isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)) or n_rows < 1:
        raise InvalidParameterError(f"{what} must be a positive int, got {n_rows!r}")
    if n_rows > pool.size:
        raise InvalidParameterError(
            f"{what}={n_rows:,} exceeds the {pool.size:,} eligible pupils in the population")
    return np.sort(rng.choice(pool, size=int(n_rows), replace=False))


def _as_object_frame(frame, rows, fields):
    out = {}
    for f in fields:
        s = frame[f].iloc[rows]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        elif pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype("boolean")
        elif pd.api.types.is_integer_dtype(s.dtype):
            s = s.astype("Int64")
        out[f] = s.reset_index(drop=True)
    return pd.DataFrame(out)


_COARSENING = {
    "birth": ("month", "year"),
    "geography": ("district", "area", "none"),
    "school": ("urn", "la"),
}


def _check_coarsening(coarsening):
    if coarsening is None:
        return {k: v[0] for k, v in _COARSENING.items()}
    if not isinstance(coarsening, dict):
        raise InvalidParameterError("coarsening must be a dict such as {'birth': 'year'} or None")
    out = {k: v[0] for k, v in _COARSENING.items()}
    for k, v in coarsening.items():
        if k not in _COARSENING:
            raise InvalidParameterError(
                f"unknown coarsening {k!r}; choose among {', '.join(_COARSENING)}")
        if v not in _COARSENING[k]:
            raise InvalidParameterError(
                f"coarsening {k!r} must be one of {', '.join(_COARSENING[k])}, got {v!r}")
        out[k] = v
    return out


def _time_lag(frame, true, lag, school_move_rate, home_move_rate, fields) -> dict:
    """The changes since the profile was posted ``lag`` years ago: ``true``'s year group
    becomes the year group then (in place), and ``urn`` and ``postcode_district`` get their
    change over the time lag (a pupil who has changed phase since has surely changed school)."""
    if not lag:
        return {}
    true["year_group"] = (true["year_group"] - lag).astype("Int64")
    then_phase = np.where(true["year_group"].to_numpy(dtype=np.int64) <= 6, "primary", "secondary")
    special = true["_phase"].to_numpy() == "special"
    phase_change = (then_phase != true["_phase"].to_numpy()) & ~special
    then_key = np.where(special, "special", then_phase).astype(str)
    return {
        "urn": dataclasses.replace(
            fields["urn"], change_probability=change_probability(school_move_rate, lag),
            changed=school_move(true, frame, then_key), must_change=phase_change),
        "postcode_district": dataclasses.replace(
            fields["postcode_district"], change_probability=change_probability(home_move_rate, lag),
            changed=home_move(true, frame)),
    }


def _coarsen_profiles(vis, flags, true, co):
    """The profile fields as coarsened by ``co`` (birth, geography, school)."""
    if co["birth"] == "year":
        vis["birth_month"] = pd.NA
    if co["geography"] == "area":
        vis["postcode_district"] = vis["postcode_district"].map(
            lambda s: s if pd.isna(s) else str(s).rstrip("0123456789"))
    elif co["geography"] == "none":
        vis["postcode_district"] = pd.NA
    if co["school"] == "la":
        la = true["_la"].copy()
        # a wrong school still points to the right LA (errors are within the LA)
        la[flags["_missing_urn"].to_numpy()] = pd.NA
        vis.insert(0, "la_code", la)
        vis["urn"] = pd.NA
    return vis


def social_media_profiles(population: pd.DataFrame, n_profiles: int, *, seed: int = 0,
                          error_rate=0.05, missing_rate=0.10, coarsening: dict | None = None,
                          time_lag_years: int = 0, school_move_rate: float = 0.04,
                          home_move_rate: float = 0.08, id_column: str | None = None) -> pd.DataFrame:
    """Profiles of sampled pupils as found on school websites and social media.

    Parameters
    ----------
    population : pandas.DataFrame
        From :func:`make_population` (not modified).
    n_profiles : int
        Number of pupils sampled (without replacement, uniformly among eligible pupils).
    seed : int
    error_rate, missing_rate : float or dict field -> float
        Probability that a field is wrong (a plausible mistake: birth month or year
        +/- 1, year group +/- 1, the other sex, another ethnic major group weighted by
        national shares, another school of the same LA and phase, another postcode
        district of the school's LA) and, independently, that it is blank. Fields:
        :data:`PROFILE_FIELDS`.
    coarsening : dict or None
        ``{"birth": "month"|"year"}`` (drop the birth month), ``{"geography":
        "district"|"area"|"none"}`` (postcode district, its letters only, or nothing),
        ``{"school": "urn"|"la"}`` (the school, or only its LA in a column ``la_code``).
    time_lag_years : int, default 0
        The profile was posted this many years ago: ``year_group`` is the year group then
        (only pupils in Year >= lag are sampled); a pupil who has moved from primary to
        secondary since then shows a primary school of the same LA; a pupil may also
        have changed school (``school_move_rate`` per year, model value) or home
        (``home_move_rate`` per year, model value: roughly 1 in 12 families with children
        move each year, approximate). Changes are flagged in ``_stale_urn`` and
        ``_stale_postcode_district``.
    id_column : str or None
        The population's record id, copied into the hidden ground truth ``_truth_<id_column>``;
        ``None``: the default profile's ``truth_id`` (``pupil_id``).

    Returns
    -------
    pandas.DataFrame
        Visible columns: the profile fields (after coarsening), ``posted_years_ago``;
        hidden: ``_truth_<id_column>`` and the ``_error_*``, ``_missing_*``, ``_stale_*``
        flags. Categorical-looking fields are plain object columns; missing is ``pd.NA``.
    """
    frame = as_frame(population, name="population")
    seed = check_seed(seed)
    id_column = default_truth_id() if id_column is None else id_column
    check_columns(frame, list(PROFILE_FIELDS) + [id_column, "la_code", "region",
                                                 "school_phase"], role="population")
    co = _check_coarsening(coarsening)
    if isinstance(time_lag_years, bool) or not isinstance(time_lag_years, (int, np.integer)) \
            or not 0 <= time_lag_years <= 13:
        raise InvalidParameterError(f"time_lag_years must be an int in 0..13, got {time_lag_years!r}")
    for name, v in (("school_move_rate", school_move_rate), ("home_move_rate", home_move_rate)):
        if isinstance(v, bool) or not isinstance(v, Real) or not 0 <= v <= 1:
            raise InvalidParameterError(f"{name} must be a number in [0, 1], got {v!r}")
    rng = streams(seed, ["profiles"])["profiles"]
    lag = int(time_lag_years)
    yg = frame["year_group"].to_numpy().astype(np.int64)
    rows = _sample_rows(rng, frame, n_profiles, yg >= lag, "n_profiles")
    true = _as_object_frame(frame, rows, list(PROFILE_FIELDS))
    true["_la"] = frame["la_code"].astype(object).iloc[rows].to_numpy()
    true["_phase"] = frame["school_phase"].astype(object).iloc[rows].to_numpy()
    true["_region"] = frame["region"].astype(object).iloc[rows].to_numpy()
    fields = pupil_divergence(true, frame, PROFILE_FIELDS, error_rate, missing_rate)
    fields.update(_time_lag(frame, true, lag, school_move_rate, home_move_rate, fields))
    diverged = diverge({f: true[f] for f in PROFILE_FIELDS}, fields, rng)
    flags = diverged.flags
    vis = _coarsen_profiles(pd.DataFrame(diverged.values, index=true.index), flags, true, co)
    vis["posted_years_ago"] = lag
    vis[truth_id_column(id_column)] = frame[id_column].iloc[rows].astype(str).to_numpy()
    out = pd.concat([vis, flags], axis=1)
    for f in ("urn", "postcode_district"):  # no change without a time lag
        out[f"_stale_{f}"] = flags.get(f"_stale_{f}", False)
    return out


def nosy_neighbour(population: pd.DataFrame, n_targets: int, *, seed: int = 0,
                   error_rate=0.02, missing_rate=0.05, id_column: str | None = None) -> pd.DataFrame:
    """Near-complete facts a neighbour, relative or parent at the school gate knows.

    One row per target pupil (sampled uniformly, without replacement) with the fields of
    :data:`NOSY_FIELDS` (school, LA, year group, sex, full date of birth, birth month and
    year, ethnic major and minor group, EAL and first language, home postcode district
    and LSOA, SEN provision, FSM), each wrong with probability ``error_rate`` and blank
    with probability ``missing_rate`` (float or dict per field), plus the hidden
    ``_truth_<id_column>`` (``id_column=None``: the profile's ``truth_id``, ``pupil_id``) and
    ``_error_*`` / ``_missing_*`` flags.
    """
    frame = as_frame(population, name="population")
    seed = check_seed(seed)
    id_column = default_truth_id() if id_column is None else id_column
    check_columns(frame, list(NOSY_FIELDS) + [id_column, "region", "school_phase"],
                  role="population")
    rng = streams(seed, ["nosy"])["nosy"]
    rows = _sample_rows(rng, frame, n_targets, np.ones(len(frame), dtype=bool), "n_targets")
    true = _as_object_frame(frame, rows, list(NOSY_FIELDS))
    true["date_of_birth"] = frame["date_of_birth"].iloc[rows].reset_index(drop=True)
    true["_la"] = frame["la_code"].astype(object).iloc[rows].to_numpy()
    true["_phase"] = frame["school_phase"].astype(object).iloc[rows].to_numpy()
    true["_region"] = frame["region"].astype(object).iloc[rows].to_numpy()
    fields = pupil_divergence(true, frame, NOSY_FIELDS, error_rate, missing_rate)
    diverged = diverge({f: true[f] for f in NOSY_FIELDS}, fields, rng)
    vis = pd.DataFrame(diverged.values, index=true.index)
    vis[truth_id_column(id_column)] = frame[id_column].iloc[rows].astype(str).to_numpy()
    return pd.concat([vis, diverged.flags], axis=1)
