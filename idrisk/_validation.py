"""Input checks shared by every public function.

Each check raises :class:`~idrisk.exceptions.DataValidationError` or
:class:`~idrisk.exceptions.InvalidParameterError` with a message that names the
offending columns or values, so that bad input never reaches a numba kernel.
None of these functions modifies what the user passed.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Real
from pathlib import Path, PurePath

import numpy as np
import pandas as pd

from .exceptions import DataQualityWarning, DataValidationError, InvalidParameterError, InvalidWeightsError

MISSING_CONVENTIONS = ("category", "wildcard", "never")


def as_frame(data, *, name: str = "data") -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame, accepting pyarrow tables and polars frames.

    The original object is never modified; a pandas frame is returned as is (not copied).
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif type(data).__module__.startswith("pyspark"):
        # never collected behind the user's back: the metrics of idrisk.spark reduce on Spark
        raise InvalidParameterError(
            f"{name} is a Spark DataFrame, which this function does not take yet; the metrics "
            "(frequencies, k_anonymity, l_diversity, t_closeness, sample_risks, qi_importance, individual_risk, "
            "global_risk, population_uniqueness, unique_match_probability, suda, combination_sweep, what_if), "
            "simulate_intruder, run_scenarios, assess and anonymise do, reducing it on Spark. Pass a pandas frame here")
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
        raise InvalidParameterError(f"no {role}{'' if role == 'column' else ' column'} was given")
    bad = [describe(c) for c in columns if not isinstance(c, Hashable)]
    if bad:
        raise InvalidParameterError(f"{role} columns must be column names (strings or numbers); got {', '.join(bad)}")
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
    several = several_columns(frame, cols, role=role)
    if several:
        raise DataValidationError(several)
    return cols


def column_values(frame: pd.DataFrame, name):
    """The stored values of ``frame``'s column ``name`` (a NumPy array or a pandas
    ExtensionArray such as a Categorical), without building a Series: what
    ``frame[name].to_numpy()`` (numpy dtypes) or ``frame[name].array`` would give, not a copy.
    Read only: the caller must not write to it.

    ``frame[name]`` builds a Series (index, flags, finaliser): 35 to 70 µs a column when the
    interpreter's caches are cold after a kernel's pass over a million rows, against 5 to 10
    through ``DataFrame._get_column_array`` (private, in pandas 2.2 to 3.x); the Series is the
    fallback where that method is absent. ``name`` must select one column (a level of
    MultiIndex columns is refused before: :func:`several_columns`)."""
    get = getattr(frame, "_get_column_array", None)
    if get is not None:
        loc = frame.columns.get_loc(name)
        if isinstance(loc, (int, np.integer)):
            v = get(int(loc))  # a numpy dtype's datetimes and timedeltas are stored as pandas arrays
            return np.asarray(v) if isinstance(v.dtype, np.dtype) else v
    s = frame[name]
    return s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array


def several_columns(frame: pd.DataFrame, columns, *, role: str) -> str | None:
    """The problem with names (present in ``frame``) that each select more than one column,
    as a level of MultiIndex columns does, or None."""
    several = [str(c) for c in columns if c in frame.columns
               and not isinstance(frame.columns.get_loc(c), (int, np.integer))]
    if not several:
        return None
    return (f"{role} name(s) that select more than one column of the data (a level of MultiIndex columns): "
            f"{', '.join(several)}; give one column each (a full tuple), or flatten the columns first")


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


def check_max_seconds(value, *, name: str = "max_seconds") -> float | None:
    """``None`` (no time limit) or a positive, finite number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (Real, np.integer, np.floating)) or \
            not math.isfinite(float(value)) or float(value) <= 0:
        raise InvalidParameterError(f"{name} must be a positive number of seconds or None, got {describe(value)}")
    return float(value)


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


def _aligned(series: pd.Series, frame: pd.DataFrame, label: str) -> pd.Series:
    """A weights Series in the row order of ``frame``: matched by index label, never by position."""
    if series.index.equals(frame.index):
        return series
    if series.index.has_duplicates or frame.index.has_duplicates:
        raise InvalidWeightsError(f"{label}: a Series of weights is matched to the rows by index label, and "
                                  "its index or the data's has duplicate labels; pass an array (one weight "
                                  "per row, in row order) or a Series with the data's index")
    missing = int((~frame.index.isin(series.index)).sum())
    if missing:
        raise InvalidWeightsError(f"{label}: a Series of weights is matched to the rows by index label, and "
                                  f"{missing} row label(s) of the data are not in its index; pass an array "
                                  "(one weight per row, in row order) or a Series with the data's index")
    return series.reindex(frame.index)


