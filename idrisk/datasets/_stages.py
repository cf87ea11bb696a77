"""The pupil-attribute stages of the synthetic population, one function per stage.

Each stage draws from its own random stream (see :func:`idrisk.datasets._sampling.streams`)
and receives the attributes it depends on, in the order documented in
:func:`idrisk.datasets.make_population`: school -> year group -> date of birth, sex ->
ethnicity -> EAL and first language -> SEN -> FSM -> CIN/CLA -> attainment -> absence ->
exclusions -> home geography. Logistic intercepts are calibrated so that the published
national rates of :mod:`idrisk.datasets._reference` hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _reference as R
from ._places import PHASES, Geography
from ._sampling import calibrate_intercept, draw_by_group, expit, logit

ETH_CODES = list(R.ETHNICITY_MAJOR)
NEEDS = ["ASD", "HI", "MLD", "MSI", "NSA", "OTH", "PD", "PMLD", "SEMH", "SLCN", "SLD",
         "SPLD", "VI"]
SEN_LEVELS = ["N", "K", "E"]


def lookup(mapping, keys, default=0.0) -> np.ndarray:
    """``mapping[k]`` for every key (``default`` when absent), as float64."""
    return np.array([mapping.get(k, default) for k in keys], dtype=np.float64)


@dataclass(frozen=True)
class Roll:
    """Pupils on roll: school and year group of every pupil, with school-level attributes."""

    school: np.ndarray  # school index of each pupil
    year: np.ndarray  # int8 year group (0 = Reception)
    phase: np.ndarray  # phase index of each pupil
    la: np.ndarray  # LA index of each pupil (the school's)
    region: np.ndarray  # int64 region index of each pupil
    region_of_la: np.ndarray  # region index of each LA
    s_phase: np.ndarray  # phase index of each school
    s_la: np.ndarray  # int64 LA index of each school
    n_s: int  # number of schools


def year_groups(rng, schools: pd.DataFrame, geo: Geography) -> Roll:
    """Spread each school's pupils over the year groups of its phase."""
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
    counts = rng.multinomial(sizes, yw)
    school = np.repeat(np.arange(n_s), sizes)
    year = np.repeat(np.tile(np.arange(14, dtype=np.int8), n_s), counts.ravel())
    la = s_la[school]
    region_of_la = pd.Categorical(geo.las["region"], categories=list(R.REGIONS)).codes
    return Roll(school, year, s_phase[school], la, region_of_la[la].astype(np.int64),
                region_of_la, s_phase, s_la, n_s)


def dates_of_birth(rng, year: np.ndarray):
    """Date of birth in the cohort of the year group: (dob, birth month, birth year).

    The cohort of year group y is born 1 Sep (A-5-y) .. 31 Aug (A-4-y), A the first
    calendar year of the academic year.
    """
    n = year.shape[0]
    y64 = year.astype(np.int64)
    # lookup tables per (year group, day of the cohort year) avoid slow datetime casts
    starts = np.array([np.datetime64(f"{R.ACADEMIC_YEAR_START - 5 - y}-09-01") for y in range(14)],
                      dtype="datetime64[D]")
    ends = np.array([np.datetime64(f"{R.ACADEMIC_YEAR_START - 4 - y}-09-01") for y in range(14)],
                    dtype="datetime64[D]")
    span = (ends - starts).astype(np.int64)
    days_tab = starts[:, None] + np.minimum(np.arange(366)[None, :], span[:, None] - 1)
    month_tab = (days_tab.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.int8)
    year_tab = (days_tab.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int16)
    offset = np.floor(rng.random(n) * span[y64]).astype(np.int64)
    flat = y64 * 366 + offset
    dob = ((starts.astype(np.int64)[y64] + offset) * 86_400_000_000_000).view("datetime64[ns]")
    return dob, month_tab.ravel()[flat], year_tab.ravel()[flat]


def regional_ethnicity() -> np.ndarray:
    """(9 regions, 20 minor groups) expected distribution from the reference tables."""
    nat = R.ETHNICITY_NATIONAL
    idx = {c: i for i, c in enumerate(ETH_CODES)}
    out = np.zeros((len(R.REGIONS), len(ETH_CODES)))
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
    target = np.array([nat[c] for c in ETH_CODES])
    target = target / target.sum()
    for _ in range(200):
        out *= (target / (w @ out))[None, :]
        out /= out.sum(axis=1, keepdims=True)
    return out


