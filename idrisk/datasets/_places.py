"""Places of the synthetic population: local authorities, postcode districts, LSOAs, schools.

Both builders are deterministic: the geography depends on ``n`` only (a fixed seed), the
schools on ``n`` and ``seed``. Figures come from :mod:`idrisk.datasets._reference`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError
from . import _reference as R
from ._sampling import draw_categorical, largest_remainder, streams

__all__ = ["MAX_N", "PHASES", "Geography", "check_n", "geography", "schools_table"]

PHASES = ("primary", "secondary", "special")
MAX_N = 20_000_000
#: Fixed seed of the synthetic geography (LAs and their sizes do not depend on ``seed``).
GEOGRAPHY_SEED = 20240118


def check_n(n) -> int:
    """The number of pupils: an int in 1 .. :data:`MAX_N`."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InvalidParameterError(f"n must be an int (number of pupils), got {type(n).__name__}")
    n = int(n)
    if n < 1 or n > MAX_N:
        raise InvalidParameterError(f"n must be between 1 and {MAX_N:,} pupils, got {n:,}")
    return n


@dataclass(frozen=True)
class Geography:
    """Synthetic LAs, postcode districts and LSOAs (see :func:`geography`)."""

    las: pd.DataFrame  # la_code, region, weight (share of national pupils)
    district_la: np.ndarray  # LA index of each postcode district
    district_codes: np.ndarray  # str
    lsoa_la: np.ndarray  # LA index of each LSOA
    lsoa_district: np.ndarray  # district index of each LSOA
    lsoa_codes: np.ndarray  # str
    la_lsoa_start: np.ndarray  # LSOAs of LA j are la_lsoa_start[j] .. la_lsoa_start[j+1]-1


def _las() -> pd.DataFrame:
    """The 153 synthetic LAs in 9 regions with their share of national pupils."""
    rng = np.random.default_rng(GEOGRAPHY_SEED)
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
    return pd.DataFrame({"la_code": codes, "region": regions, "weight": weights})


def geography(n: int) -> Geography:
    """LAs (fixed: 153 in 9 regions) and postcode districts / LSOAs scaled with ``n``.

    ``n`` is not checked here (see :func:`check_n`).
    """
    las = _las()
    weights = las["weight"].to_numpy()
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


def schools_table(n: int, seed: int, geo: Geography) -> pd.DataFrame:
    """The schools of a population of ``n`` pupils (``n`` and ``seed`` already checked)."""
    rng = streams(seed, ["schools"])["schools"]
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
    return frame.iloc[order].reset_index(drop=True)
