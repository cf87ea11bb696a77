"""Plausible mistakes in what an intruder knows about a pupil (for :mod:`idrisk.datasets.auxiliary`).

docs/methods.md#divergence. An error replaces a value by one a person could plausibly
get wrong (the other sex, a neighbouring year group or birth month, another school of the
same LA and phase, another postcode district of the LA, another ethnic group weighted by
national shares); blanking follows, independently. The hidden flags record what changed.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError
from . import _reference as R

__all__ = ["field_rates", "perturb", "wrong_values", "swap_within", "swap_once", "other_in_block",
           "value_blocks", "pick_in_group"]


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


def perturb(rng, true: pd.DataFrame, fields, population, error_rate, missing_rate):
    """Apply errors then missingness per field; returns (visible frame, flags frame)."""
    err = field_rates(error_rate, fields, "error_rate")
    miss = field_rates(missing_rate, fields, "missing_rate")
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
            new = wrong_values(rng, f, true, idx, population, pop_major_share, new)
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


def wrong_values(rng, f, true, idx, population, major_share, new):
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
        new.iloc[idx] = swap_within(
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
        new.iloc[idx] = swap_within(rng, tk, true[f].iloc[idx].to_numpy(), keys,
                                     population["urn"].to_numpy(),
                                     fallbacks=[(trk, rkeys), (tph.to_numpy(), ph.to_numpy())]
                                     ).astype(np.int64)
    elif f in ("postcode_district", "lsoa"):
        new.iloc[idx] = swap_within(rng, true["_la"].iloc[idx].astype(str).to_numpy(),
                                     true[f].iloc[idx].astype(object).to_numpy(),
                                     population["la_code"].astype(str).to_numpy(),
                                     population[f].astype(object).to_numpy(),
                                     fallbacks=[(true["_region"].iloc[idx].astype(str).to_numpy(),
                                                 population["region"].astype(str).to_numpy())])
    elif f == "la_code":
        new.iloc[idx] = swap_within(rng, true["_region"].iloc[idx].astype(str).to_numpy(),
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