def ethnicity(rng, roll: Roll) -> np.ndarray:
    """Minor ethnic group: each school's mix is a Dirichlet draw around its region's mix."""
    reg_eth = regional_ethnicity()
    s_region = roll.region_of_la[roll.s_la]
    alpha = R.SCHOOL_ETHNICITY_CONCENTRATION * reg_eth[s_region]
    mix = rng.gamma(np.maximum(alpha, 1e-3))
    mix /= mix.sum(axis=1, keepdims=True)
    # fall back to the regional mix for schools whose gamma draws underflowed
    bad = ~np.isfinite(mix).all(axis=1)
    mix[bad] = reg_eth[s_region[bad]]
    return draw_by_group(rng, mix, roll.school)


def languages():
    """First-language codes and the (ethnic group, language) distribution of EAL pupils."""
    langs = sorted({lang for d in R.FIRST_LANGUAGE.values() for lang in d} | {"ENG"})
    li = {c: i for i, c in enumerate(langs)}
    probs = np.zeros((len(ETH_CODES), len(langs)))
    for e, code in enumerate(ETH_CODES):
        table = R.FIRST_LANGUAGE.get(code, R.FIRST_LANGUAGE["default"])
        for lang, w in table.items():
            probs[e, li[lang]] = w
    return langs, probs


def language(rng, eth: np.ndarray):
    """EAL | ethnicity, then the first language of EAL pupils: (eal, language codes, names)."""
    n = eth.shape[0]
    lin_l = logit(lookup(R.EAL_BY_ETHNICITY, ETH_CODES))[eth]
    a_l = calibrate_intercept(lin_l, R.EAL_SHARE)
    eal = rng.random(n) < expit(lin_l + a_l)
    langs, lang_probs = languages()
    lang = np.full(n, langs.index("ENG"), dtype=np.int32)
    idx = np.flatnonzero(eal)
    lang[idx] = draw_by_group(rng, lang_probs, eth[idx])
    return eal, lang, langs


def sen(rng, male: np.ndarray, year: np.ndarray, phase: np.ndarray):
    """SEN provision (0 = N, 1 = K, 2 = E) | sex, year group, phase, and the primary need."""
    n = male.shape[0]
    y64 = year.astype(np.int64)
    special = phase == 2
    mainstream = ~special
    lin_e = (np.log(R.SEN_EHC_MALE_OR) * male
             + np.log(lookup(R.SEN_EHC_YEAR_OR, range(14))[y64]))
    n_main = int(mainstream.sum())
    target_e_main = max(1e-4, (R.SEN_EHC_SHARE * n - R.SPECIAL_SCHOOL_EHC_SHARE * special.sum())
                        / max(n_main, 1))
    provision = np.zeros(n, dtype=np.int8)
    u = rng.random(n)
    if n_main:
        a_e = calibrate_intercept(lin_e[mainstream], target_e_main)
        p_e = expit(lin_e + a_e)
    else:
        p_e = np.zeros(n)
    p_e[special] = R.SPECIAL_SCHOOL_EHC_SHARE
    is_e = u < p_e
    lin_k = (np.log(R.SEN_SUPPORT_MALE_OR) * male
             + np.log(lookup(R.SEN_SUPPORT_YEAR_OR, range(14))[y64]))
    not_e_main = mainstream & ~is_e
    target_k = (R.SEN_SUPPORT_SHARE * n - (special & ~is_e).sum()) / max(int(not_e_main.sum()), 1)
    target_k = float(np.clip(target_k, 1e-4, 0.9))
    if not_e_main.any():
        a_k = calibrate_intercept(lin_k[not_e_main], target_k)
        p_k = expit(lin_k + a_k)
    else:
        p_k = np.zeros(n)
    p_k[special] = 1.0  # special-school pupils without a plan are on SEN support
    u2 = rng.random(n)
    provision[~is_e & (u2 < p_k)] = 1
    provision[is_e] = 2
    need = np.full(n, -1, dtype=np.int32)
    need_probs = np.zeros((2, len(NEEDS)))
    for row, prov in enumerate(["K", "E"]):
        for code, w in R.SEN_NEED[prov].items():
            need_probs[row, NEEDS.index(code)] = w
    has = np.flatnonzero(provision > 0)
    need[has] = draw_by_group(rng, need_probs, provision[has] - 1)
    return provision, need


def fsm(rng, sen_level: np.ndarray, eth: np.ndarray, roll: Roll) -> np.ndarray:
    """FSM | SEN, ethnicity, school (log-odds ratios), one intercept per region."""
    base = logit(R.FSM_SHARE)
    lin_f = ((logit(lookup(R.FSM_BY_SEN, SEN_LEVELS)) - base)[sen_level]
             + (logit(lookup(R.FSM_BY_ETHNICITY, ETH_CODES)) - base)[eth]
             + rng.normal(0.0, R.SCHOOL_FSM_SD, roll.n_s)[roll.school])
    for r_idx, r_name in enumerate(R.REGIONS):
        m = roll.region == r_idx
        if m.any():
            lin_f[m] += calibrate_intercept(lin_f[m], R.REGION_FSM[r_name])
    return rng.random(sen_level.shape[0]) < expit(lin_f)