def check_weights(frame: pd.DataFrame, weights, *, warn_below_one: bool = True) -> np.ndarray | None:
    """Return sampling weights as a float64 array (a copy), or None.

    ``weights`` is a column name of ``frame``, a Series (matched to the rows by index
    label: it must hold the data's index labels) or an array-like of one weight per row in
    row order. A weight is the number of population units a record stands for, so weights
    must be real numbers, finite and positive, with a finite total; anything else raises
    :class:`~idrisk.exceptions.InvalidWeightsError` (both a ``DataValidationError`` and an
    ``InvalidParameterError``). Weights below 1 are allowed but warned about, since they
    make the estimated population frequency smaller than the sample frequency (Fk < fk) and
    the Benedetti-Franconi risk meaningless.
    """
    if weights is None:
        return None
    if isinstance(weights, str) or (np.isscalar(weights) and not isinstance(weights, (int, float))):
        if weights not in frame.columns:
            raise DataValidationError(f"weight column not found in the data: {weights}")
        series = frame[weights]
        label = f"weight column {weights!r}"
    else:
        label = "weights"
        if isinstance(weights, pd.Series):
            if len(weights) != len(frame):
                raise InvalidWeightsError(f"{label} have {len(weights)} values for {len(frame)} rows")
            series = _aligned(weights, frame, label)
        else:
            try:
                series = pd.Series(weights)
            except Exception:  # noqa: BLE001 - any array-like pandas cannot hold
                raise InvalidWeightsError(f"{label} must be one number per row; got {describe(weights)}") from None
            if series.ndim != 1 or len(series) != len(frame):
                raise InvalidWeightsError(f"{label} have {len(series)} values for {len(frame)} rows")
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype) \
            or pd.api.types.is_complex_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        raise InvalidWeightsError(f"{label} must be numeric (real numbers), got dtype {dtype}")
    values = series.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    problems = [f"{n} {what}" for n, what in (
        (int(np.isnan(values).sum()), "missing value(s); every record needs a weight"),
        (int(np.isinf(values).sum()), "infinite value(s)"),
        (int((values < 0).sum()), "negative value(s)"),
        (int((values == 0).sum()), "zero value(s); a weight is the number of population units a record "
                                   "stands for, so it must be positive")) if n]
    if problems:
        raise InvalidWeightsError(f"{label} have " + "; ".join(problems))
    with np.errstate(over="ignore"):
        total = values.sum()
    if not math.isfinite(total):
        raise InvalidWeightsError(
            f"{label} are too large: their total overflows a float (above {np.finfo(float).max:.3g})")
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


# -- declared parameter constraints -----------------------------------------------------------------
# One declared constraint per parameter (a config field or a public function's argument), one
# message shape for every problem: "<owner>: <parameter> must be <what>; got <type/shape>". The
# "got" part names the type and shape of what was given, and a number itself, never a string's
# text (a string could be a record value).

def describe(value) -> str:
    """The type and shape of ``value`` for an error message (a number is shown, text never)."""
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return f"int {int(value)}"
    if isinstance(value, (float, np.floating)):
        return f"float {float(value)!r}"
    if isinstance(value, str) and not _is_text(value):
        return "str with an unpaired surrogate (not valid Unicode text)"
    if isinstance(value, (str, bytes)):
        return type(value).__name__ if value else f"empty {type(value).__name__}"
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return f"{type(value).__name__} of {len(value)}"
    return type(value).__name__


def _is_text(v) -> bool:
    """A string that can be written as UTF-8 (no unpaired surrogate)."""
    if not isinstance(v, str):
        return False
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(float(v))


