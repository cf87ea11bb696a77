"""Small vectorised sampling helpers used by the synthetic population (numpy only).

Nothing here touches pandas; inputs are numpy arrays, outputs numpy arrays. The
generators are deterministic given a :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import numpy as np


def logit(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p) - np.log1p(-p)


def expit(x):
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


def draw_by_group(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Draw one category per row from the distribution of its group.

    Parameters
    ----------
    probs : float64 array (n_groups, n_categories)
        Row ``g`` is the distribution for group ``g`` (rows are renormalised to sum to 1;
        zero-probability categories are never drawn).
    group : int array (n,)
        Group of each row, in ``0 .. n_groups - 1``.

    Returns
    -------
    int32 array (n,) of categories ``0 .. n_categories - 1``.

    Notes
    -----
    Vectorised inverse-CDF sampling: the cumulative distributions of all groups are laid
    end to end, group ``g`` occupying ``[g, g + 1)``, so one ``searchsorted`` of
    ``g + u`` with ``u ~ U[0, 1)`` finds every row's category. Exact up to float64
    rounding of ``g + cdf`` (relative 1e-16, i.e. probabilities below ~1e-12 for
    ``n_groups`` up to 1e4 may be merged with their neighbour).
    """
    probs = np.asarray(probs, dtype=np.float64)
    n_groups, k = probs.shape
    group = np.asarray(group, dtype=np.int64)
    sums = probs.sum(axis=1, keepdims=True)
    if np.any(sums <= 0) or np.any(probs < 0):
        raise ValueError("every group needs a non-negative distribution with positive mass")
    cdf = np.cumsum(probs / sums, axis=1)
    cdf[:, -1] = 1.0
    offsets = np.arange(n_groups, dtype=np.float64)[:, None]
    flat = (cdf + offsets).ravel()
    # a category whose cdf equals the previous one has zero mass and is skipped by side="right"
    u = rng.random(group.shape[0])
    pos = np.searchsorted(flat, group + u, side="right")
    out = pos - group * k
    np.clip(out, 0, k - 1, out=out)  # guards the u + g == g + 1 rounding corner
    return out.astype(np.int32)


def draw_categorical(rng: np.random.Generator, probs, size: int) -> np.ndarray:
    """``size`` draws from one distribution ``probs`` (int32 codes)."""
    probs = np.asarray(probs, dtype=np.float64)
    cdf = np.cumsum(probs / probs.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int32)


def calibrate_intercept(lin: np.ndarray, target: float, *, max_rows: int = 200_000,
                        tol: float = 1e-12) -> float:
    """Intercept ``a`` such that ``mean(expit(lin + a)) == target``.

    Safeguarded Newton iteration (the mean is increasing and convex/concave in ``a``;
    the step falls back to bisection of the current bracket whenever Newton would leave
    it). Uses an evenly strided subsample of at most ``max_rows`` values (deterministic).
    """
    lin = np.asarray(lin, dtype=np.float64)
    if lin.shape[0] > max_rows:
        lin = lin[:: int(np.ceil(lin.shape[0] / max_rows))]
    lo, hi = -40.0, 40.0
    a = float(np.log(target) - np.log1p(-target) - np.median(lin))
    for _ in range(100):
        p = expit(lin + a)
        f = p.mean() - target
        if abs(f) <= tol:
            break
        if f < 0:
            lo = a
        else:
            hi = a
        slope = (p * (1.0 - p)).mean()
        step = a - f / slope if slope > 0 else 0.5 * (lo + hi)
        a = step if lo < step < hi else 0.5 * (lo + hi)
        if hi - lo < 1e-13:
            break
    return a


def largest_remainder(total: int, shares) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``shares`` (Hamilton's method)."""
    shares = np.asarray(shares, dtype=np.float64)
    raw = total * shares / shares.sum()
    base = np.floor(raw).astype(np.int64)
    rest = int(total - base.sum())
    if rest:
        order = np.argsort(-(raw - base), kind="stable")
        base[order[:rest]] += 1
    return base


def streams(seed: int, names) -> dict:
    """Independent random streams, one per named stage (stable when stages are added).

    The stream of ``name`` is seeded by ``[seed, ord(c) for c in name]``, so adding a stage
    never changes the draws of another one.
    """
    out = {}
    for name in names:
        key = [seed] + [ord(c) for c in name]
        out[name] = np.random.default_rng(np.random.SeedSequence(key))
    return out
