"""Plausible mistakes and changes in what an intruder knows about a pupil.

docs/methods.md#divergence. The strategies of the one divergence mechanism
(:func:`idrisk.intruder.mistakes.diverge`) for pupil data: an error replaces a value by one a
person could plausibly get wrong (the other sex, a neighbouring year group or birth month,
another school of the same LA and phase, another postcode district of the LA, another
ethnic group weighted by national shares, another minor group of the same major group);
over a time lag a pupil may have moved school (another school of the phase then) or home
(another postcode district of the LA). :func:`pupil_divergence` gives each field its
strategy and rates; the mechanism applies errors, then blanking, and flags what changed.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError
from ..intruder.mistakes import FieldDivergence

__all__ = ["field_rates", "pupil_divergence", "pupil_mistakes", "school_move", "home_move",
           "swap_within", "swap_once", "other_in_block", "value_blocks", "pick_in_group"]


def field_rates(value, fields, what):
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


def other_in_block(rng, pos, block_start, block_size):
    """Another member of the same block (position ``pos`` in a sorted array of blocks).

    Returns ``pos`` itself where the block has a single member.
    """
    m = np.maximum(block_size, 1)
    shift = 1 + np.floor(rng.random(pos.shape[0]) * np.maximum(m - 1, 1)).astype(np.int64)
    new = block_start + (pos - block_start + shift) % m
    return np.where(block_size > 1, new, pos)


def value_blocks(keys: np.ndarray, values: np.ndarray):
    """Sorted unique (key, value) pairs with block starts/sizes per key."""
    pairs = pd.DataFrame({"k": keys, "v": values}).drop_duplicates().sort_values(["k", "v"])
    k = pairs["k"].to_numpy()
    v = pairs["v"].to_numpy()
    uniq, start, size = np.unique(k, return_index=True, return_counts=True)
    return k, v, uniq, start, size


def swap_within(rng, keys, values, pool_keys, pool_values, fallbacks=()):
    """Replace each value by another value of the pool that shares its key.

    ``fallbacks`` is a sequence of ``(keys, pool_keys)`` pairs tried in turn for the rows
    whose key has no other value (e.g. the only school of its phase in the LA).
    """
    out = swap_once(rng, keys, values, pool_keys, pool_values)
    for fk, fpk in fallbacks:
        same = out == np.asarray(values, dtype=object)
        if not same.any():
            break
        idx = np.flatnonzero(same)
        out[idx] = swap_once(rng, np.asarray(fk)[idx], np.asarray(values, dtype=object)[idx],
                              fpk, pool_values)
    return out


def swap_once(rng, keys, values, pool_keys, pool_values):
    k, v, uniq, start, size = value_blocks(pool_keys, pool_values)
    order = pd.MultiIndex.from_arrays([k, v])
    pos = order.get_indexer(pd.MultiIndex.from_arrays([keys, values]))
    found = pos >= 0
    out = np.asarray(values, dtype=object).copy()
    if found.any():
        b = np.searchsorted(uniq, np.asarray(keys)[found])
        new = other_in_block(rng, pos[found], start[b], size[b])
        out[found] = v[new]
    return out


def pupil_divergence(true: pd.DataFrame, population: pd.DataFrame, fields, error_rate,
                     missing_rate) -> dict:
    """Each field's :class:`~idrisk.intruder.mistakes.FieldDivergence`: its plausible
    mistake (:func:`pupil_mistakes`), its error and missing rates (float or dict per field;
    every rate draws, a rate of 0 included)."""
    err = field_rates(error_rate, fields, "error_rate")
    miss = field_rates(missing_rate, fields, "missing_rate")
    wrong = pupil_mistakes(true, population, fields)
    return {f: FieldDivergence(wrong=wrong[f], error_rate=err[f], missing_rate=miss[f]) for f in fields}


def _replaced(values: pd.Series, rows, new) -> pd.Series:
    out = values.copy()
    out.iloc[rows] = new
    return out


def _other_sex(rng, values, rows):
    cur = values.iloc[rows].astype(str).to_numpy()
    return _replaced(values, rows, np.where(cur == "F", "M", "F"))


def _negated(rng, values, rows):
    return _replaced(values, rows, ~values.iloc[rows].to_numpy(dtype=bool))


def _neighbouring_year_group(rng, values, rows):
    cur = values.iloc[rows].to_numpy().astype(np.int64)
    step = np.where(rng.random(rows.size) < 0.5, -1, 1)
    step = np.where(cur + step < 0, 1, np.where(cur + step > 13, -1, step))
    return _replaced(values, rows, cur + step)


def _neighbouring_birth_month(rng, values, rows):
    cur = values.iloc[rows].to_numpy().astype(np.int64)
    step = np.where(rng.random(rows.size) < 0.5, -1, 1)
    return _replaced(values, rows, (cur - 1 + step) % 12 + 1)


def _neighbouring_birth_year(rng, values, rows):
    cur = values.iloc[rows].to_numpy().astype(np.int64)
    return _replaced(values, rows, cur + np.where(rng.random(rows.size) < 0.5, -1, 1))


def _nearby_date(rng, values, rows):
    k = rows.size
    days = rng.integers(1, 8, k) * np.where(rng.random(k) < 0.5, -1, 1)
    return _replaced(values, rows, values.iloc[rows].to_numpy() + days.astype("timedelta64[D]"))


def _other_major_group(major_share: pd.Series):
    """Another ethnic major group, drawn in proportion to the population's shares."""
    def strategy(rng, values, rows):
        k = rows.size
        cats = list(major_share.index)
        p = major_share.reindex(cats).to_numpy(dtype=float)
        cur = values.iloc[rows].astype(object).to_numpy()
        probs = np.tile(p, (k, 1))
        probs[np.arange(k), [cats.index(c) for c in cur]] = 0.0
        tot = probs.sum(axis=1, keepdims=True)
        ok = tot[:, 0] > 0  # no other group in the population: the value stays right
        cdf = (probs[ok] / tot[ok]).cumsum(axis=1)
        pick = (rng.random(int(ok.sum()))[:, None] > cdf).sum(axis=1)
        return _replaced(values, rows[ok], np.asarray(cats, dtype=object)[np.minimum(pick, len(cats) - 1)])
    return strategy


