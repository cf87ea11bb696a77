"""Public-style information an intruder could hold about pupils, made from a population.

Three sources, as in the intruder scenarios of ``docs/domain.md`` section 5:

* :func:`school_tables`: school-level published tables (school information and
  performance tables: URN, LA, phase, size, % FSM, % EAL, % SEN, KS2/KS4 aggregates)
  with the DfE small-cohort suppression.
* :func:`social_media_profiles`: "school website / social media" facts about a sample of
  pupils (school, year group, sex, birth month and year, apparent ethnic major group,
  postcode district) with configurable error, missingness, coarsening and time lag.
* :func:`nosy_neighbour`: near-complete facts about a few target pupils.

Every pupil-level record carries the hidden ground truth ``_truth_pupil_id``, and every
perturbation is recorded in hidden boolean columns ``_error_<field>`` (the value was
changed), ``_missing_<field>`` (the value was blanked) and, with a time lag,
``_stale_<field>`` (the value was true then but has changed since). **A linker must
ignore every column whose name starts with an underscore**; :func:`visible_columns`
lists the others.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from .._validation import as_frame, check_columns
from ..exceptions import InvalidParameterError
from . import _reference as R
from .population import _check_seed, _streams

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
    """Columns a linker may use: every column whose name does not start with ``_``."""
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
    ``_truth_pupil_id``: they describe schools, not pupils.
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


# ---------------------------------------------------------------------------------------
# Perturbation machinery
# ---------------------------------------------------------------------------------------
def _rates(value, fields, what):
    """A rate per field from a float or a dict {field: float} (missing fields get 0)."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise InvalidParameterError(
                f"{what} names unknown fields: {', '.join(map(str, unknown))} "
                f"(fields: {', '.join(fields)})")
        rates = {f: value.get(f, 0.0) for f in fields}
    else:
        rates = {f: value for f in fields}
    for f, r in rates.items():
        if isinstance(r, bool) or not isinstance(r, Real) or not (0.0 <= float(r) <= 1.0):
            raise InvalidParameterError(f"{what} for {f!r} must be a number in [0, 1], got {r!r}")
    return {f: float(r) for f, r in rates.items()}


def _other_in_block(rng, pos, block_start, block_size):
    """Another member of the same block (position ``pos`` in a sorted array of blocks).

    Returns ``pos`` itself where the block has a single member.
    """
    m = np.maximum(block_size, 1)
    shift = 1 + np.floor(rng.random(pos.shape[0]) * np.maximum(m - 1, 1)).astype(np.int64)
    new = block_start + (pos - block_start + shift) % m
    return np.where(block_size > 1, new, pos)


def _blocks(keys: np.ndarray, values: np.ndarray):
    """Sorted unique (key, value) pairs with block starts/sizes per key."""
    pairs = pd.DataFrame({"k": keys, "v": values}).drop_duplicates().sort_values(["k", "v"])
    k = pairs["k"].to_numpy()
    v = pairs["v"].to_numpy()
    uniq, start, size = np.unique(k, return_index=True, return_counts=True)
    return k, v, uniq, start, size


def _swap_within(rng, keys, values, pool_keys, pool_values, fallbacks=()):
    """Replace each value by another value of the pool that shares its key.

    ``fallbacks`` is a sequence of ``(keys, pool_keys)`` pairs tried in turn for the rows
    whose key has no other value (e.g. the only school of its phase in the LA).
    """
    out = _swap_once(rng, keys, values, pool_keys, pool_values)
    for fk, fpk in fallbacks:
        same = out == np.asarray(values, dtype=object)
        if not same.any():
            break
        idx = np.flatnonzero(same)
        out[idx] = _swap_once(rng, np.asarray(fk)[idx], np.asarray(values, dtype=object)[idx],
                              fpk, pool_values)
    return out


def _swap_once(rng, keys, values, pool_keys, pool_values):
    k, v, uniq, start, size = _blocks(pool_keys, pool_values)
    order = pd.MultiIndex.from_arrays([k, v])
    pos = order.get_indexer(pd.MultiIndex.from_arrays([keys, values]))
    found = pos >= 0
    out = np.asarray(values, dtype=object).copy()
    if found.any():
        b = np.searchsorted(uniq, np.asarray(keys)[found])
        new = _other_in_block(rng, pos[found], start[b], size[b])
        out[found] = v[new]
    return out


