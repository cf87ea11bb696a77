"""The intruder's data for a scenario: targets, key variables and data divergence.

``make_auxiliary`` follows docs/methods.md#divergence: select the targets, keep
only the scenario's quasi-identifiers, then, per variable and in this order, apply time lag
(the value changed since the intruder learnt it), coarsening, jitter, recording errors and
missing values, by the one divergence mechanism of :mod:`.mistakes` with its generic
strategy (a wrong value is redrawn from the column's observed values). Every random choice
comes from ``numpy.random.default_rng(seed)`` with one child stream per variable, so the
result is a deterministic function of the seed.
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
from .mistakes import FieldDivergence, change_probability, coarsen_values, diverge, redraw
from .scenario import IntruderScenario

__all__ = ["make_auxiliary", "build_auxiliary", "change_probability", "target_positions", "truth_positions", "truth_id_column",
           "default_truth_id", "TRUTH_COLUMN", "TRUTH_PREFIX"]

#: every ground-truth column starts with this (a linker ignores such columns)
TRUTH_PREFIX = "_truth_"
#: the ground truth as extract row positions (-1 for a non-member)
TRUTH_COLUMN = TRUTH_PREFIX + "row"


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


def _field_divergence(var, pool: np.ndarray, scenario: IntruderScenario) -> FieldDivergence:
    """The scenario's divergence of ``var`` with the generic strategy (:func:`redraw` from
    ``pool``, coarsened like the values); a zero rate is skipped without drawing."""
    rate = scenario.change_rate[var]
    spec = scenario.coarsening.get(var)
    return FieldDivergence(
        change_probability=change_probability(rate, scenario.time_lag_years)
        if rate and scenario.time_lag_years else None,
        changed=redraw(pool),
        coarsen=spec or None,
        jitter=scenario.jitter.get(var, 0),
        error_rate=scenario.error_rate[var] or None,
        wrong=redraw(coarsen_values(pool, spec, var) if spec else pool),
        missing_rate=scenario.missing_rate[var] or None,
    )


def _diverge(values: pd.DataFrame, pools: dict, scenario: IntruderScenario, rng) -> pd.DataFrame:
    kv = scenario.quasi_identifiers
    streams = dict(zip(kv, rng.spawn(len(kv))))  # one child stream per variable
    fields = {var: _field_divergence(var, pools[var], scenario) for var in kv}
    arrays = {var: _plain_values(values[var]).copy() for var in kv}
    diverged = diverge(arrays, fields, streams).values
    out = {}
    for var in kv:
        arr, src = diverged[var], values[var]
        if arr.dtype.kind == "O" and isinstance(src.dtype, pd.CategoricalDtype) and not fields[var].coarsen:
            out[var] = pd.Categorical(arr, categories=src.cat.categories)
        else:
            out[var] = arr
    try:
        return pd.DataFrame(out)
    except UnicodeEncodeError:  # text with an unpaired surrogate: pandas' string dtype cannot hold it
        return pd.DataFrame({v: pd.Series(a, dtype=object) if getattr(a, "dtype", None) == object else a
                             for v, a in out.items()})


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
        pools[v] = p[~pd.isna(p)]
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
