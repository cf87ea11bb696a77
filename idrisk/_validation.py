"""Input checks shared by every public function.

Each check raises :class:`~idrisk.exceptions.DataValidationError` or
:class:`~idrisk.exceptions.InvalidParameterError` with a message that names the
offending columns or values, so that bad input never reaches a numba kernel.
None of these functions modifies what the user passed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from numbers import Real

import numpy as np
import pandas as pd

from .exceptions import DataQualityWarning, DataValidationError, InvalidParameterError

MISSING_CONVENTIONS = ("category", "wildcard", "never")


def as_frame(data, *, name: str = "data") -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame, accepting pyarrow tables and polars frames.

    The original object is never modified; a pandas frame is returned as is (not copied).
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif hasattr(data, "to_pandas") and callable(data.to_pandas):  # pyarrow.Table, polars.DataFrame
        frame = data.to_pandas()
        if not isinstance(frame, pd.DataFrame):
            raise InvalidParameterError(f"{name}.to_pandas() did not return a pandas DataFrame")
    else:
        raise InvalidParameterError(
            f"{name} must be a pandas DataFrame (or a pyarrow/polars table), got {type(data).__name__}"
        )
    if frame.columns.has_duplicates:
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise DataValidationError(f"{name} has duplicate column names: {', '.join(dup)}")
    if len(frame) == 0:
        raise DataValidationError(f"{name} is empty (0 rows): there is nothing to assess")
    return frame


def as_column_list(columns, *, role: str, allow_empty: bool = False) -> list:
    """Normalise a column name or a sequence of names to a list, with a clear error."""
    if columns is None:
        columns = []
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Iterable):
        columns = [columns]
    columns = list(columns)
    if not columns and not allow_empty:
        raise InvalidParameterError(f"no {role} columns were given")
    seen, dups = set(), []
    for c in columns:
        if c in seen:
            dups.append(str(c))
        seen.add(c)
    if dups:
        raise InvalidParameterError(f"{role} columns are named more than once: {', '.join(dups)}")
    return columns


def check_columns(frame: pd.DataFrame, columns, *, role: str = "quasi-identifier",
                  allow_empty: bool = False) -> list:
    """Check that every name in ``columns`` is a column of ``frame``; report all missing at once."""
    cols = as_column_list(columns, role=role, allow_empty=allow_empty)
    missing = [str(c) for c in cols if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{role} column{'s' if len(missing) > 1 else ''} not found in the data: "
            f"{', '.join(missing)} (available: {', '.join(map(str, frame.columns[:30]))}"
            f"{', ...' if len(frame.columns) > 30 else ''})"
        )
    return cols


def check_missing(missing: str) -> str:
    if missing not in MISSING_CONVENTIONS:
        raise InvalidParameterError(
            f"missing must be one of {', '.join(repr(m) for m in MISSING_CONVENTIONS)}, got {missing!r}"
        )
    return missing


def check_fraction(value, *, name: str, low: float = 0.0, high: float = 1.0,
                   low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise InvalidParameterError(f"{name} must be a finite number, got {value!r}")
    v = float(value)
    if (v < low or (low_open and v == low)) or (v > high or (high_open and v == high)):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise InvalidParameterError(f"{name} must be in {lo}{low}, {high}{hi}, got {value!r}")
    return v


def check_positive_int(value, *, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise InvalidParameterError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_k_values(k) -> tuple[int, ...]:
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
        k = (k,)
    try:
        ks = tuple(k)
    except TypeError:
        raise InvalidParameterError(f"k must be an integer or a sequence of integers, got {k!r}") from None
    if not ks:
        raise InvalidParameterError("k must name at least one class size")
    for v in ks:
        check_positive_int(v, name="k")
    return tuple(sorted({int(v) for v in ks}))


def check_weights(frame: pd.DataFrame, weights, *, warn_below_one: bool = True) -> np.ndarray | None:
    """Return sampling weights as a float64 array (a copy), or None.

    ``weights`` is a column name of ``frame`` or an array-like of one weight per row.
    Weights must be numeric, finite and non-negative; weights below 1 are allowed but
    warned about, since they make the estimated population frequency smaller than the
    sample frequency (Fk < fk) and the Benedetti-Franconi risk meaningless.
    """
    if weights is None:
        return None
    if isinstance(weights, str) or (np.isscalar(weights) and not isinstance(weights, (int, float))):
        if weights not in frame.columns:
            raise DataValidationError(f"weight column not found in the data: {weights}")
        series = frame[weights]
        label = f"weight column {weights!r}"
    else:
        series = pd.Series(weights) if not isinstance(weights, pd.Series) else weights
        label = "weights"
        if len(series) != len(frame):
            raise DataValidationError(f"{label} have {len(series)} values for {len(frame)} rows")
    if isinstance(series.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    ):
        raise DataValidationError(f"{label} must be numeric, got dtype {series.dtype}")
    values = series.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    n_nan = int(np.isnan(values).sum())
    if n_nan:
        raise DataValidationError(f"{label} have {n_nan} missing value(s); every record needs a weight")
    n_inf = int(np.isinf(values).sum())
    if n_inf:
        raise DataValidationError(f"{label} have {n_inf} infinite value(s)")
    n_neg = int((values < 0).sum())
    if n_neg:
        raise DataValidationError(f"{label} have {n_neg} negative value(s)")
    if warn_below_one:
        n_small = int((values < 1).sum())
        if n_small:
            warnings.warn(
                f"{label}: {n_small} weight(s) are below 1, so the estimated population frequency "
                "Fk can be smaller than the sample frequency fk; risk estimates for those classes "
                "are not meaningful",
                DataQualityWarning,
                stacklevel=3,
            )
    return values


def check_sequence_of_str(values: Sequence, *, name: str) -> list[str]:
    values = as_column_list(values, role=name)
    bad = [repr(v) for v in values if not isinstance(v, str)]
    if bad:
        raise InvalidParameterError(f"{name} must be strings, got {', '.join(bad)}")
    return values


def check_seed(seed, *, name: str = "seed") -> int:
    """A random seed: a non-negative integer (bools refused). The one seed check of idrisk."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise InvalidParameterError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)