def _perturb(rng, true: pd.DataFrame, fields, population, error_rate, missing_rate):
    """Apply errors then missingness per field; returns (visible frame, flags frame)."""
    err = _rates(error_rate, fields, "error_rate")
    miss = _rates(missing_rate, fields, "missing_rate")
    n = len(true)
    vis = {}
    flags = {}
    pop_major_share = population["ethnicity_major"].value_counts(normalize=True)
    for f in fields:
        col = true[f]
        e = rng.random(n) < err[f]
        new = col.copy()
        idx = np.flatnonzero(e & col.notna().to_numpy())
        if idx.size:
            new = _wrong_values(rng, f, true, idx, population, pop_major_share, new)
        changed = (new.astype(object).to_numpy() != col.astype(object).to_numpy())
        changed &= col.notna().to_numpy()
        m = rng.random(n) < miss[f]
        if m.any():
            new = new.copy()
            new.iloc[np.flatnonzero(m)] = pd.NA if not pd.api.types.is_datetime64_any_dtype(new) else pd.NaT
        vis[f] = new
        flags[f"_error_{f}"] = changed
        flags[f"_missing_{f}"] = m
    return pd.DataFrame(vis, index=true.index), pd.DataFrame(flags, index=true.index)


def _wrong_values(rng, f, true, idx, population, major_share, new):
    """Values different from the truth for rows ``idx`` (plausible mistakes)."""
    new = new.copy()
    k = idx.size
    if f in ("sex",):
        cur = true[f].iloc[idx].astype(str).to_numpy()
        new.iloc[idx] = np.where(cur == "F", "M", "F")
    elif f in ("eal", "fsm"):
        new.iloc[idx] = ~true[f].iloc[idx].to_numpy(dtype=bool)
    elif f == "year_group":
        cur = true[f].iloc[idx].to_numpy().astype(np.int64)
        step = np.where(rng.random(k) < 0.5, -1, 1)
        step = np.where(cur + step < 0, 1, np.where(cur + step > 13, -1, step))
        new.iloc[idx] = cur + step
    elif f == "birth_month":
        cur = true[f].iloc[idx].to_numpy().astype(np.int64)
        step = np.where(rng.random(k) < 0.5, -1, 1)
        new.iloc[idx] = (cur - 1 + step) % 12 + 1
    elif f == "birth_year":
        cur = true[f].iloc[idx].to_numpy().astype(np.int64)
        new.iloc[idx] = cur + np.where(rng.random(k) < 0.5, -1, 1)
    elif f == "date_of_birth":
        days = rng.integers(1, 8, k) * np.where(rng.random(k) < 0.5, -1, 1)
        new.iloc[idx] = true[f].iloc[idx].to_numpy() + days.astype("timedelta64[D]")
    elif f == "ethnicity_major":
        cats = list(major_share.index)
        p = major_share.reindex(cats).to_numpy(dtype=float)
        cur = true[f].iloc[idx].astype(object).to_numpy()
        probs = np.tile(p, (k, 1))
        probs[np.arange(k), [cats.index(c) for c in cur]] = 0.0
        tot = probs.sum(axis=1, keepdims=True)
        ok = tot[:, 0] > 0  # no other group in the population: the value stays right
        cdf = (probs[ok] / tot[ok]).cumsum(axis=1)
        pick = (rng.random(int(ok.sum()))[:, None] > cdf).sum(axis=1)
        new.iloc[idx[ok]] = np.asarray(cats, dtype=object)[np.minimum(pick, len(cats) - 1)]
    elif f == "ethnicity_minor":
        major = population["ethnicity_minor"].astype(object).map(R.ETHNICITY_MAJOR)
        new.iloc[idx] = _swap_within(
            rng, true[f].iloc[idx].astype(object).map(R.ETHNICITY_MAJOR).to_numpy(),
            true[f].iloc[idx].astype(object).to_numpy(),
            major.to_numpy(), population["ethnicity_minor"].astype(object).to_numpy())
    elif f in ("urn",):
        ph = population["school_phase"].astype(str)
        keys = (population["la_code"].astype(str) + "|" + ph).to_numpy()
        rkeys = (population["region"].astype(str) + "|" + ph).to_numpy()
        tph = true["_phase"].iloc[idx].astype(str)
        tk = (true["_la"].iloc[idx].astype(str) + "|" + tph).to_numpy()
        trk = (true["_region"].iloc[idx].astype(str) + "|" + tph).to_numpy()
        new.iloc[idx] = _swap_within(rng, tk, true[f].iloc[idx].to_numpy(), keys,
                                     population["urn"].to_numpy(),
                                     fallbacks=[(trk, rkeys), (tph.to_numpy(), ph.to_numpy())]
                                     ).astype(np.int64)
    elif f in ("postcode_district", "lsoa"):
        new.iloc[idx] = _swap_within(rng, true["_la"].iloc[idx].astype(str).to_numpy(),
                                     true[f].iloc[idx].astype(object).to_numpy(),
                                     population["la_code"].astype(str).to_numpy(),
                                     population[f].astype(object).to_numpy(),
                                     fallbacks=[(true["_region"].iloc[idx].astype(str).to_numpy(),
                                                 population["region"].astype(str).to_numpy())])
    elif f == "la_code":
        new.iloc[idx] = _swap_within(rng, true["_region"].iloc[idx].astype(str).to_numpy(),
                                     true[f].iloc[idx].astype(object).to_numpy(),
                                     population["region"].astype(str).to_numpy(),
                                     population["la_code"].astype(object).to_numpy())
    else:  # any categorical: another observed category
        cats = np.asarray(pd.unique(population[f].dropna().astype(object)), dtype=object)
        cur = true[f].iloc[idx].astype(object).to_numpy()
        if cats.size > 1:
            pick = cats[rng.integers(0, cats.size, k)]
            clash = pick == cur
            while clash.any():
                pick[clash] = cats[rng.integers(0, cats.size, int(clash.sum()))]
                clash = pick == cur
            new.iloc[idx] = pick
    return new


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


