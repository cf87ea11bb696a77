"""Encoding: pandas columns -> dense integer codes. The only module that touches raw values.

Every metric in idrisk runs over integer codes. A column is encoded once into an
``int32`` array where ``-1`` marks a missing value and ``0 .. n_levels-1`` the observed
values, and the encoding is reused for every quasi-identifier (QI) set.

Missing values are whatever pandas calls missing (``NaN``, ``None``, ``pd.NA``, ``NaT``).
How a missing value takes part in matching is decided later, by the *missing-value
convention* of the metric (``"category"``, ``"wildcard"``, ``"never"``; see
:func:`Encoded.codes_for` and ``docs/methods.md#missing-values``).

Supported column types: numpy and nullable integers, floats and booleans; categoricals
(their codes, no hashing); strings (object, grouped by object identity first, ``string`` and
pyarrow-backed), datetimes and timedeltas. :func:`key_columns` is the fused fast path of the
equivalence-class layer (:mod:`idrisk.metrics._classes`). Object columns mixing kinds of
values (numbers and strings) are refused: ``1`` and ``"1"`` would otherwise silently be
different categories.
"""

from __future__ import annotations

import ctypes
import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._config import IDENTIFIER_DISTINCT_SHARE, IDENTIFIER_MIN_ROWS
from ._kernels.codes import (int_dense_codes, int_min_max, min_max, new_codes, pointer_codes, remap_codes,
                             sample_min_max, string_codes)
from ._kernels.groups import default_limit
from ._kernels.threads import run_chunks
from ._validation import Param, as_frame, check_columns, check_missing, check_param, column_values
from .exceptions import DataQualityWarning, DataValidationError, IdentifierWarning

__all__ = ["Encoded", "KeyColumn", "encode", "key_columns"]

# Integer columns whose value range is at most this many times the row count (or at most
# 2**20) are densified with a lookup table instead of a hash table.
_DENSE_RANGE_FACTOR = 4
_DENSE_RANGE_MIN = 1 << 20


@dataclass(frozen=True)
class Encoded:
    """Integer codes for some columns of a frame, made by :func:`encode`.

    Attributes
    ----------
    index : pandas.Index
        The index of the encoded frame (results are indexed like it).
    names : tuple
        Encoded column names, in order.
    codes : dict name -> numpy.ndarray of int32
        ``-1`` for a missing value, else ``0 .. n_levels[name] - 1``.
    n_levels : dict name -> int
        Number of distinct observed (non-missing) values.
    levels : dict name -> numpy.ndarray or pandas.Index
        The observed value behind each code. For internal use only (for example
        per-value contributions); reports must never print record-level values.
    """

    index: pd.Index
    names: tuple
    codes: dict = field(repr=False)
    n_levels: dict
    levels: dict = field(repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.index)

    def n_missing(self, name) -> int:
        return int((self.codes[name] < 0).sum())

    def subset(self, names) -> "Encoded":
        missing = [str(c) for c in names if c not in self.codes]
        if missing:
            raise DataValidationError(f"columns were not encoded: {', '.join(missing)}")
        return Encoded(self.index, tuple(names), {c: self.codes[c] for c in names},
                       {c: self.n_levels[c] for c in names}, {c: self.levels[c] for c in names})

    def codes_for(self, names, missing: str = "category"):
        """Stack codes of ``names`` into a ``(len(names), n_rows)`` int32 matrix for a kernel.

        Returns ``(matrix, cards)`` where ``cards[j]`` is the number of distinct codes
        column ``j`` can take in the matrix.

        * ``"category"``: a missing value is one more value (code ``n_levels``), equal to
          itself and different from every observed value.
        * ``"wildcard"`` and ``"never"``: missing stays ``-1``; the kernel decides.
        """
        check_missing(missing)
        names = list(names)
        n = self.n_rows
        mat = np.empty((len(names), n), dtype=np.int32)
        cards = np.empty(len(names), dtype=np.int64)
        for j, c in enumerate(names):
            col = self.codes[c]
            nl = self.n_levels[c]
            if missing == "category":
                miss = col < 0
                if miss.any():
                    np.copyto(mat[j], col)
                    mat[j][miss] = nl
                    cards[j] = nl + 1
                else:
                    mat[j] = col
                    cards[j] = max(nl, 1)
            else:
                mat[j] = col
                cards[j] = max(nl, 1)
        return mat, cards


def _describe_kinds(series: pd.Series) -> str:
    kinds = series.dropna().map(lambda v: type(v).__name__).value_counts()
    return ", ".join(f"{k} ({v})" for k, v in kinds.items())


