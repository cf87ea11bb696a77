"""The intruder's data for a scenario: targets, key variables and data divergence.

``make_auxiliary`` follows docs/methods.md#divergence: select the targets, keep
only the scenario's quasi-identifiers, then, per variable and in this order, apply time lag
(the value changed since the intruder learnt it), coarsening, jitter, recording errors and
missing values. Every random choice comes from ``numpy.random.default_rng(seed)`` with
one child stream per variable, so the result is a deterministic function of the seed.
The ground truth (row position in the extract, ``-1`` for a non-member) sits in the
column ``_truth_row``, which the linker never reads.

One ground-truth convention for every kind of auxiliary data: a hidden column whose name
starts with ``_truth_``, either ``_truth_row`` (the extract row position) or
``_truth_<id>`` (:func:`truth_id_column`: the record's value of the id column ``<id>``,
for data made from a population, as :mod:`idrisk.datasets` does); :func:`truth_positions`
resolves both to extract row positions. The pupil id is the NPD profile's ``truth_id``
(:mod:`idrisk.profiles`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import as_frame, check_columns, check_seed
from ..exceptions import DataValidationError, InvalidParameterError
from ..profiles import get_profile
from .compat import renamed_keyword
from .scenario import IntruderScenario

__all__ = ["make_auxiliary", "build_auxiliary", "change_probability", "target_positions", "truth_positions", "truth_id_column",
           "default_truth_id", "TRUTH_COLUMN", "TRUTH_PREFIX"]

#: every ground-truth column starts with this (a linker ignores such columns)
TRUTH_PREFIX = "_truth_"
#: the ground truth as extract row positions (-1 for a non-member)
TRUTH_COLUMN = TRUTH_PREFIX + "row"


def change_probability(rate: float, years: float) -> float:
    """P(a value changed within ``years``) at an annual change ``rate``: ``1 - (1 - rate)^years``."""
    return 1.0 - (1.0 - rate) ** years


def truth_id_column(id_column: str) -> str:
    """The hidden ground-truth column holding each record's ``id_column`` value."""
    return f"{TRUTH_PREFIX}{id_column}"


def default_truth_id() -> str:
    """The default profile's ground-truth id (``"pupil_id"`` for the NPD profile)."""
    return get_profile(None).truth_id


def truth_positions(extract: pd.DataFrame, auxiliary: pd.DataFrame, *, id_column: str | None = None) -> np.ndarray:
    """Each auxiliary record's extract row position (-1 for a non-member), from its ground truth.

    ``_truth_row`` (row positions) is read as is; otherwise ``_truth_<id_column>`` is
    matched against ``extract[id_column]`` (``id_column=None``: :func:`default_truth_id`).
    """
    n_e = len(extract)
    if TRUTH_COLUMN in auxiliary.columns:
        t = auxiliary[TRUTH_COLUMN]
        if not pd.api.types.is_integer_dtype(t.dtype) or t.isna().any():
            raise DataValidationError(f"the ground-truth column `{TRUTH_COLUMN}` must hold integer row positions")
        t = t.to_numpy(dtype=np.int64)
        if ((t < -1) | (t >= n_e)).any():
            raise DataValidationError(
                f"the ground-truth column `{TRUTH_COLUMN}` holds positions outside the extract "
                f"(valid: -1 for a non-member, 0..{n_e - 1}); was the auxiliary data made from this extract?"
            )
        return t
    id_column = default_truth_id() if id_column is None else id_column
    tid = truth_id_column(id_column)
    if tid in auxiliary.columns and id_column in extract.columns:
        return pd.Index(extract[id_column]).get_indexer(auxiliary[tid]).astype(np.int64)
    raise DataValidationError(
        f"the auxiliary data have no ground-truth column `{TRUTH_COLUMN}` (extract row positions, -1 for "
        f"non-members) or `{tid}` (with `{id_column}` in the extract); build it with make_auxiliary"
    )


