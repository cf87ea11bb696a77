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

import numpy as np
import pandas as pd

from .._validation import check_seed
from . import _reference as R
from . import _stages as S
from ._places import MAX_N, PHASES, Geography, check_n, geography, schools_table
from ._sampling import streams

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

YEAR_GROUPS = np.arange(14)  # 0 = Reception, 1..13 = Years 1-13
_STREAMS = ("year", "dob", "sex", "eth", "lang", "sen", "fsm", "cin", "att", "abs", "exc",
            "home", "id")


def make_geography(n: int) -> Geography:
    """LAs (fixed: 153 in 9 regions) and postcode districts / LSOAs scaled with ``n``.

    LA pupil shares are lognormal around the regional share (SD 0.6 on the log scale, a
    model value giving LAs from under 5k to over 150k pupils at national scale). The
    numbers of LSOAs and postcode districts are the national counts scaled by
    ``n / NATIONAL_PUPILS`` (at least one per LA), so that a scaled-down population keeps
    national pupils-per-area densities.
    """
    return geography(check_n(n))


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
    n = check_n(n)
    seed = check_seed(seed)
    return schools_table(n, seed, geography(n))


def _progress(progress, total):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="synthetic pupils", unit="stage", disable=False)


class _Steps:
    """Logs the time of each stage and advances the progress bar, if any."""

    def __init__(self, n: int, progress):
        self.n, self.bar, self.clock = n, _progress(progress, 11), time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        _log.debug("make_population(n=%d): %s took %.3f s", self.n, stage, now - self.clock)
        self.clock = now
        if self.bar is not None:
            self.bar.set_postfix_str(stage, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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
    n = check_n(n)
    seed = check_seed(seed)
    step = _Steps(n, progress)
    geo = make_geography(n)
    schools = schools_table(n, seed, geo)
    rs = streams(seed, _STREAMS)
    step("schools")
    roll = S.year_groups(rs["year"], schools, geo)
    step("year groups")
    dob, birth_month, birth_year = S.dates_of_birth(rs["dob"], roll.year)
    male = rs["sex"].random(n) < S.lookup(R.MALE_SHARE, PHASES)[roll.phase]
    step("dates of birth")
    eth = S.ethnicity(rs["eth"], roll)
    step("ethnicity")
    eal, lang, langs = S.language(rs["lang"], eth)
    sen, need = S.sen(rs["sen"], male, roll.year, roll.phase)
    step("SEN")
    fsm = S.fsm(rs["fsm"], sen, eth, roll)
    cin, cla = S.children_in_need(rs["cin"], fsm, sen)
    step("FSM and CIN")
    pupil = {"male": male, "fsm": fsm, "sen": sen, "eal": eal, "cla": cla, "eth": eth,
             "birth_month": birth_month}
    ks2_reading, ks2_maths, attainment8 = S.attainment(rs["att"], pupil, roll)
    step("attainment")
    absence_rate = S.absence(rs["abs"], fsm, sen, cla, roll)
    step("absence")
    suspensions, permanent_exclusion = S.exclusions(rs["exc"], male, fsm, sen, roll.year)
    step("exclusions")
    lsoa, district = S.home(rs["home"], fsm, roll, geo)
    step("home geography")
    eth_major = pd.Categorical([R.ETHNICITY_MAJOR[c] for c in S.ETH_CODES],
                               categories=R.ETHNICITY_MAJOR_LEVELS).codes[eth]
    data = {
        "pupil_id": _pupil_ids(rs["id"].permutation(n)),
        "urn": schools["urn"].to_numpy()[roll.school],
        "school_phase": pd.Categorical.from_codes(roll.phase, categories=list(PHASES)),
        "school_type": pd.Categorical.from_codes(
            schools["school_type"].cat.codes.to_numpy()[roll.school],
            categories=schools["school_type"].cat.categories),
        "la_code": pd.Categorical.from_codes(roll.la, categories=geo.las["la_code"]),
        "region": pd.Categorical.from_codes(roll.region, categories=list(R.REGIONS)),
        "year_group": roll.year,
        "date_of_birth": dob,
        "birth_month": birth_month.astype(np.int8),
        "birth_year": birth_year.astype(np.int16),
        "sex": pd.Categorical.from_codes(male.astype(np.int8), categories=["F", "M"]),
        "ethnicity_minor": pd.Categorical.from_codes(eth, categories=S.ETH_CODES),
        "ethnicity_major": pd.Categorical.from_codes(eth_major,
                                                     categories=R.ETHNICITY_MAJOR_LEVELS),
        "fsm": fsm,
        "sen_provision": pd.Categorical.from_codes(sen, categories=S.SEN_LEVELS),
        "sen_primary_need": pd.Categorical.from_codes(need, categories=S.NEEDS),
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
    step.close()
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