def _kernel_array(a: np.ndarray, dtype) -> np.ndarray:
    """``a`` as a read-only C-contiguous array of ``dtype``: one compiled kernel version for
    every integer width, and for pandas 3's read-only and writable arrays alike."""
    v = np.ascontiguousarray(a, dtype=dtype).view()
    v.flags.writeable = False
    return v


def _encode_series(s: pd.Series, name, dt=np.int32) -> tuple[np.ndarray, int, object]:
    dtype = s.dtype
    n = len(s)
    empty_mask = np.zeros(0, dtype=np.bool_)
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(s.cat.codes, dtype=np.int32)
        cats = s.cat.categories
        if len(cats) and (codes >= 0).any():
            used = np.bincount(codes[codes >= 0], minlength=len(cats)) > 0
            if not used.all():  # drop unused categories so n_levels counts observed values
                remap = np.full(len(cats), -1, dtype=np.int32)
                remap[used] = np.arange(int(used.sum()), dtype=np.int32)
                codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int32)
                cats = cats[used]
        elif not (codes >= 0).any():
            cats = cats[:0]
        return codes, len(cats), cats
    if pd.api.types.is_bool_dtype(dtype):
        mask = s.isna().to_numpy()
        values = s.to_numpy(dtype=np.int64, na_value=0)
        codes, nl, present = int_dense_codes(_kernel_array(values, np.int64),
                                              _kernel_array(mask if mask.any() else empty_mask, np.bool_),
                                              np.int64(0), np.int64(2), new_codes(n, dt))
        return codes, int(nl), present.astype(bool)
    if pd.api.types.is_integer_dtype(dtype):
        mask = s.isna().to_numpy() if isinstance(dtype, pd.api.extensions.ExtensionDtype) else empty_mask
        if mask.shape[0] and not mask.any():
            mask = empty_mask
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):
            values = s.to_numpy(dtype=np.int64, na_value=0)
        else:
            values = s.to_numpy()
            if values.dtype == np.uint64 and values.size and values.max() > np.iinfo(np.int64).max:
                codes, uniques = pd.factorize(s, sort=True)
                return codes.astype(np.int32), len(uniques), uniques
        dtype_out = values.dtype
        values, mask = _kernel_array(values, np.int64), _kernel_array(mask, np.bool_)
        lo, hi, seen = int_min_max(values, mask)
        if not seen:
            return np.full(n, -1, dtype=np.int32), 0, np.array([], dtype=np.int64)
        span = int(hi) - int(lo) + 1
        if span <= max(_DENSE_RANGE_FACTOR * n, _DENSE_RANGE_MIN):
            codes, nl, levels = int_dense_codes(values, mask, np.int64(lo), np.int64(span), new_codes(n, dt))
            return codes, int(nl), levels.astype(dtype_out, copy=False)
    arrow = _arrow_strings(s, dt)
    if arrow is not None:
        return arrow
    # everything else: hash-based factorisation by pandas
    if pd.api.types.is_object_dtype(dtype):
        try:
            codes, uniques = _factorize_objects(s, dt)
        except TypeError:  # unhashable cells (lists, dicts, sets)
            raise DataValidationError(f"column {name!r} holds values that are not single values "
                                      f"({_describe_kinds(s)}); a key column needs one value per cell") from None
        # The kinds of values in a column are those of its distinct values, except that
        # hash-equal values of different kinds (True, 1, 1.0) share one entry: check the
        # whole column when the distinct values are not all strings (rare, and cheap then).
        inferred = pd.api.types.infer_dtype(uniques, skipna=True)
        if inferred not in ("string", "empty"):
            inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred.startswith("mixed") or inferred in ("complex",):
            raise DataValidationError(
                f"column {name!r} mixes kinds of values ({_describe_kinds(s)}); convert it to one "
                "type first (for example .astype(str) or pd.to_numeric) so that equal-looking "
                "values are compared as equal"
            )
        return codes.astype(np.int32 if codes.dtype != dt else dt, copy=False), len(uniques), uniques
    if pd.api.types.is_float_dtype(dtype) and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        vals = s.to_numpy()
        n_inf = int(np.isinf(vals).sum())
        if n_inf:
            raise DataValidationError(f"column {name!r} has {n_inf} infinite value(s)")
    if not _FACTORIZE_KEEPS_NUL and pd.api.types.is_string_dtype(dtype) and \
            _nul_strings(as_objects := s.to_numpy(dtype=object, na_value=None)) is not None:
        codes, uniques = _factorize(as_objects)
    else:
        codes, uniques = pd.factorize(s, sort=False, use_na_sentinel=True)
    return codes.astype(np.int32, copy=False), len(uniques), uniques