def _plain_values(s: pd.Series) -> np.ndarray:
    """Values as a numpy array that supports ``==``, fancy indexing and a missing marker."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(s.cat.categories.dtype if s.cat.categories.dtype != object else object)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        return s.to_numpy(dtype="datetime64[ns]")
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=object)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype="float64", na_value=np.nan)
    return s.to_numpy(dtype=object, na_value=None)


def _isna(arr: np.ndarray) -> np.ndarray:
    return pd.isna(arr)


def _set_missing(arr: np.ndarray, mask: np.ndarray) -> None:
    if arr.dtype.kind == "M":
        arr[mask] = np.datetime64("NaT")
    elif arr.dtype.kind == "f":
        arr[mask] = np.nan
    else:
        arr[mask] = None


def _coarsen(arr: np.ndarray, spec: str, var) -> np.ndarray:
    head, _, arg = spec.partition(":")
    if head in ("month", "year"):
        if arr.dtype.kind != "M":
            raise DataValidationError(f"coarsening {spec!r} needs dates but column {var!r} is not a date column")
        unit = "M" if head == "month" else "Y"
        out = arr.astype(f"datetime64[{unit}]").astype("datetime64[ns]")
        return out
    if head == "round":
        if arr.dtype.kind != "f":
            raise DataValidationError(f"coarsening {spec!r} needs numbers but column {var!r} is not numeric")
        w = float(arg)
        return np.floor(arr / w) * w
    # prefix
    n = int(arg)
    if arr.dtype.kind != "O":
        raise DataValidationError(f"coarsening {spec!r} needs strings but column {var!r} is not a text column")
    return np.array([v[:n] if isinstance(v, str) else v for v in arr], dtype=object)


def _jitter(arr: np.ndarray, j: int, rng, var) -> np.ndarray:
    if j == 0:
        return arr
    shift = rng.integers(-j, j + 1, size=arr.shape[0])
    if arr.dtype.kind == "M":
        nat = np.isnat(arr)
        months = arr.astype("datetime64[M]")
        day = (arr - months.astype("datetime64[ns]")).astype("timedelta64[D]").astype(np.int64)
        day = np.minimum(day, 27)
        out = (months + shift.astype("timedelta64[M]")).astype("datetime64[ns]") + day.astype("timedelta64[D]")
        out[nat] = np.datetime64("NaT")
        return out
    if arr.dtype.kind == "f":
        return arr + shift
    raise DataValidationError(f"jitter needs dates or numbers but column {var!r} holds text")


def _replace_with_other(arr: np.ndarray, mask: np.ndarray, pool: np.ndarray, rng) -> None:
    """Replace ``arr[mask]`` by values drawn from ``pool`` that differ from the current one."""
    idx = np.flatnonzero(mask & ~_isna(arr))
    if idx.size == 0 or pool.size == 0:
        return
    for _ in range(20):
        draw = pool[rng.integers(0, pool.size, size=idx.size)]
        same = draw == arr[idx]
        arr[idx[~same]] = draw[~same]
        idx = idx[same]
        if idx.size == 0:
            break


def _diverge(values: pd.DataFrame, pools: dict, scenario: IntruderScenario, rng) -> pd.DataFrame:
    out = {}
    children = rng.spawn(len(scenario.quasi_identifiers))
    for var, r in zip(scenario.quasi_identifiers, children):
        arr = _plain_values(values[var]).copy()
        pool = pools[var]
        n = arr.shape[0]
        rate = scenario.change_rate[var]
        if rate and scenario.time_lag_years:
            p = change_probability(rate, scenario.time_lag_years)
            _replace_with_other(arr, r.random(n) < p, pool, r)
        spec = scenario.coarsening.get(var)
        if spec:
            arr = _coarsen(arr, spec, var)
            pool = _coarsen(pool, spec, var)
        arr = _jitter(arr, scenario.jitter.get(var, 0), r, var)
        e = scenario.error_rate[var]
        if e:
            _replace_with_other(arr, r.random(n) < e, pool, r)
        mrate = scenario.missing_rate[var]
        if mrate:
            _set_missing(arr, r.random(n) < mrate)
        src = values[var]
        if arr.dtype.kind == "O" and isinstance(src.dtype, pd.CategoricalDtype) and not spec:
            out[var] = pd.Categorical(arr, categories=src.cat.categories)
        else:
            out[var] = arr
    return pd.DataFrame(out)


def target_positions(frame: pd.DataFrame, targets, rng) -> np.ndarray:
    """Row positions of the scenario's targets in ``frame`` (``"all"``, a count, a share or labels)."""
    n = len(frame)
    if isinstance(targets, str):  # "all"
        return np.arange(n, dtype=np.int64)
    if isinstance(targets, int):
        if targets > n:
            raise InvalidParameterError(f"targets asks for {targets} records but the data have {n}")
        return np.sort(rng.choice(n, size=targets, replace=False)).astype(np.int64)
    if isinstance(targets, float):
        size = max(1, int(round(targets * n)))
        return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)
    pos = frame.index.get_indexer(list(targets))
    if (pos < 0).any():
        raise DataValidationError(
            f"{int((pos < 0).sum())} named target(s) are not index labels of the data"
        )
    return pos.astype(np.int64)