@dataclass(frozen=True)
class Param:
    """The declared constraint of one parameter.

    ``kind`` is one of ``bool``, ``int``, ``number``, ``str``, ``choice``, ``str_list``,
    ``int_list``, ``path``, ``table`` (a dict from str to ``values``) or ``columns``
    (a list of column names, checked against the data where the data are known).
    ``low``/``high`` bound numbers (``*_open``: the bound itself is excluded); ``optional``
    accepts None; ``literals`` are extra accepted values (e.g. ``"none"`` for "no limit").
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    optional: bool = False
    nonempty: bool = False
    values: Param | None = None
    literals: tuple = ()

    def what(self) -> str:
        """What an accepted value is, in words."""
        base = {
            "bool": "true or false", "str": "a string", "path": "a file path (a string)",
            "choice": "one of " + ", ".join(repr(c) for c in self.choices),
            "str_list": "a list of strings", "columns": "a list of column names (strings)",
            "table": "a table (dict) of string keys",
        }.get(self.kind)
        if self.kind in ("int", "number", "int_list"):
            unit = "an integer" if self.kind == "int" else "a number" if self.kind == "number" \
                else "a list of integers"
            base = unit + self._range()
        if self.kind in ("str_list", "columns", "int_list") and self.nonempty:
            base = "a non-empty " + base[2:]
        if self.kind == "table" and self.values is not None:
            base += " to " + self.values.what()
        extra = [repr(x) for x in self.literals] + (["absent (None)"] if self.optional else [])
        return base + (" or " + " or ".join(extra) if extra else "")

    def _range(self) -> str:
        lo, hi = self.low, self.high
        fmt = (lambda x: str(int(x)) if float(x).is_integer() else str(x))
        if lo is not None and hi is not None:
            return f" in {'(' if self.low_open else '['}{fmt(lo)}, {fmt(hi)}{')' if self.high_open else ']'}"
        if lo is not None:
            return f" {'>' if self.low_open else '>='} {fmt(lo)}"
        if hi is not None:
            return f" {'<' if self.high_open else '<='} {fmt(hi)}"
        return ""

    def _in_range(self, v) -> bool:
        v = float(v)
        if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
            return False
        return not (self.high is not None and (v > self.high or (self.high_open and v == self.high)))

    def accepts(self, value) -> bool:
        """True when ``value`` meets the constraint."""
        if value is None:
            return self.optional
        if self.literals and isinstance(value, str) and value in self.literals:
            return True
        k = self.kind
        if k == "bool":
            return isinstance(value, (bool, np.bool_))
        if k == "int":
            return _is_int(value) and self._in_range(value)
        if k == "number":
            return _is_number(value) and self._in_range(value)
        if k == "str":
            return _is_text(value)
        if k == "path":
            return isinstance(value, (str, PurePath))
        if k == "choice":
            return isinstance(value, Hashable) and not isinstance(value, bool) and value in self.choices
        if k in ("str_list", "columns", "int_list"):
            if not isinstance(value, (list, tuple)) or (self.nonempty and not value):
                return False
            if k == "int_list":
                return all(_is_int(v) and self._in_range(v) for v in value)
            return all(_is_text(v) for v in value)
        if k == "table":
            return isinstance(value, dict) and all(_is_text(key) for key in value) and (
                self.values is None or all(self.values.accepts(v) for v in value.values()))
        raise ValueError(f"unknown constraint kind {k!r}")  # a programming error

    def problem(self, owner: str, name: str, value) -> str | None:
        """The one-line message about ``value``, or None when it is accepted."""
        if self.accepts(value):
            return None
        return f"{owner}: {name} must be {self.what()}; got {describe(value)}"


def param_problems(owner: str, values: dict, params: dict) -> list[str]:
    """Every problem of ``values`` (name -> value) against ``params`` (name -> Param)."""
    return [msg for name, p in params.items() if name in values
            and (msg := p.problem(owner, name, values[name])) is not None]


def raise_problems(problems: list[str]) -> None:
    """Raise one InvalidParameterError listing every problem (one per line), if there is any."""
    if problems:
        raise InvalidParameterError("\n".join(problems))


def check_param(owner: str, name: str, value, param: Param):
    """Check one parameter of a public function against its constraint; return it unchanged."""
    raise_problems([m for m in [param.problem(owner, name, value)] if m])
    return value


# -- output paths -----------------------------------------------------------------------------------

def output_path(path, *, overwrite: bool) -> Path:
    """The file to write for the output ``path``, or an error; nothing is written here.

    An existing file is replaced only with ``overwrite`` (else ``FileExistsError``). A
    symbolic link at ``path`` is refused unless ``overwrite`` is given and it points to a
    file inside the output's folder (then that file is returned); a dangling link is never
    followed. A directory is refused.
    """
    p = Path(path)
    if p.is_symlink():
        target = Path(os.path.realpath(p))
        folder = Path(os.path.realpath(p.parent))
        if not target.exists():
            raise InvalidParameterError(f"{p} is a dangling symbolic link; it is never followed: remove it "
                                        "or choose another output path")
        if not overwrite:
            raise FileExistsError(f"{p} exists (a symbolic link); pass overwrite=True (CLI: --overwrite) to "
                                  "replace its target")
        if not target.is_relative_to(folder) or target.is_dir():
            raise InvalidParameterError(f"{p} is a symbolic link to a path outside its folder ({folder}); "
                                        "refusing to write through it")
        return target
    if p.is_dir():
        raise InvalidParameterError(f"{p} is a directory; give a file path")
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p} exists; pass overwrite=True (CLI: --overwrite) to replace it")
    return p


def check_distinct_outputs(paths: dict) -> None:
    """Refuse two outputs (name -> path, None: not written) that are the same file."""
    seen: dict = {}
    for name, path in paths.items():
        if path is None:
            continue
        real = os.path.realpath(Path(path))
        if real in seen:
            raise InvalidParameterError(f"{seen[real]} and {name} name the same file ({path}); give two paths")
        seen[real] = name