PANDAS_MAJOR = int(pd.__version__.split(".", 1)[0])
#: pandas 3 hashes and compares strings whole; pandas 2 as UTF-8 C strings, up to the first NUL
#: byte, and every string holding an unpaired surrogate (which UTF-8 cannot encode) as one value
_FACTORIZE_KEEPS_NUL = PANDAS_MAJOR >= 3


def _not_utf8(v: str) -> bool:
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _nul_strings(values: np.ndarray) -> np.ndarray | None:
    """Mask of the strings of an object array that pandas 2 cannot hash whole: holding a NUL
    byte or an unpaired surrogate (None: there is none)."""
    nul = np.fromiter((isinstance(v, str) and ("\0" in v or (not v.isascii() and _not_utf8(v))) for v in values),
                      dtype=bool, count=len(values))
    return nul if nul.any() else None


def _factorize(values):
    """``pd.factorize(values, sort=False)`` keeping strings that differ only after a NUL byte
    apart (``"a\\0b"`` and ``"a\\0c"``), and strings holding an unpaired surrogate apart: with
    pandas 2 each such string is factorised as a tuple (never equal to a string, compared
    whole) and given back as the string."""
    nul = None if _FACTORIZE_KEEPS_NUL else _nul_strings(values := np.asarray(values, dtype=object))
    if nul is None:
        return pd.factorize(values, sort=False, use_na_sentinel=True)
    wrapped = values.copy()
    for i in np.flatnonzero(nul):
        wrapped[i] = ("\0", values[i])
    codes, uniques = pd.factorize(wrapped, sort=False, use_na_sentinel=True)
    return codes, pd.Index([u[1] if isinstance(u, tuple) else u for u in uniques], dtype=object)