def children_in_need(rng, fsm_: np.ndarray, sen_level: np.ndarray):
    """Child in need | FSM, SEN; looked after (a share of children in need): (cin, cla)."""
    n = fsm_.shape[0]
    lin_c = (np.log(R.CIN_OR["fsm"]) * fsm_
             + np.log(np.array([1.0, R.CIN_OR["K"], R.CIN_OR["E"]]))[sen_level])
    a_c = calibrate_intercept(lin_c, R.CIN_SHARE)
    cin = rng.random(n) < expit(lin_c + a_c)
    cla = cin & (rng.random(n) < R.CLA_SHARE_OF_CIN)
    return cin, cla


def _scores(z, mask, mean, sd, lo, hi):
    out = np.zeros(z.shape[0], dtype=np.int16)
    zz = z[mask]
    if zz.size:
        centred = (zz - zz.mean()) / max(zz.std(), 1e-9)
        out[mask] = np.clip(np.rint(mean + sd * centred), lo, hi).astype(np.int16)
    return pd.arrays.IntegerArray(out, ~mask)


def attainment(rng, p: dict, roll: Roll):
    """KS2 reading, KS2 maths and Attainment 8 (nullable Int16) from one latent score.

    ``p`` holds the pupil attributes ``male``, ``fsm``, ``sen``, ``eal``, ``cla``, ``eth``
    and ``birth_month``.
    """
    n = roll.year.shape[0]
    eff = R.ATTAINMENT_EFFECTS
    female = ~p["male"]
    # months since September of the cohort year (0 = September-born, 11 = August-born)
    month_in_cohort = (p["birth_month"].astype(np.int64) - 9) % 12
    lin_a = (eff["fsm"] * p["fsm"]
             + np.array([0.0, eff["K"], eff["E"]])[p["sen"]]
             + eff["eal"] * p["eal"]
             + eff["cla"] * p["cla"]
             + eff["summer_born_per_month"] * month_in_cohort
             + lookup(R.ATTAINMENT_ETHNICITY, ETH_CODES)[p["eth"]])
    school_re = rng.normal(0.0, R.SCHOOL_ATTAINMENT_SD, roll.n_s)[roll.school]
    resid_sd = np.sqrt(max(0.25, 1.0 - lin_a.var() - R.SCHOOL_ATTAINMENT_SD ** 2))
    zc = lin_a + school_re + rng.normal(0.0, resid_sd, n)
    z_read = 0.85 * zc + 0.53 * rng.normal(size=n) + eff["female_reading"] * female
    z_math = 0.85 * zc + 0.53 * rng.normal(size=n) + eff["female_maths"] * female
    z_a8 = 0.80 * zc + 0.60 * rng.normal(size=n) + eff["female_a8"] * female
    year = roll.year
    ks2_year = R.ACADEMIC_YEAR_START + 1 - (year.astype(np.int64) - 6)
    has_ks2 = ((year >= 6) & (ks2_year >= R.KS2_FIRST_YEAR)
               & ~np.isin(ks2_year, R.KS2_CANCELLED_YEARS))
    scored = rng.random(n) >= lookup(R.KS2_NOT_SCORED, SEN_LEVELS)[p["sen"]]
    has_ks2 &= scored
    has_a8 = year >= 11
    return (_scores(z_read, has_ks2, R.KS2_MEAN["reading"], R.KS2_SD["reading"], 80, 120),
            _scores(z_math, has_ks2, R.KS2_MEAN["maths"], R.KS2_SD["maths"], 80, 120),
            _scores(z_a8, has_a8, R.A8_MEAN, R.A8_SD, 0, 90))


def absence(rng, fsm_: np.ndarray, sen_level: np.ndarray, cla: np.ndarray,
            roll: Roll) -> np.ndarray:
    """Absence rate: sessions missed out of 380, Beta around the phase's published rate."""
    am = R.ABSENCE_MULT
    mult = (np.where(fsm_, am["fsm"], 1.0) * np.array([1.0, am["K"], am["E"]])[sen_level]
            * np.where(cla, am["cla"], 1.0)
            * rng.lognormal(0.0, 0.2, roll.n_s)[roll.school])
    mean_rate = np.empty(fsm_.shape[0])
    for p_idx, p in enumerate(PHASES):
        m = roll.phase == p_idx
        if m.any():
            mean_rate[m] = R.ABSENCE_RATE[p] * mult[m] / mult[m].mean()
    mean_rate = np.clip(mean_rate, 0.002, 0.9)
    c = R.ABSENCE_CONCENTRATION
    rate = rng.beta(mean_rate * c, (1.0 - mean_rate) * c)
    # sessions missed out of 380 possible (the Beta draw already carries the spread)
    sessions = np.rint(rate * R.SESSIONS_POSSIBLE)
    return sessions / R.SESSIONS_POSSIBLE