def build_auxiliary(source: pd.DataFrame, truth: np.ndarray, positions: np.ndarray, scenario, rng,
                    pool_frame: pd.DataFrame) -> pd.DataFrame:
    """The diverged quasi-identifiers of ``source``'s rows ``positions``, with ``truth`` of them in
    ``_truth_row``, in random order; wrong values are drawn from ``pool_frame``'s values."""
    kv = list(scenario.quasi_identifiers)
    pools = {}
    for v in kv:
        p = _plain_values(pool_frame[v])
        pools[v] = p[~_isna(p)]
    aux = _diverge(source.iloc[positions][kv].reset_index(drop=True), pools, scenario, rng)
    aux[TRUTH_COLUMN] = truth[positions]
    order = rng.permutation(len(aux))  # the row order must not reveal the truth
    return aux.iloc[order].reset_index(drop=True)


@renamed_keyword("extract", "data")
def make_auxiliary(data, scenario: IntruderScenario, *, seed: int = 0) -> pd.DataFrame:
    """Build the intruder's ("public-style") data for ``scenario`` from an extract.

    Parameters
    ----------
    data : pandas.DataFrame
        The extract (not modified); must hold every quasi-identifier. ``extract=`` is the
        deprecated name of this argument.
    scenario : IntruderScenario
    seed : int, default 0
        Every random choice (target sample, divergence, row order) derives from it.

    Returns
    -------
    pandas.DataFrame
        One row per target, in random order: the quasi-identifiers after divergence and
        the hidden ground truth ``_truth_row`` (the target's row position in ``extract``).

    Notes
    -----
    Divergence per variable ``v``, in order: with ``time_lag_years = t`` the value is
    replaced by a different one with probability ``1 - (1 - change_rate_v)^t``; it is
    coarsened; jittered by a uniform shift in ``[-j_v, j_v]``; replaced by a different
    value (drawn from the column's distribution in ``extract``, coarsened the same way)
    with probability ``error_rate_v``; and blanked with probability ``missing_rate_v``.
    """
    if not isinstance(scenario, IntruderScenario):
        raise InvalidParameterError(f"scenario must be an IntruderScenario, got {type(scenario).__name__}")
    frame = as_frame(data, name="extract")
    check_columns(frame, scenario.quasi_identifiers, role="quasi-identifier")
    rng = np.random.default_rng(check_seed(seed))
    positions = target_positions(frame, scenario.targets, rng)
    truth = np.arange(len(frame), dtype=np.int64)
    return build_auxiliary(frame, truth, positions, scenario, rng, frame)