def _factorize_objects(s: pd.Series, dt=np.int32):
    """``pd.factorize(s, sort=False)`` for an object column, faster when values repeat as
    the same Python objects (as read_csv, pyarrow and categorical decoding produce them).

    Rows are first grouped by object identity (the address of the object: the same
    object is the same value) in a numba hash table; pandas then factorises one
    representative per address, which merges equal values held by different objects and
    recognises missing values. The codes are therefore exactly pandas' codes (same
    first-appearance order). Beyond ``min(n / 8, 65536)`` distinct objects (every cell its
    own object, as ``.astype(str)`` makes them) pandas factorises the column directly."""
    values = s.to_numpy()
    n = len(values)
    if n < 1024 or values.dtype != object or ctypes.sizeof(ctypes.c_void_p) != 8:
        return _factorize(values)
    values = np.ascontiguousarray(values)
    # the array's buffer holds PyObject pointers; read them as integers (never dereferenced)
    ptrs = np.ctypeslib.as_array((ctypes.c_uint64 * n).from_address(values.ctypes.data))
    cap = max(1024, min(n // 8, 1 << 16))
    by_object, first = pointer_codes(ptrs, min(cap, np.iinfo(dt).max), new_codes(n, dt))
    if first.size == 0 and cap > np.iinfo(dt).max:  # more objects than int16 codes hold
        by_object, first = pointer_codes(ptrs, cap, new_codes(n))
    del ptrs
    if first.size == 0:
        return _factorize(values)
    rep_codes, uniques = _factorize(values[first])
    if not np.array_equal(rep_codes, np.arange(first.size)):  # else the ids are the codes already
        remap_codes(by_object, _kernel_array(rep_codes, np.int32))
    return by_object, uniques


def _arrow_string_array(s: pd.Series):
    """The one pyarrow string array behind a pyarrow-backed string column, else None."""
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype):
        if dtype.storage != "pyarrow":
            return None
    elif not isinstance(dtype, pd.ArrowDtype):
        return None
    import pyarrow as pa  # noqa: PLC0415  (only reached for pyarrow-backed columns)

    arr = s.array.__arrow_array__()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    if pa.types.is_string_view(arr.type):
        arr = arr.cast(pa.large_string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return arr


def _arrow_strings(s: pd.Series, dt=np.int32):
    """``(codes, n_levels, levels)`` of a pyarrow-backed string column (pandas 3's default
    ``str``, ``string[pyarrow]``, ``ArrowDtype(pa.string())``), else None.

    The UTF-8 bytes are numbered in Arrow's own buffers (:func:`utf8_codes`): no Python
    string is made. Codes are ``pandas.factorize``'s (first appearance, -1 missing), and the
    levels the same values as its uniques.
    """
    arr = _arrow_string_array(s)
    if arr is None:
        return None
    bufs = arr.buffers()
    off_dtype = np.int32 if str(arr.type) in ("string", "utf8") else np.int64  # else large_string
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int32), 0, pd.Index(s.array[:0])
    offsets = np.frombuffer(bufs[1], dtype=off_dtype)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None and bufs[2].size else \
        np.zeros(0, dtype=np.uint8)
    valid = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else np.zeros(0, dtype=np.bool_)
    codes, first, ok = string_codes(_kernel_array(offsets, off_dtype), data, _kernel_array(valid, np.bool_),
                                    new_codes(len(arr), dt))
    if not ok:  # a string longer than UTF8_MAX_BYTES: pandas' own factorisation
        return None
    return codes, int(first.size), pd.Index(s.array.take(first))


def encode(data, columns, *, warn_identifiers: bool = True) -> Encoded:
    """Encode ``columns`` of ``data`` into dense integer codes, once, for every metric.

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow.Table / polars.DataFrame)
        Not modified.
    columns : sequence of column names
    warn_identifiers : bool, default True
        Warn (:class:`~idrisk.exceptions.IdentifierWarning`) when a column takes a
        different value in nearly every row: it is then a direct identifier rather than
        a quasi-identifier. An all-missing column is warned about
        (:class:`~idrisk.exceptions.DataQualityWarning`).

    Returns
    -------
    Encoded
    """
    if isinstance(data, Encoded):
        return data.subset(list(columns))
    check_param("encode", "warn_identifiers", warn_identifiers, Param("bool"))
    frame = as_frame(data)
    cols = check_columns(frame, columns, role="column")
    codes, n_levels, levels = {}, {}, {}
    n = len(frame)
    for c, (code, nl, lev) in zip(cols, _encode_many(frame, cols)):
        _column_warnings(c, nl, n, warn_identifiers, stacklevel=3)
        codes[c], n_levels[c], levels[c] = code, nl, lev
    return Encoded(frame.index, tuple(cols), codes, n_levels, levels)


#: Columns are encoded on several threads from this many rows on (their kernels release the GIL)
_THREADED_ROWS = 1 << 17


def _narrow(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Codes (-1 .. n_levels-1) in the narrowest of int8, int16 and int32 that holds them."""
    dt = np.int8 if n_levels <= 127 else np.int16 if n_levels <= 32767 else None
    return codes if dt is None else codes.astype(dt, copy=False)


def _encode_many(frame: pd.DataFrame, cols, narrow: bool = False) -> list:
    """``_encode_series`` of each of ``cols``, on threads when there are several and they are
    long (each column's result is its own). ``narrow``: codes written as int16 (int32 again
    when a column has more values) and narrowed (:func:`_narrow`) as each column is done: a
    grouping key reads any integer type (three string columns at 10M rows: 120 MB of int32
    codes written and first touched, 60 MB as int16, 30 MB held narrowed)."""
    cols = list(cols)
    if not cols:  # nothing to encode: not even the thread dispatch (0.05 ms with cold caches)
        return []
    series = [frame[c] for c in cols]  # taken here: the threads only read them
    out = [None] * len(cols)

    def one(j):  # narrowed: int16 codes first (half the bytes), int32 when they do not hold them
        code, nl, lev = _encode_series(series[j], cols[j], np.int16 if narrow else np.int32)
        if code.dtype == np.int16 and nl > np.iinfo(np.int16).max:
            code, nl, lev = _encode_series(series[j], cols[j])
        out[j] = (_narrow(code, nl) if narrow else code, nl, lev)

    _each_column(one, [int(getattr(s.array, "nbytes", 0) or 0) for s in series], len(frame))
    return out


def _each_column(one, nbytes, n_rows: int) -> None:
    """``one(j)`` for every column ``j``: on threads from ``_THREADED_ROWS`` rows on, the
    biggest (``nbytes``) first, so no thread is left with a big one at the end (each column's
    result is its own, so it does not depend on the threads)."""
    if n_rows >= _THREADED_ROWS:
        order = sorted(range(len(nbytes)), key=lambda j: -nbytes[j])
        run_chunks(lambda k: one(order[k]), len(order))
    else:
        for j in range(len(nbytes)):
            one(j)


def _column_warnings(name, n_levels: int, n_rows: int, warn_identifiers: bool, stacklevel: int = 3):
    """All-missing column (DataQualityWarning) and likely direct identifier (IdentifierWarning)."""
    if n_levels == 0:
        warnings.warn(
            f"column {name!r} has no observed values (every value is missing): it cannot tell "
            "records apart (a wildcard on every record under missing='wildcard')",
            DataQualityWarning,
            stacklevel=stacklevel,
        )
    if warn_identifiers and n_rows >= IDENTIFIER_MIN_ROWS and n_levels >= IDENTIFIER_DISTINCT_SHARE * n_rows:
        warnings.warn(
            f"column {name!r} takes {n_levels} distinct values in {n_rows} rows: it looks like a direct "
            "identifier, not a quasi-identifier; drop it from the extract or coarsen it",
            IdentifierWarning,
            stacklevel=stacklevel,
        )


def _could_be_identifier(span: int, n: int) -> bool:
    return n >= IDENTIFIER_MIN_ROWS and span >= IDENTIFIER_DISTINCT_SHARE * n


class KeyColumn(NamedTuple):
    """One column of a grouping key: ``values - lo`` is in ``0 .. span - 1``.

    Two rows have equal ``values - lo`` iff their values are equal or both missing.
    ``values`` are raw integers, booleans or category codes (``lo`` their minimum), or
    codes of :func:`encode` (``lo = -1``, so a missing value is ``0``). ``has_missing``
    tells whether some row is missing on the column.
    """

    values: np.ndarray
    lo: int
    span: int
    has_missing: bool


def key_columns(frame: pd.DataFrame, columns, *, warn_identifiers: bool = True, guess: bool = False,
                known=None) -> list[KeyColumn]:
    """Columns of ``frame`` as :class:`KeyColumn` for a grouping key: the fused fast path of
    encoding. Numpy integer and boolean columns and categoricals are used as they are (raw
    values or category codes offset by their minimum; a missing category code ``-1`` is one
    more value): no codes written, no hash table. Other columns, and integer columns whose
    range exceeds the lookup-table limit (:func:`idrisk._kernels.groups.default_limit`) or
    could hold an identifier, go through :func:`encode` (``lo = -1``), with its warnings.
    ``guess``: the raw columns' bounds from a sample (:func:`sample_min_max`, at least 2
    wide, ``has_missing`` None) for :func:`idrisk._kernels.groups.fold_checked` to check;
    ``known``: such a result, whose guessed columns are then made exact (the others kept).
    """
    n, columns = len(frame), list(columns)
    limit, raw = default_limit(n), [_raw_values(column_values(frame, c), n) for c in columns]
    out = list(known) if known is not None else [None] * len(columns)
    scan = [j for j, r in enumerate(raw) if r is not None and (out[j] is None or out[j].has_missing is None)]
    bounds = [None] * len(columns)

    def one(k):  # the minimum and maximum of each raw column (or a guess)
        v = raw[scan[k]][1]
        bounds[scan[k]] = sample_min_max(v, _GUESS_RUNS, _GUESS_RUN) if guess else min_max(v)

    _each_column(one, [0 if guess else raw[j][1].nbytes for j in scan], 0 if guess else n)
    for j in scan:
        out[j] = _raw_key_column(raw[j], bounds[j], n, limit, guess)
    todo = [j for j, item in enumerate(out) if item is None]
    for j, (code, nl, _) in zip(todo, _encode_many(frame, [columns[j] for j in todo], narrow=True)):
        _column_warnings(columns[j], nl, n, warn_identifiers, stacklevel=5)
        out[j] = KeyColumn(code, -1, nl + 1, bool(nl == 0 or code.min() < 0))
    return out


_GUESS_RUNS, _GUESS_RUN = 64, 512  #: key_columns(guess=True) samples 64 runs of 512 rows


def _raw_values(values, n: int):
    """``(kind, values)`` of a column (its stored values: :func:`column_values`) whose raw
    values can key a grouping (a categorical's own codes, a boolean column as uint8, a numpy
    integer column), else None: encode it."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if _could_be_identifier(len(dtype.categories), n):
            return None
        return "category", np.asarray(values.codes)  # the Categorical's own codes
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return "bool", np.asarray(values).view(np.uint8)
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and dtype != np.uint64:
        return "int", np.asarray(values)
    return None


def _raw_key_column(raw, bounds, n: int, limit: int, guess: bool = False) -> KeyColumn | None:
    """A column's raw values (:func:`_raw_values`) with their minimum and maximum (or a guess
    at them) as a key column (see :func:`key_columns`), or None: encode it."""
    kind, v = raw
    lo, hi = int(bounds[0]), int(bounds[1])
    if kind == "category" and hi < 0:
        return None  # all missing: encode() warns
    hi += guess and lo == hi  # a guess is at least 2 wide: no column is dropped as constant
    flag = None if guess else bool(kind == "category" and lo < 0)
    if kind != "int" or (hi - lo < limit and not _could_be_identifier(hi - lo + 1, n)):
        return KeyColumn(v, lo, hi - lo + 1, flag)
    return None