def social_media_profiles(population: pd.DataFrame, n_profiles: int, *, seed: int = 0,
                          error_rate=0.05, missing_rate=0.10, coarsening: dict | None = None,
                          time_lag_years: int = 0, school_move_rate: float = 0.04,
                          home_move_rate: float = 0.08) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        Visible columns: the profile fields (after coarsening), ``posted_years_ago``;
        hidden: ``_truth_pupil_id`` and the ``_error_*``, ``_missing_*``, ``_stale_*``
        flags. Categorical-looking fields are plain object columns; missing is ``pd.NA``.
    """
    frame = as_frame(population, name="population")
    seed = _check_seed(seed)
    check_columns(frame, list(PROFILE_FIELDS) + ["pupil_id", "la_code", "region",
                                                 "school_phase"], role="population")
    co = _check_coarsening(coarsening)
    if isinstance(time_lag_years, bool) or not isinstance(time_lag_years, (int, np.integer)) \
            or not 0 <= time_lag_years <= 13:
        raise InvalidParameterError(f"time_lag_years must be an int in 0..13, got {time_lag_years!r}")
    for name, v in (("school_move_rate", school_move_rate), ("home_move_rate", home_move_rate)):
        if isinstance(v, bool) or not isinstance(v, Real) or not 0 <= v <= 1:
            raise InvalidParameterError(f"{name} must be a number in [0, 1], got {v!r}")
    rng = _streams(seed, ["profiles"])["profiles"]
    lag = int(time_lag_years)
    yg = frame["year_group"].to_numpy().astype(np.int64)
    rows = _sample_rows(rng, frame, n_profiles, yg >= lag, "n_profiles")
    true = _as_object_frame(frame, rows, list(PROFILE_FIELDS))
    true["_la"] = frame["la_code"].astype(object).iloc[rows].to_numpy()
    true["_phase"] = frame["school_phase"].astype(object).iloc[rows].to_numpy()
    true["_region"] = frame["region"].astype(object).iloc[rows].to_numpy()
    stale_school = np.zeros(len(rows), dtype=bool)
    stale_home = np.zeros(len(rows), dtype=bool)
    if lag:
        true["year_group"] = (true["year_group"] - lag).astype("Int64")
        then_phase = np.where(true["year_group"].to_numpy(dtype=np.int64) <= 6, "primary", "secondary")
        special = true["_phase"].to_numpy() == "special"
        phase_change = (then_phase != true["_phase"].to_numpy()) & ~special
        moved = rng.random(len(rows)) < 1 - (1 - school_move_rate) ** lag
        stale_school = phase_change | moved
        # the school then: another school of the (then) phase in the same LA
        then_key = np.where(special, "special", then_phase).astype(str)
        f_phase = frame["school_phase"].astype(str)
        idx = np.flatnonzero(stale_school)
        if idx.size:
            # a school of the phase then, in the same LA, else the region, else anywhere
            cand = np.full(idx.size, -1, dtype=np.int64)
            for area_col, t_area in (("la_code", "_la"), ("region", "_region"), (None, None)):
                todo = cand < 0
                if not todo.any():
                    break
                if area_col is None:
                    keys = f_phase.to_numpy()
                    tk = then_key[idx[todo]]
                else:
                    keys = (frame[area_col].astype(str) + "|" + f_phase).to_numpy()
                    tk = np.char.add(np.char.add(
                        true[t_area].to_numpy()[idx[todo]].astype(str), "|"), then_key[idx[todo]])
                cand[todo] = _pick_in_group(rng, tk, keys, frame["urn"].to_numpy(),
                                            exclude=true["urn"].to_numpy()[idx[todo]].astype(np.int64))
            ok = cand >= 0
            true.loc[idx[ok], "urn"] = cand[ok]
            stale_school[idx[~ok]] = False
        stale_home = rng.random(len(rows)) < 1 - (1 - home_move_rate) ** lag
        idx = np.flatnonzero(stale_home)
        if idx.size:
            old = true["postcode_district"].to_numpy()[idx]
            new = _swap_within(rng, true["_la"].to_numpy()[idx].astype(str), old,
                               frame["la_code"].astype(str).to_numpy(),
                               frame["postcode_district"].astype(object).to_numpy())
            true.loc[idx, "postcode_district"] = new
            stale_home[idx] = new != old
    vis, flags = _perturb(rng, true, list(PROFILE_FIELDS), frame, error_rate, missing_rate)
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
    vis["posted_years_ago"] = lag
    vis["_truth_pupil_id"] = frame["pupil_id"].iloc[rows].astype(str).to_numpy()
    out = pd.concat([vis, flags], axis=1)
    out["_stale_urn"] = stale_school
    out["_stale_postcode_district"] = stale_home
    return out


def _pick_in_group(rng, keys, pool_keys, pool_values, exclude):
    """A random pool value with the given key, different from ``exclude`` (-1 if none)."""
    pairs = pd.DataFrame({"k": pool_keys, "v": pool_values}).drop_duplicates().sort_values(["k", "v"])
    k = pairs["k"].to_numpy().astype(str)
    v = pairs["v"].to_numpy()
    uniq, start, size = np.unique(k, return_index=True, return_counts=True)
    b = np.searchsorted(uniq, keys)
    b = np.minimum(b, max(uniq.size - 1, 0))
    found = (uniq.size > 0) & (uniq[b] == keys)
    out = np.full(keys.shape[0], -1, dtype=np.int64)
    if not found.any():
        return out
    fi = np.flatnonzero(found)
    m = size[b[fi]]
    pos = start[b[fi]] + np.floor(rng.random(fi.size) * m).astype(np.int64)
    cand = v[pos]
    same = cand == exclude[fi]
    # step to the next member of the block when we hit the excluded value
    alt = start[b[fi]] + (pos - start[b[fi]] + 1) % m
    cand = np.where(same & (m > 1), v[alt], cand)
    cand = np.where(same & (m <= 1), -1, cand)
    out[fi] = cand
    return out


def nosy_neighbour(population: pd.DataFrame, n_targets: int, *, seed: int = 0,
                   error_rate=0.02, missing_rate=0.05) -> pd.DataFrame:
    """Near-complete facts a neighbour, relative or parent at the school gate knows.

    One row per target pupil (sampled uniformly, without replacement) with the fields of
    :data:`NOSY_FIELDS` (school, LA, year group, sex, full date of birth, birth month and
    year, ethnic major and minor group, EAL and first language, home postcode district
    and LSOA, SEN provision, FSM), each wrong with probability ``error_rate`` and blank
    with probability ``missing_rate`` (float or dict per field), plus the hidden
    ``_truth_pupil_id`` and ``_error_*`` / ``_missing_*`` flags.
    """
    frame = as_frame(population, name="population")
    seed = _check_seed(seed)
    check_columns(frame, list(NOSY_FIELDS) + ["pupil_id", "region", "school_phase"],
                  role="population")
    rng = _streams(seed, ["nosy"])["nosy"]
    rows = _sample_rows(rng, frame, n_targets, np.ones(len(frame), dtype=bool), "n_targets")
    true = _as_object_frame(frame, rows, list(NOSY_FIELDS))
    true["date_of_birth"] = frame["date_of_birth"].iloc[rows].reset_index(drop=True)
    true["_la"] = frame["la_code"].astype(object).iloc[rows].to_numpy()
    true["_phase"] = frame["school_phase"].astype(object).iloc[rows].to_numpy()
    true["_region"] = frame["region"].astype(object).iloc[rows].to_numpy()
    vis, flags = _perturb(rng, true, list(NOSY_FIELDS), frame, error_rate, missing_rate)
    vis["_truth_pupil_id"] = frame["pupil_id"].iloc[rows].astype(str).to_numpy()
    return pd.concat([vis, flags], axis=1)