def _other_minor_group(population):
    """Another minor ethnic group of the same major group (the population's own grouping)."""
    def strategy(rng, values, rows):
        minor = population["ethnicity_minor"].astype(object)
        major = population["ethnicity_major"].astype(object)
        major_of = dict(zip(minor.to_numpy(), major.to_numpy()))
        cur = values.iloc[rows].astype(object)
        return _replaced(values, rows, swap_within(rng, cur.map(major_of).to_numpy(), cur.to_numpy(),
                                                   minor.map(major_of).to_numpy(), minor.to_numpy()))
    return strategy


def _other_school(true, population):
    """Another school of the same LA and phase (else region and phase, else phase)."""
    def strategy(rng, values, rows):
        ph = population["school_phase"].astype(str)
        keys = (population["la_code"].astype(str) + "|" + ph).to_numpy()
        rkeys = (population["region"].astype(str) + "|" + ph).to_numpy()
        tph = true["_phase"].iloc[rows].astype(str)
        tk = (true["_la"].iloc[rows].astype(str) + "|" + tph).to_numpy()
        trk = (true["_region"].iloc[rows].astype(str) + "|" + tph).to_numpy()
        new = swap_within(rng, tk, values.iloc[rows].to_numpy(), keys, population["urn"].to_numpy(),
                          fallbacks=[(trk, rkeys), (tph.to_numpy(), ph.to_numpy())])
        return _replaced(values, rows, new.astype(np.int64))
    return strategy


def _other_area(true, population, f):
    """Another ``f`` (postcode district, LSOA) of the pupil's LA (else region)."""
    def strategy(rng, values, rows):
        new = swap_within(rng, true["_la"].iloc[rows].astype(str).to_numpy(),
                          values.iloc[rows].astype(object).to_numpy(),
                          population["la_code"].astype(str).to_numpy(),
                          population[f].astype(object).to_numpy(),
                          fallbacks=[(true["_region"].iloc[rows].astype(str).to_numpy(),
                                      population["region"].astype(str).to_numpy())])
        return _replaced(values, rows, new)
    return strategy


