"""Seeded synthetic population of pupils in state-funded schools in an England-like system.

The generator is fully vectorised (numpy; no per-row Python loop) and deterministic: the
same ``n`` and ``seed`` give the same frame, and :func:`write_population` the same bytes.
Marginals and the main correlations follow DfE published statistics (see
:mod:`idrisk.datasets._reference` and ``datasets/README.md`` for every figure and its
source). It is a *synthetic* population: every pupil, school, LSOA and postcode district
code is invented; none refers to a real person or place.

The snapshot is the January 2024 spring school census (academic year 2023/24), extended
with the pupil's results of that academic year (KS2 in Year 6, GCSEs in Year 11), so that
the standard extracts can be cut from one frame.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError
from . import _reference as R
from ._sampling import (
    calibrate_intercept,
    draw_by_group,
    draw_categorical,
    expit,
    largest_remainder,
    logit,
)

_log = logging.getLogger(__name__)

__all__ = ["POPULATION_COLUMNS", "make_geography", "make_population", "make_schools"]

#: Column names of :func:`make_population`, in order (a contract with other modules).
POPULATION_COLUMNS = (
    "pupil_id", "urn", "school_phase", "school_type", "la_code", "region", "year_group",
    "date_of_birth", "birth_month", "birth_year", "sex", "ethnicity_minor",
    "ethnicity_major", "fsm", "sen_provision", "sen_primary_need", "eal",
    "first_language", "lsoa", "postcode_district", "ks2_reading", "ks2_maths",
    "attainment8", "absence_rate", "suspensions", "permanent_exclusion", "cin", "cla",
)

PHASES = ("primary", "secondary", "special")
YEAR_GROUPS = np.arange(14)  # 0 = Reception, 1..13 = Years 1-13
MAX_N = 20_000_000
#: Fixed seed of the synthetic geography (LAs and their sizes do not depend on ``seed``).
_GEOGRAPHY_SEED = 20240118
_ETH_CODES = list(R.ETHNICITY_MAJOR)
_NEEDS = ["ASD", "HI", "MLD", "MSI", "NSA", "OTH", "PD", "PMLD", "SEMH", "SLCN", "SLD",
          "SPLD", "VI"]


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InvalidParameterError(f"n must be an int (number of pupils), got {type(n).__name__}")
    n = int(n)
    if n < 1 or n > MAX_N:
        raise InvalidParameterError(f"n must be between 1 and {MAX_N:,} pupils, got {n:,}")
    return n


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise InvalidParameterError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def _streams(seed: int, names):
    """Independent random streams, one per named stage (stable when stages are added)."""
    out = {}
    for name in names:
        key = [seed] + [ord(c) for c in name]
        out[name] = np.random.default_rng(np.random.SeedSequence(key))
    return out


# ---------------------------------------------------------------------------------------
# Geography
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Geography:
    """Synthetic LAs, postcode districts and LSOAs (internal; see :func:`make_geography`)."""

    las: pd.DataFrame  # la_code, region, weight (share of national pupils)
    district_la: np.ndarray  # LA index of each postcode district
    district_codes: np.ndarray  # str
    lsoa_la: np.ndarray  # LA index of each LSOA
    lsoa_district: np.ndarray  # district index of each LSOA
    lsoa_codes: np.ndarray  # str
    la_lsoa_start: np.ndarray  # LSOAs of LA j are la_lsoa_start[j] .. la_lsoa_start[j+1]-1


def make_geography(n: int) -> Geography:
    """LAs (fixed: 153 in 9 regions) and postcode districts / LSOAs scaled with ``n``.

    LA pupil shares are lognormal around the regional share (SD 0.6 on the log scale, a
    model value giving LAs from under 5k to over 150k pupils at national scale). The
    numbers of LSOAs and postcode districts are the national counts scaled by
    ``n / NATIONAL_PUPILS`` (at least one per LA), so that a scaled-down population keeps
    national pupils-per-area densities.
    """
    n = _check_n(n)
    rng = np.random.default_rng(_GEOGRAPHY_SEED)
    codes, regions, weights = [], [], []
    for r_idx, (region, (n_las, share)) in enumerate(R.REGIONS.items()):
        w = rng.lognormal(0.0, 0.6, n_las)
        w = share * w / w.sum()
        for j in range(n_las):
            codes.append(f"{(r_idx + 1) * 100 + j + 1:03d}")
            regions.append(region)
        weights.extend(w.tolist())
    weights = np.asarray(weights)
    weights /= weights.sum()
    las = pd.DataFrame({"la_code": codes, "region": regions, "weight": weights})
    n_la = len(las)
    scale = n / R.NATIONAL_PUPILS
    n_lsoa = largest_remainder(max(n_la, round(R.NATIONAL_LSOAS * scale)) - n_la, weights) + 1
    n_dist = largest_remainder(
        max(n_la, round(R.NATIONAL_POSTCODE_DISTRICTS * scale)) - n_la, weights) + 1
    n_dist = np.minimum(n_dist, n_lsoa)
    la_lsoa_start = np.concatenate([[0], np.cumsum(n_lsoa)])
    lsoa_la = np.repeat(np.arange(n_la), n_lsoa)
    district_la = np.repeat(np.arange(n_la), n_dist)
    dist_start = np.concatenate([[0], np.cumsum(n_dist)])
    # LSOAs of an LA are split into its districts in contiguous blocks
    local = np.arange(lsoa_la.shape[0]) - la_lsoa_start[lsoa_la]
    lsoa_district = dist_start[lsoa_la] + (local * n_dist[lsoa_la]) // n_lsoa[lsoa_la]
    # synthetic postcode areas: two letters per LA, districts numbered from 1
    letters = np.array(list("ABCDEFGHJKLMNOPRSTUWYZ"))
    area = np.array([letters[i // len(letters)] + letters[i % len(letters)]
                     for i in range(n_la)])
    dist_local = np.arange(district_la.shape[0]) - dist_start[district_la] + 1
    district_codes = np.char.add(area[district_la], dist_local.astype(str))
    lsoa_codes = np.char.add("E01", np.char.zfill((np.arange(lsoa_la.shape[0]) + 1).astype(str), 6))
    return Geography(las, district_la, district_codes, lsoa_la, lsoa_district, lsoa_codes,
                     la_lsoa_start)


# ---------------------------------------------------------------------------------------
# Schools
# ---------------------------------------------------------------------------------------
def _phase_counts(n: int):
    pupils = largest_remainder(n, [R.PHASE_SHARE[p] for p in PHASES])
    scale = n / R.NATIONAL_PUPILS
    schools = []
    for p, k in zip(PHASES, pupils):
        if k == 0:
            schools.append(0)
        else:
            schools.append(int(min(k, max(1, round(R.NATIONAL_SCHOOLS[p] * scale)))))
    return pupils, np.asarray(schools)


def _schools_table(n: int, seed: int, geo: Geography) -> pd.DataFrame:
    rng = _streams(seed, ["schools"])["schools"]
    pupils, n_schools = _phase_counts(n)
    total = int(n_schools.sum())
    phase = np.repeat(np.arange(3), n_schools)
    la = draw_categorical(rng, geo.las["weight"].to_numpy(), total)
    sizes = np.empty(total, dtype=np.int64)
    school_type = np.empty(total, dtype=object)
    sixth = np.zeros(total, dtype=bool)
    start = 0
    for p_idx, p in enumerate(PHASES):
        k = int(n_schools[p_idx])
        if k == 0:
            continue
        cv = R.SCHOOL_SIZE_CV[p]
        sigma = np.sqrt(np.log1p(cv * cv))
        raw = rng.lognormal(0.0, sigma, k)
        extra = int(pupils[p_idx]) - k  # every school gets at least one pupil
        sizes[start:start + k] = 1 + rng.multinomial(extra, raw / raw.sum())
        types = list(R.SCHOOL_TYPES[p])
        school_type[start:start + k] = np.asarray(types, dtype=object)[
            draw_categorical(rng, list(R.SCHOOL_TYPES[p].values()), k)]
        if p == "secondary":
            sixth[start:start + k] = rng.random(k) < R.SIXTH_FORM_SHARE
        start += k
    urn = np.sort(rng.choice(np.arange(100_000, 1_000_000), size=total, replace=False))
    urn = rng.permutation(urn)
    las = geo.las
    frame = pd.DataFrame({
        "urn": urn.astype(np.int32),
        "la_code": pd.Categorical.from_codes(la, categories=las["la_code"]),
        "region": pd.Categorical(las["region"].to_numpy()[la], categories=list(R.REGIONS)),
        "school_phase": pd.Categorical.from_codes(phase, categories=list(PHASES)),
        "school_type": pd.Categorical(school_type, categories=sorted(
            {t for d in R.SCHOOL_TYPES.values() for t in d})),
        "has_sixth_form": sixth,
        "size": sizes,
    })
    # order schools by LA then phase so that pupils of one LA are contiguous
    order = np.lexsort((frame["urn"].to_numpy(), phase, la))
    frame = frame.iloc[order].reset_index(drop=True)
    return frame


def make_schools(n: int, *, seed: int = 0) -> pd.DataFrame:
    """The schools of the synthetic population of ``n`` pupils with seed ``seed``.

    Identical to the schools used by ``make_population(n, seed=seed)``: ``size`` is the
    number of pupils each school has in that population.

    Returns
    -------
    pandas.DataFrame with columns ``urn`` (int32, synthetic 6-digit), ``la_code``,
    ``region``, ``school_phase`` (primary/secondary/special), ``school_type``,
    ``has_sixth_form`` (bool) and ``size`` (pupils on roll). School counts are the
    national counts (about 16,800 primary, 3,400 secondary, 1,050 special; SPC 2023/24)
    scaled by ``n / 8.5 million``, at least one per phase.
    """
    n = _check_n(n)
    seed = _check_seed(seed)
    return _schools_table(n, seed, make_geography(n))


# ---------------------------------------------------------------------------------------
# Pupils
# ---------------------------------------------------------------------------------------
def _regional_ethnicity() -> np.ndarray:
    """(9 regions, 20 minor groups) expected distribution from the reference tables."""
    nat = R.ETHNICITY_NATIONAL
    idx = {c: i for i, c in enumerate(_ETH_CODES)}
    out = np.zeros((len(R.REGIONS), len(_ETH_CODES)))
    white_other = ["WIRI", "WIRT", "WOTH", "WROM"]
    mixed = ["MWBC", "MWBA", "MWAS", "MOTH"]
    for r, region in enumerate(R.REGIONS):
        white, mix, asian, black, chin, other, uncl = R.REGION_MAJOR_SHARE[region]
        wb = R.REGION_WBRI_OF_WHITE[region]
        out[r, idx["WBRI"]] = white * wb
        wo = np.array([nat[c] for c in white_other])
        out[r, [idx[c] for c in white_other]] = white * (1 - wb) * wo / wo.sum()
        mx = np.array([nat[c] for c in mixed])
        out[r, [idx[c] for c in mixed]] = mix * mx / mx.sum()
        out[r, [idx[c] for c in ["AIND", "APKN", "ABAN", "AOTH"]]] = asian * np.asarray(
            R.ASIAN_SPLIT[region])
        out[r, [idx[c] for c in ["BCRB", "BAFR", "BOTH"]]] = black * np.asarray(
            R.BLACK_SPLIT.get(region, R.BLACK_SPLIT["default"]))
        out[r, idx["CHNE"]] = chin
        out[r, idx["OOTH"]] = other
        un = np.array([nat["REFU"], nat["NOBT"]])
        out[r, [idx["REFU"], idx["NOBT"]]] = uncl * un / un.sum()
    out /= out.sum(axis=1, keepdims=True)
    # rake (iterative proportional fitting) so that the pupil-weighted national mix is
    # exactly ETHNICITY_NATIONAL while keeping the regional pattern
    w = np.array([share for _, share in R.REGIONS.values()])
    w = w / w.sum()
    target = np.array([nat[c] for c in _ETH_CODES])
    target = target / target.sum()
    for _ in range(200):
        out *= (target / (w @ out))[None, :]
        out /= out.sum(axis=1, keepdims=True)
    return out


def _languages():
    langs = sorted({lang for d in R.FIRST_LANGUAGE.values() for lang in d} | {"ENG"})
    li = {c: i for i, c in enumerate(langs)}
    probs = np.zeros((len(_ETH_CODES), len(langs)))
    for e, code in enumerate(_ETH_CODES):
        table = R.FIRST_LANGUAGE.get(code, R.FIRST_LANGUAGE["default"])
        for lang, w in table.items():
            probs[e, li[lang]] = w
    return langs, probs


def _lookup(mapping, keys, default=0.0):
    return np.array([mapping.get(k, default) for k in keys], dtype=np.float64)


def _progress(progress, total):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="synthetic pupils", unit="stage", disable=False)


def make_population(n: int, *, seed: int = 0, progress: bool | None = None) -> pd.DataFrame:
    """Generate ``n`` synthetic pupils (one row each) of an England-like school system.

    Parameters
    ----------
    n : int
        Number of pupils, 1 .. 20,000,000 (national scale is about 8.5 million).
    seed : int, default 0
        Seed; the same ``(n, seed)`` always gives the same frame.
    progress : bool or None
        Show a progress bar (tqdm); ``None`` shows it only when stderr is a terminal.

    Returns
    -------
    pandas.DataFrame with the columns of :data:`POPULATION_COLUMNS`, a RangeIndex, and
    rows grouped by LA, school and year group:

    ``pupil_id`` (str, direct identifier, synthetic "P" + digits, randomly permuted),
    ``urn`` (int32), ``school_phase``, ``school_type``, ``la_code``, ``region``
    (categoricals), ``year_group`` (int8: 0 = Reception, 1..13 = Years 1-13; nursery is
    not modelled), ``date_of_birth`` (datetime64[ns]; a pupil in year group ``y`` in
    2023/24 was born between 1 September ``2018 - y`` and 31 August ``2019 - y``; nobody is
    out of year group), ``birth_month`` (int8), ``birth_year`` (int16), ``sex`` (F/M),
    ``ethnicity_minor`` (20 DfE codes, e.g. WBRI), ``ethnicity_major`` (7 groups),
    ``fsm`` (bool), ``sen_provision`` (N/K/E), ``sen_primary_need`` (13 DfE codes; NA
    when N), ``eal`` (bool), ``first_language`` (DfE language code; ENG when not EAL),
    ``lsoa``, ``postcode_district`` (home; in the school's LA except for cross-border
    pupils, who live in another LA of the same region), ``ks2_reading``, ``ks2_maths``
    (Int16 scaled scores 80..120; NA before Year 6, for the cancelled 2020 and 2021 tests
    (Years 10 and 9) and for pupils not scored), ``attainment8`` (Int16 0..90, Years
    11-13 only), ``absence_rate`` (share of 380 possible sessions missed), ``suspensions``
    (int16 count in the year), ``permanent_exclusion``, ``cin``, ``cla`` (bool; looked-after
    children are also children in need).

    Notes
    -----
    Figures and their sources: ``datasets/README.md``. Characteristics are drawn in order
    school -> year group -> date of birth, sex -> ethnicity (school-level mix around the
    regional one) -> EAL and first language | ethnicity -> SEN | sex, year, phase -> FSM |
    region, SEN, ethnicity, school -> CIN/CLA | FSM, SEN -> attainment | FSM, SEN, sex,
    ethnicity, EAL, birth month, school -> absence and exclusions | phase, FSM, SEN, sex,
    year group. Logistic intercepts are calibrated so the published national rates hold.
    """
    n = _check_n(n)
    seed = _check_seed(seed)
    bar = _progress(progress, 11)
    clock = [time.perf_counter()]

    def step(stage):
        now = time.perf_counter()
        _log.debug("make_population(n=%d): %s took %.3f s", n, stage, now - clock[0])
        clock[0] = now
        if bar is not None:
            bar.set_postfix_str(stage, refresh=False)
            bar.update(1)

    geo = make_geography(n)
    schools = _schools_table(n, seed, geo)
    rs = _streams(seed, ["year", "dob", "sex", "eth", "lang", "sen", "fsm", "cin", "att",
                         "abs", "exc", "home", "id"])
    step("schools")

    # ---- schools -> pupils, year groups --------------------------------------------
    sizes = schools["size"].to_numpy()
    s_phase = schools["school_phase"].cat.codes.to_numpy()
    s_la = schools["la_code"].cat.codes.to_numpy().astype(np.int64)
    n_s = len(schools)
    yw = np.zeros((n_s, 14))
    for p_idx, p in enumerate(PHASES):
        w = np.zeros(14)
        for y, v in R.YEAR_GROUP_WEIGHTS[p].items():
            w[y] = v
        yw[s_phase == p_idx] = w
    no_sixth = (s_phase == 1) & ~schools["has_sixth_form"].to_numpy()
    yw[no_sixth, 12:] = 0.0
    yw /= yw.sum(axis=1, keepdims=True)
    counts = rs["year"].multinomial(sizes, yw)
    school = np.repeat(np.arange(n_s), sizes)
    year = np.repeat(np.tile(np.arange(14, dtype=np.int8), n_s), counts.ravel())
    phase = s_phase[school]
    la = s_la[school]
    region_of_la = pd.Categorical(geo.las["region"], categories=list(R.REGIONS)).codes
    region = region_of_la[la].astype(np.int64)
    step("year groups")

    # ---- date of birth -------------------------------------------------------------
    y64 = year.astype(np.int64)
    # cohort of year group y: born 1 Sep (A-5-y) .. 31 Aug (A-4-y); lookup tables per
    # (year group, day of the cohort year) avoid slow datetime casts on n values
    starts = np.array([np.datetime64(f"{R.ACADEMIC_YEAR_START - 5 - y}-09-01") for y in range(14)],
                      dtype="datetime64[D]")
    ends = np.array([np.datetime64(f"{R.ACADEMIC_YEAR_START - 4 - y}-09-01") for y in range(14)],
                    dtype="datetime64[D]")
    span = (ends - starts).astype(np.int64)
    days_tab = starts[:, None] + np.minimum(np.arange(366)[None, :], span[:, None] - 1)
    month_tab = (days_tab.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.int8)
    year_tab = (days_tab.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int16)
    offset = np.floor(rs["dob"].random(n) * span[y64]).astype(np.int64)
    flat = y64 * 366 + offset
    dob = ((starts.astype(np.int64)[y64] + offset) * 86_400_000_000_000).view("datetime64[ns]")
    birth_month = month_tab.ravel()[flat]
    birth_year = year_tab.ravel()[flat]
    del offset, flat
    # months since September of the cohort year (0 = September-born, 11 = August-born)
    month_in_cohort = (birth_month.astype(np.int64) - 9) % 12
    male = rs["sex"].random(n) < _lookup(R.MALE_SHARE, PHASES)[phase]
    step("dates of birth")

    # ---- ethnicity (school-level mix around the regional mix) -----------------------
    reg_eth = _regional_ethnicity()
    s_region = region_of_la[s_la]
    alpha = R.SCHOOL_ETHNICITY_CONCENTRATION * reg_eth[s_region]
    mix = rs["eth"].gamma(np.maximum(alpha, 1e-3))
    mix /= mix.sum(axis=1, keepdims=True)
    # fall back to the regional mix for schools whose gamma draws underflowed
    bad = ~np.isfinite(mix).all(axis=1)
    mix[bad] = reg_eth[s_region[bad]]
    eth = draw_by_group(rs["eth"], mix, school)
    eth_major_map = pd.Categorical([R.ETHNICITY_MAJOR[c] for c in _ETH_CODES],
                                   categories=R.ETHNICITY_MAJOR_LEVELS).codes
    step("ethnicity")

    # ---- EAL and first language -----------------------------------------------------
    lin_l = logit(_lookup(R.EAL_BY_ETHNICITY, _ETH_CODES))[eth]
    a_l = calibrate_intercept(lin_l, R.EAL_SHARE)
    eal = rs["lang"].random(n) < expit(lin_l + a_l)
    langs, lang_probs = _languages()
    lang = np.full(n, langs.index("ENG"), dtype=np.int32)
    idx = np.flatnonzero(eal)
    lang[idx] = draw_by_group(rs["lang"], lang_probs, eth[idx])

    # ---- SEN ------------------------------------------------------------------------
    special = phase == 2
    mainstream = ~special
    lin_e = (np.log(R.SEN_EHC_MALE_OR) * male
             + np.log(_lookup(R.SEN_EHC_YEAR_OR, range(14))[y64]))
    n_main = int(mainstream.sum())
    target_e_main = max(1e-4, (R.SEN_EHC_SHARE * n - R.SPECIAL_SCHOOL_EHC_SHARE * special.sum())
                        / max(n_main, 1))
    sen = np.zeros(n, dtype=np.int8)  # 0 = N, 1 = K, 2 = E
    u = rs["sen"].random(n)
    if n_main:
        a_e = calibrate_intercept(lin_e[mainstream], target_e_main)
        p_e = expit(lin_e + a_e)
    else:
        p_e = np.zeros(n)
    p_e[special] = R.SPECIAL_SCHOOL_EHC_SHARE
    is_e = u < p_e
    lin_k = (np.log(R.SEN_SUPPORT_MALE_OR) * male
             + np.log(_lookup(R.SEN_SUPPORT_YEAR_OR, range(14))[y64]))
    not_e_main = mainstream & ~is_e
    target_k = (R.SEN_SUPPORT_SHARE * n - (special & ~is_e).sum()) / max(int(not_e_main.sum()), 1)
    target_k = float(np.clip(target_k, 1e-4, 0.9))
    if not_e_main.any():
        a_k = calibrate_intercept(lin_k[not_e_main], target_k)
        p_k = expit(lin_k + a_k)
    else:
        p_k = np.zeros(n)
    p_k[special] = 1.0  # special-school pupils without a plan are on SEN support
    u2 = rs["sen"].random(n)
    sen[~is_e & (u2 < p_k)] = 1
    sen[is_e] = 2
    del lin_e, lin_k, p_e, p_k, u, u2, is_e, not_e_main
    need = np.full(n, -1, dtype=np.int32)
    need_probs = np.zeros((2, len(_NEEDS)))
    for row, prov in enumerate(["K", "E"]):
        for code, w in R.SEN_NEED[prov].items():
            need_probs[row, _NEEDS.index(code)] = w
    has = np.flatnonzero(sen > 0)
    need[has] = draw_by_group(rs["sen"], need_probs, sen[has] - 1)
    step("SEN")

    # ---- FSM ------------------------------------------------------------------------
    # within a region: SEN, ethnicity and school effects (log-odds ratios around the
    # national rate); one intercept per region calibrated to the region's published rate
    base = logit(R.FSM_SHARE)
    lin_f = ((logit(_lookup(R.FSM_BY_SEN, ["N", "K", "E"])) - base)[sen]
             + (logit(_lookup(R.FSM_BY_ETHNICITY, _ETH_CODES)) - base)[eth]
             + rs["fsm"].normal(0.0, R.SCHOOL_FSM_SD, n_s)[school])
    for r_idx, r_name in enumerate(R.REGIONS):
        m = region == r_idx
        if m.any():
            lin_f[m] += calibrate_intercept(lin_f[m], R.REGION_FSM[r_name])
    fsm = rs["fsm"].random(n) < expit(lin_f)
    del lin_f

    # ---- children in need, looked after ---------------------------------------------
    lin_c = (np.log(R.CIN_OR["fsm"]) * fsm
             + np.log(np.array([1.0, R.CIN_OR["K"], R.CIN_OR["E"]]))[sen])
    a_c = calibrate_intercept(lin_c, R.CIN_SHARE)
    cin = rs["cin"].random(n) < expit(lin_c + a_c)
    cla = cin & (rs["cin"].random(n) < R.CLA_SHARE_OF_CIN)
    del lin_c
    step("FSM and CIN")

    # ---- attainment -----------------------------------------------------------------
    eff = R.ATTAINMENT_EFFECTS
    female = ~male
    lin_a = (eff["fsm"] * fsm
             + np.array([0.0, eff["K"], eff["E"]])[sen]
             + eff["eal"] * eal
             + eff["cla"] * cla
             + eff["summer_born_per_month"] * month_in_cohort
             + _lookup(R.ATTAINMENT_ETHNICITY, _ETH_CODES)[eth])
    school_re = rs["att"].normal(0.0, R.SCHOOL_ATTAINMENT_SD, n_s)[school]
    resid_sd = np.sqrt(max(0.25, 1.0 - lin_a.var() - R.SCHOOL_ATTAINMENT_SD ** 2))
    zc = lin_a + school_re + rs["att"].normal(0.0, resid_sd, n)
    z_read = 0.85 * zc + 0.53 * rs["att"].normal(size=n) + eff["female_reading"] * female
    z_math = 0.85 * zc + 0.53 * rs["att"].normal(size=n) + eff["female_maths"] * female
    z_a8 = 0.80 * zc + 0.60 * rs["att"].normal(size=n) + eff["female_a8"] * female
    ks2_year = R.ACADEMIC_YEAR_START + 1 - (y64 - 6)
    has_ks2 = ((year >= 6) & (ks2_year >= R.KS2_FIRST_YEAR)
               & ~np.isin(ks2_year, R.KS2_CANCELLED_YEARS))
    scored = rs["att"].random(n) >= _lookup(R.KS2_NOT_SCORED, ["N", "K", "E"])[sen]
    has_ks2 &= scored
    has_a8 = year >= 11

    def _scores(z, mask, mean, sd, lo, hi):
        out = np.zeros(n, dtype=np.int16)
        zz = z[mask]
        if zz.size:
            centred = (zz - zz.mean()) / max(zz.std(), 1e-9)
            out[mask] = np.clip(np.rint(mean + sd * centred), lo, hi).astype(np.int16)
        return pd.arrays.IntegerArray(out, ~mask)

    ks2_reading = _scores(z_read, has_ks2, R.KS2_MEAN["reading"], R.KS2_SD["reading"], 80, 120)
    ks2_maths = _scores(z_math, has_ks2, R.KS2_MEAN["maths"], R.KS2_SD["maths"], 80, 120)
    attainment8 = _scores(z_a8, has_a8, R.A8_MEAN, R.A8_SD, 0, 90)
    del z_read, z_math, z_a8, zc, school_re, lin_a, ks2_year, scored, has_ks2, has_a8
    del month_in_cohort, female
    step("attainment")

    # ---- absence --------------------------------------------------------------------
    am = R.ABSENCE_MULT
    mult = (np.where(fsm, am["fsm"], 1.0) * np.array([1.0, am["K"], am["E"]])[sen]
            * np.where(cla, am["cla"], 1.0)
            * rs["abs"].lognormal(0.0, 0.2, n_s)[school])
    mean_rate = np.empty(n)
    for p_idx, p in enumerate(PHASES):
        m = phase == p_idx
        if m.any():
            mean_rate[m] = R.ABSENCE_RATE[p] * mult[m] / mult[m].mean()
    mean_rate = np.clip(mean_rate, 0.002, 0.9)
    c = R.ABSENCE_CONCENTRATION
    rate = rs["abs"].beta(mean_rate * c, (1.0 - mean_rate) * c)
    # sessions missed out of 380 possible (the Beta draw already carries the spread)
    sessions = np.rint(rate * R.SESSIONS_POSSIBLE)
    absence_rate = sessions / R.SESSIONS_POSSIBLE
    del mult, mean_rate, rate, sessions
    step("absence")

    # ---- suspensions and permanent exclusions ---------------------------------------
    rr = R.EXCLUSION_RR
    yr = _lookup(R.SUSPENSION_YEAR_RR, range(14))[y64]
    sen_s = np.array([1.0, rr["K"][0], rr["E"][0]])[sen]
    sen_p = np.array([1.0, rr["K"][1], rr["E"][1]])[sen]
    lam = yr * np.where(male, rr["male"][0], 1.0) * np.where(fsm, rr["fsm"][0], 1.0) * sen_s
    lam *= R.SUSPENSION_RATE / lam.mean()
    per_pupil = R.SUSPENSION_RATE / R.ONE_PLUS_SUSPENSION_RATE
    p_any = np.minimum(lam / per_pupil, 0.9)
    any_susp = rs["exc"].random(n) < p_any
    extra = rs["exc"].poisson(np.maximum(lam / np.maximum(p_any, 1e-12) - 1.0, 0.0))
    suspensions = np.where(any_susp, 1 + np.minimum(extra, 60), 0).astype(np.int16)
    pe = yr * np.where(male, rr["male"][1], 1.0) * np.where(fsm, rr["fsm"][1], 1.0) * sen_p
    pe *= R.PERMANENT_EXCLUSION_RATE / pe.mean()
    permanent_exclusion = rs["exc"].random(n) < np.minimum(pe, 0.5)
    # most permanently excluded pupils have been suspended before (model: 80%)
    prior = permanent_exclusion & (suspensions == 0) & (rs["exc"].random(n) < 0.8)
    suspensions[prior] = 1
    del yr, sen_s, sen_p, lam, p_any, any_susp, extra, pe, prior
    step("exclusions")

    # ---- home geography -------------------------------------------------------------
    rh = rs["home"]
    cross = rh.random(n) < R.CROSS_BORDER_SHARE
    home_la = la.copy()
    if cross.any():
        # another LA of the same region, weighted by size (stays put if the region has one LA)
        w = geo.las["weight"].to_numpy()
        reg_w = np.zeros((len(R.REGIONS), len(w)))
        reg_w[region_of_la, np.arange(len(w))] = w
        ci = np.flatnonzero(cross)
        probs = reg_w[region[ci]].copy()
        probs[np.arange(ci.size), la[ci]] = 0.0
        ok = probs.sum(axis=1) > 0
        other = np.full(ci.size, -1, dtype=np.int64)
        if ok.any():
            # draw per region among "other LAs": group rows by (region, own LA)
            pairs = region[ci[ok]] * len(w) + la[ci[ok]]
            uniq, inv = np.unique(pairs, return_inverse=True)
            gprobs = reg_w[uniq // len(w)].copy()
            gprobs[np.arange(uniq.size), uniq % len(w)] = 0.0
            other[ok] = draw_by_group(rh, gprobs, inv)
        home_la[ci[ok]] = other[ok]
        cross[ci[~ok]] = False
    n_lsoa_la = np.diff(geo.la_lsoa_start)
    # schools draw pupils from a catchment of nearby LSOAs (contiguous codes in the LA)
    centre = np.floor(rh.random(n_s) * n_lsoa_la[s_la]).astype(np.int64)
    spread = np.array([2.0, 5.0, 8.0])[s_phase]
    off = np.rint(rh.normal(0.0, 1.0, n) * spread[school]).astype(np.int64)
    local = np.mod(centre[school] + off, n_lsoa_la[la])
    # FSM-eligible pupils live in more deprived LSOAs: each LSOA has a deprivation score
    # (model, standard normal); every pupil draws a second candidate LSOA in the
    # catchment and, with probability R.FSM_DEPRIVATION_PULL, FSM pupils take the more
    # deprived of the two and other pupils the less deprived one
    depriv = rh.normal(0.0, 1.0, geo.lsoa_codes.shape[0])
    off2 = np.rint(rh.normal(0.0, 1.0, n) * spread[school]).astype(np.int64)
    local2 = np.mod(centre[school] + off2, n_lsoa_la[la])
    d1 = depriv[geo.la_lsoa_start[la] + local]
    d2 = depriv[geo.la_lsoa_start[la] + local2]
    pull = rh.random(n) < R.FSM_DEPRIVATION_PULL
    take2 = pull & np.where(fsm, d2 > d1, d2 < d1)
    local = np.where(take2, local2, local)
    del off2, local2, d1, d2, pull, take2
    rand_local = np.floor(rh.random(n) * n_lsoa_la[home_la]).astype(np.int64)
    local = np.where(cross, rand_local, local)
    lsoa = geo.la_lsoa_start[home_la] + local
    district = geo.lsoa_district[lsoa]
    del off, local, rand_local, cross, home_la, centre
    step("home geography")

    # ---- identifiers and assembly ---------------------------------------------------
    pid = _pupil_ids(rs["id"].permutation(n))
    data = {
        "pupil_id": pid,
        "urn": schools["urn"].to_numpy()[school],
        "school_phase": pd.Categorical.from_codes(phase, categories=list(PHASES)),
        "school_type": pd.Categorical.from_codes(
            schools["school_type"].cat.codes.to_numpy()[school],
            categories=schools["school_type"].cat.categories),
        "la_code": pd.Categorical.from_codes(la, categories=geo.las["la_code"]),
        "region": pd.Categorical.from_codes(region, categories=list(R.REGIONS)),
        "year_group": year,
        "date_of_birth": dob,
        "birth_month": birth_month.astype(np.int8),
        "birth_year": birth_year.astype(np.int16),
        "sex": pd.Categorical.from_codes(male.astype(np.int8), categories=["F", "M"]),
        "ethnicity_minor": pd.Categorical.from_codes(eth, categories=_ETH_CODES),
        "ethnicity_major": pd.Categorical.from_codes(eth_major_map[eth],
                                                     categories=R.ETHNICITY_MAJOR_LEVELS),
        "fsm": fsm,
        "sen_provision": pd.Categorical.from_codes(sen, categories=["N", "K", "E"]),
        "sen_primary_need": pd.Categorical.from_codes(need, categories=_NEEDS),
        "eal": eal,
        "first_language": pd.Categorical.from_codes(lang, categories=langs),
        "lsoa": pd.Categorical.from_codes(lsoa, categories=geo.lsoa_codes),
        "postcode_district": pd.Categorical.from_codes(district, categories=geo.district_codes),
        "ks2_reading": ks2_reading,
        "ks2_maths": ks2_maths,
        "attainment8": attainment8,
        "absence_rate": absence_rate,
        "suspensions": suspensions,
        "permanent_exclusion": permanent_exclusion,
        "cin": cin,
        "cla": cla,
    }
    frame = pd.DataFrame(data, columns=list(POPULATION_COLUMNS), copy=False)
    step("assembly")
    if bar is not None:
        bar.close()
    return frame


def _pupil_ids(numbers: np.ndarray) -> pd.Series:
    """Synthetic pupil ids "P" + zero-padded number (pyarrow-backed strings, fast)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    width = max(9, len(str(max(int(numbers.max(initial=0)), 1))))
    arr = pc.utf8_lpad(pa.array(numbers.astype(np.int64)).cast(pa.string()), width=width,
                       padding="0")
    arr = pc.binary_join_element_wise("P", arr, "")
    return pd.Series(pd.arrays.ArrowStringArray(arr), name="pupil_id")


#: the independent random streams of the generator, for the auxiliary data made from a population
streams = _streams