def exclusions(rng, male: np.ndarray, fsm_: np.ndarray, sen_level: np.ndarray,
               year: np.ndarray):
    """Suspensions (count) and permanent exclusion | year group, sex, FSM, SEN."""
    n = male.shape[0]
    rr = R.EXCLUSION_RR
    yr = lookup(R.SUSPENSION_YEAR_RR, range(14))[year.astype(np.int64)]
    sen_s = np.array([1.0, rr["K"][0], rr["E"][0]])[sen_level]
    sen_p = np.array([1.0, rr["K"][1], rr["E"][1]])[sen_level]
    lam = yr * np.where(male, rr["male"][0], 1.0) * np.where(fsm_, rr["fsm"][0], 1.0) * sen_s
    lam *= R.SUSPENSION_RATE / lam.mean()
    per_pupil = R.SUSPENSION_RATE / R.ONE_PLUS_SUSPENSION_RATE
    p_any = np.minimum(lam / per_pupil, 0.9)
    any_susp = rng.random(n) < p_any
    extra = rng.poisson(np.maximum(lam / np.maximum(p_any, 1e-12) - 1.0, 0.0))
    suspensions = np.where(any_susp, 1 + np.minimum(extra, 60), 0).astype(np.int16)
    pe = yr * np.where(male, rr["male"][1], 1.0) * np.where(fsm_, rr["fsm"][1], 1.0) * sen_p
    pe *= R.PERMANENT_EXCLUSION_RATE / pe.mean()
    permanent_exclusion = rng.random(n) < np.minimum(pe, 0.5)
    # most permanently excluded pupils have been suspended before (model: 80%)
    prior = permanent_exclusion & (suspensions == 0) & (rng.random(n) < 0.8)
    suspensions[prior] = 1
    return suspensions, permanent_exclusion


def _cross_border_la(rng, cross: np.ndarray, roll: Roll, geo: Geography) -> np.ndarray:
    """Home LA: the school's, or for cross-border pupils another LA of the same region."""
    la, region = roll.la, roll.region
    home_la = la.copy()
    if cross.any():
        # another LA of the same region, weighted by size (stays put if the region has one LA)
        w = geo.las["weight"].to_numpy()
        reg_w = np.zeros((len(R.REGIONS), len(w)))
        reg_w[roll.region_of_la, np.arange(len(w))] = w
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
            other[ok] = draw_by_group(rng, gprobs, inv)
        home_la[ci[ok]] = other[ok]
        cross[ci[~ok]] = False
    return home_la


def home(rng, fsm_: np.ndarray, roll: Roll, geo: Geography):
    """Home LSOA and postcode district: in the school's catchment, or cross-border."""
    n = fsm_.shape[0]
    la, school = roll.la, roll.school
    cross = rng.random(n) < R.CROSS_BORDER_SHARE
    home_la = _cross_border_la(rng, cross, roll, geo)
    n_lsoa_la = np.diff(geo.la_lsoa_start)
    # schools draw pupils from a catchment of nearby LSOAs (contiguous codes in the LA)
    centre = np.floor(rng.random(roll.n_s) * n_lsoa_la[roll.s_la]).astype(np.int64)
    spread = np.array([2.0, 5.0, 8.0])[roll.s_phase]
    off = np.rint(rng.normal(0.0, 1.0, n) * spread[school]).astype(np.int64)
    local = np.mod(centre[school] + off, n_lsoa_la[la])
    # FSM-eligible pupils live in more deprived LSOAs: each LSOA has a deprivation score
    # (model, standard normal); every pupil draws a second candidate LSOA in the
    # catchment and, with probability R.FSM_DEPRIVATION_PULL, FSM pupils take the more
    # deprived of the two and other pupils the less deprived one
    depriv = rng.normal(0.0, 1.0, geo.lsoa_codes.shape[0])
    off2 = np.rint(rng.normal(0.0, 1.0, n) * spread[school]).astype(np.int64)
    local2 = np.mod(centre[school] + off2, n_lsoa_la[la])
    d1 = depriv[geo.la_lsoa_start[la] + local]
    d2 = depriv[geo.la_lsoa_start[la] + local2]
    pull = rng.random(n) < R.FSM_DEPRIVATION_PULL
    take2 = pull & np.where(fsm_, d2 > d1, d2 < d1)
    local = np.where(take2, local2, local)
    rand_local = np.floor(rng.random(n) * n_lsoa_la[home_la]).astype(np.int64)
    local = np.where(cross, rand_local, local)
    lsoa = geo.la_lsoa_start[home_la] + local
    return lsoa, geo.lsoa_district[lsoa]