def _other_la(true, population):
    """Another LA of the pupil's region."""
    def strategy(rng, values, rows):
        new = swap_within(rng, true["_region"].iloc[rows].astype(str).to_numpy(),
                          values.iloc[rows].astype(object).to_numpy(),
                          population["region"].astype(str).to_numpy(),
                          population["la_code"].astype(object).to_numpy())
        return _replaced(values, rows, new)
    return strategy


def _other_category(population, f):
    """Another observed category of ``f``, uniformly."""
    def strategy(rng, values, rows):
        cats = np.asarray(pd.unique(population[f].dropna().astype(object)), dtype=object)
        cur = values.iloc[rows].astype(object).to_numpy()
        if cats.size <= 1:
            return values.copy()
        pick = cats[rng.integers(0, cats.size, rows.size)]
        clash = pick == cur
        while clash.any():
            pick[clash] = cats[rng.integers(0, cats.size, int(clash.sum()))]
            clash = pick == cur
        return _replaced(values, rows, pick)
    return strategy


_SIMPLE = {"sex": _other_sex, "eal": _negated, "fsm": _negated,
           "year_group": _neighbouring_year_group, "birth_month": _neighbouring_birth_month,
           "birth_year": _neighbouring_birth_year, "date_of_birth": _nearby_date}


def pupil_mistakes(true: pd.DataFrame, population: pd.DataFrame, fields) -> dict:
    """The plausible-mistake strategy of each field (docs/methods.md#divergence).

    ``true`` holds the sampled pupils with their hidden ``_la``, ``_region`` and ``_phase``;
    a strategy ``(rng, values, rows)`` returns a copy of the pandas Series ``values`` with
    a plausible wrong value at ``rows``. Fields without a rule get another observed
    category of the population.
    """
    out = {}
    for f in fields:
        if f in _SIMPLE:
            out[f] = _SIMPLE[f]
        elif f == "ethnicity_major":
            out[f] = _other_major_group(population["ethnicity_major"].value_counts(normalize=True))
        elif f == "ethnicity_minor":
            out[f] = _other_minor_group(population)
        elif f == "urn":
            out[f] = _other_school(true, population)
        elif f in ("postcode_district", "lsoa"):
            out[f] = _other_area(true, population, f)
        elif f == "la_code":
            out[f] = _other_la(true, population)
        else:
            out[f] = _other_category(population, f)
    return out


def school_move(true: pd.DataFrame, population: pd.DataFrame, then_key: np.ndarray):
    """The change strategy of ``urn`` over a time lag: a school of the phase then
    (``then_key``: ``primary``, ``secondary`` or ``special`` per pupil) in the same LA, else
    the region, else anywhere; the school stays where there is none."""
    def strategy(rng, values, rows):
        f_phase = population["school_phase"].astype(str)
        cand = np.full(rows.size, -1, dtype=np.int64)
        current = values.to_numpy()
        for area_col, t_area in (("la_code", "_la"), ("region", "_region"), (None, None)):
            todo = cand < 0
            if not todo.any():
                break
            if area_col is None:
                keys = f_phase.to_numpy()
                tk = then_key[rows[todo]]
            else:
                keys = (population[area_col].astype(str) + "|" + f_phase).to_numpy()
                tk = np.char.add(np.char.add(
                    true[t_area].to_numpy()[rows[todo]].astype(str), "|"), then_key[rows[todo]])
            cand[todo] = pick_in_group(rng, tk, keys, population["urn"].to_numpy(),
                                       exclude=current[rows[todo]].astype(np.int64))
        ok = cand >= 0
        return _replaced(values, rows[ok], cand[ok])
    return strategy


def home_move(true: pd.DataFrame, population: pd.DataFrame):
    """The change strategy of ``postcode_district`` over a time lag: another district of
    the pupil's LA."""
    def strategy(rng, values, rows):
        new = swap_within(rng, true["_la"].to_numpy()[rows].astype(str), values.to_numpy()[rows],
                          population["la_code"].astype(str).to_numpy(),
                          population["postcode_district"].astype(object).to_numpy())
        return _replaced(values, rows, new)
    return strategy


def pick_in_group(rng, keys, pool_keys, pool_values, exclude):
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
