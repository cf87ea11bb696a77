"""Sample and population frequencies of each record's key: ``fk`` and ``Fk``.

``fk`` is the number of records that match record r on the quasi-identifiers (QIs) and
``Fk`` the sum of their sampling weights (the estimated population frequency; ``Fk = fk``
without weights). How a missing value matches is the *missing-value convention*:

``"category"``
    A missing value is one more category: ``NA == NA`` and ``NA != value``. Classes
    partition the data (``groupby(dropna=False)``; sdcMicro's ``ldiversity`` grouping).
``"wildcard"``
    sdcMicro ``freqCalc`` semantics (sdcMicro 5.8.1, verified against its outputs): a
    missing value stands for any category, asymmetrically. With ``c(r, s)`` the
    contribution of record s to record r:

    ==================  ==============  ===========  =====================  ==============
    r \\ s               same key as r   s complete   s some (not all) NA    s all NA
    ==================  ==============  ===========  =====================  ==============
    r complete           1               0            alpha if compatible    0
    r some NA            1               1 if compat.  alpha if compatible    alpha
    r all NA             fk = n, Fk = sum of all weights (alpha ignored)
    ==================  ==============  ===========  =====================  ==============

    "Compatible" means equal on every QI where neither is missing; "same key" means
    identical values and identical missing positions. With a single QI, complete
    records get their own class plus ``alpha`` times the number of missing records.
``"never"``
    A missing value matches nothing, not even another missing value: a record with a
    missing QI is alone in its class (the convention of SUDA's itemsets).

Definitions: ``docs/methods.md#frequencies`` and ``docs/methods.md#missing-values``;
sdcMicro's ``freqCalc`` (Templ, Kowarik & Meindl 2015).
"""

from __future__ import annotations

import sys
import threading
import warnings

import numpy as np
import pandas as pd

from .._config import switched_on
from .._encode import PANDAS_MAJOR, Encoded, encode, key_columns
from .._kernels.groups import (OVER_MIN_ROWS, fold_checked, fold_columns, gather, group_ids_columns, group_sums,
                               key_counts, sizes_buffer, wildcard_cross)
from .._validation import check_fraction, check_missing
from ..exceptions import PerformanceWarning
from ._classes import class_ids, encoded_key_columns, engine_for, resolve

__all__ = ["frequencies", "frequency_arrays"]

#: number of distinct missing-value patterns above which missing="wildcard" warns
_MANY_PATTERNS = 64
#: NA patterns over at most this many columns are int64 bit sets
_BITSET_MAX = 62


def _wildcard_one_key(enc: Encoded, qis, wt, alpha, fk, Fk):
    """One key variable: NA records match everything, complete records get alpha * #NA."""
    n = enc.n_rows
    allna = enc.codes[qis[0]] < 0
    complete = ~allna
    fk[complete] += alpha * int(allna.sum())
    Fk[complete] += alpha * float(wt[allna].sum())
    fk[allna] = n
    Fk[allna] = float(wt.sum())
    return fk, Fk


def _na_patterns(enc: Encoded, qis, na_cols):
    """Every record's missing-value pattern: ``(labels, complete, allna)``.

    Labels are bit sets over the columns with NAs (or, above 62 such columns, ids of a
    grouping with -1 for "no NA"); ``complete`` and ``allna`` are boolean masks.
    """
    n = enc.n_rows
    m = len(qis)
    if len(na_cols) <= _BITSET_MAX:
        bits = np.zeros(n, dtype=np.int64)
        for b, j in enumerate(na_cols):
            bits |= (enc.codes[qis[j]] < 0).astype(np.int64) << b
        complete = bits == 0
        allna = bits == (1 << len(na_cols)) - 1 if len(na_cols) == m else np.zeros(n, dtype=bool)
        return bits, complete, allna
    miss = [((enc.codes[qis[j]] < 0).astype(np.int8), 0, 2) for j in na_cols]
    bits, _ = group_ids_columns(miss, n)
    zero = np.vstack([x[0] for x in miss]).sum(axis=0) == 0
    bits = np.where(zero, -1, bits)  # make "no NA" a fixed label
    if len(na_cols) == m:
        allna = np.vstack([enc.codes[qis[j]] < 0 for j in na_cols]).all(axis=0)
    else:
        allna = np.zeros(n, dtype=bool)
    return bits, bits == -1, allna


def _pattern_pair(enc, both, rows_p, rows_q, wt, alpha, fk, Fk):
    """Some-NA records of pattern p gain alpha per compatible record of pattern q."""
    if not both:
        fk[rows_p] += alpha * len(rows_q)
        Fk[rows_p] += alpha * float(wt[rows_q].sum())
        return
    rows = np.concatenate([rows_p, rows_q])
    sub = [(enc.codes[c][rows], 0, enc.n_levels[c]) for c in both]
    g, sz = group_ids_columns(sub, len(rows))
    npp = len(rows_p)
    cnt_q = np.bincount(g[npp:], minlength=len(sz)).astype(np.float64)
    w_q = np.bincount(g[npp:], weights=wt[rows_q], minlength=len(sz))
    fk[rows_p] += alpha * cnt_q[g[:npp]]
    Fk[rows_p] += alpha * w_q[g[:npp]]


def _wildcard_patterns(enc: Encoded, qis, bits, complete, some_idx, wt, alpha, fk, Fk):
    """Complete and some-NA records matched across the distinct missing-value patterns."""
    n = enc.n_rows
    pat_bits, pat_of = np.unique(bits[some_idx], return_inverse=True)
    pat_of = pat_of.ravel()
    n_pat = len(pat_bits)
    # patterns[p, j]: pattern p is missing on qis[j]
    rep = some_idx[np.unique(pat_of, return_index=True)[1]]
    patterns = np.vstack([enc.codes[c][rep] < 0 for c in qis]).T
    if n_pat > _MANY_PATTERNS:
        warnings.warn(
            f"{n_pat} distinct patterns of missing values among the quasi-identifiers: "
            "missing='wildcard' costs one pass over the data per pattern and one comparison per "
            "pair of patterns; consider missing='category' if the missing values are observable",
            PerformanceWarning,
            stacklevel=5,
        )
    kind = np.full(n, -2, dtype=np.int32)  # -2: all NA, -1: complete, p: pattern p
    kind[complete] = -1
    kind[some_idx] = pat_of
    order = np.argsort(pat_of, kind="stable")
    bounds = np.searchsorted(pat_of[order], np.arange(n_pat + 1))
    members = [some_idx[order[bounds[p]:bounds[p + 1]]] for p in range(n_pat)]
    has_complete = bool(complete.any())
    for p in range(n_pat):
        pat = patterns[p]
        # complete records vs pattern-p records, on the variables p observes
        if has_complete:
            obs = [qis[j] for j in np.flatnonzero(~pat)]
            key_p, space_p = fold_columns(encoded_key_columns(enc, obs), n)
            wildcard_cross(key_p, np.int64(space_p), kind, np.int32(p), wt, float(alpha), fk, Fk)
        # some-NA r vs some-NA s of another pattern q: alpha if compatible
        for q in range(n_pat):
            if q != p:
                both = [qis[j] for j in np.flatnonzero(~pat & ~patterns[q])]
                _pattern_pair(enc, both, members[p], members[q], wt, alpha, fk, Fk)


def _wildcard(enc: Encoded, qis, w: np.ndarray | None, alpha: float):
    """fk and Fk (float64) under sdcMicro freqCalc's asymmetric wildcard rule (module docstring).

    Cost: one grouping of all records, plus for every distinct missing-value pattern p
    one pass over the records on the variables p observes (numba), plus one small
    grouping per pair of patterns over the records with those two patterns only.
    """
    n = enc.n_rows
    wt = np.ones(n) if w is None else w
    # same key (identical values and NA positions) counts 1 for everyone
    key, space = fold_columns(encoded_key_columns(enc, qis), n)
    fk_i, Fk = key_counts(key, space, wt)
    fk = fk_i.astype(np.float64)
    if len(qis) == 1:
        return _wildcard_one_key(enc, qis, wt, alpha, fk, Fk)
    na_cols = [j for j, c in enumerate(qis) if enc.n_levels[c] == 0 or enc.codes[c].min() < 0]
    bits, complete, allna = _na_patterns(enc, qis, na_cols)
    some_idx = np.flatnonzero(~complete & ~allna)
    if some_idx.size:
        _wildcard_patterns(enc, qis, bits, complete, some_idx, wt, alpha, fk, Fk)
        n_all = int(allna.sum())
        if n_all:  # some-NA r gets alpha per all-NA record
            fk[some_idx] += alpha * n_all
            Fk[some_idx] += alpha * float(wt[allna].sum())
    fk[allna] = n
    Fk[allna] = float(wt.sum())
    return fk, Fk


_FK_FK = pd.Index(["fk", "Fk"])  #: the columns of frequencies' result (copied into each)

#: ``IDRISK_REUSE_RESULTS=0`` turns off the reuse of result blocks (:class:`_ResultBlocks`)
_REUSE_ENV = "IDRISK_REUSE_RESULTS"


class _ResultBlocks:
    """The block of frequencies' last result from ``OVER_MIN_ROWS`` rows on, kept for reuse.

    A block this large (64 MB and more) is mapped afresh by the allocator on every call and
    handed back to the system when freed, so every call first-touched it: the kernel zeroes
    every page, and in a virtual machine that gives freed memory back to its host (free page
    reporting) the host must fault it in again. At 10M rows that was a quarter of the call at
    best and half of it at the median. So the last block is kept, and a later call of the same
    shape takes it again, but only once nothing else holds it: the result and every view of it
    (a Series, a NumPy view, a buffer export) hold a reference to the block, so its reference
    count is then this cache's alone. A held block is never touched; the cache then lets go of
    it and keeps the new one. So at most one block is kept beyond what the caller holds, and it
    is freed as soon as a call of another shape comes. Off with ``IDRISK_REUSE_RESULTS=0`` in
    the environment, and without the GIL (free-threaded Python), where reference counts are not
    read this way."""

    def __init__(self):
        self._lock = threading.Lock()
        self._block = None
        self._probe = np.empty(0)  # held by this cache alone: what a free block's count reads

    @staticmethod
    def enabled() -> bool:
        gil = getattr(sys, "_is_gil_enabled", None)
        return (gil is None or gil()) and switched_on(_REUSE_ENV)

    def take(self, n: int, copies: int):
        """``sizes_buffer(n, copies)``, in the kept block when it is free and of this shape."""
        shape = (max(int(copies), 1), int(n))
        on = self.enabled()
        with self._lock:
            # a free block is referenced as the probe is: by this cache alone (read the same
            # way, so an interpreter that counts a loaded attribute differently reads both alike)
            if (on and self._block is not None and self._block.shape == shape
                    and sys.getrefcount(self._block) == sys.getrefcount(self._probe)):
                return sizes_buffer(n, copies, out=self._block)
            self._block = None  # of another shape or still held (then its holder keeps it)
            out, key = sizes_buffer(n, copies)
            if on:
                self._block = out
            return out, key


_RESULT_BLOCKS = _ResultBlocks()


def _copy_on_write() -> bool:
    """pandas copies on write (pandas 3, or pandas 2 with ``mode.copy_on_write`` on): then two
    columns may share one array, and a write to either copies it first."""
    return PANDAS_MAJOR >= 3 or pd.options.mode.copy_on_write is True


def _fk_dtype(missing: str, alpha: float):
    """fk is fractional only under the wildcard rule with alpha < 1 (decided by the
    parameters, never by the data)."""
    return np.float64 if (missing == "wildcard" and alpha != 1.0) else np.int64


def _finish(fk, Fk, weights, missing, alpha):
    dt = _fk_dtype(missing, alpha)
    fk = np.asarray(fk).astype(dt, copy=False)
    if weights is None:
        Fk = fk
    return fk, np.asarray(Fk, dtype=np.float64) if weights is not None else Fk


def frequency_arrays(data: Encoded, quasi_identifiers, *, weights: np.ndarray | None = None,
                     missing: str = "category", alpha: float = 1.0):
    """``(fk, Fk)`` as NumPy arrays for already encoded data (no validation of the columns).

    ``data`` is an :class:`~idrisk.Encoded` holding ``quasi_identifiers``; ``weights`` an
    array of one weight per row. ``fk`` is float64 when ``missing="wildcard"`` and
    ``alpha < 1``, else int64 (whatever the data). ``Fk`` is float64 when weights are
    given, else a copy of ``fk``. See :func:`frequencies` for the definitions.
    """
    check_missing(missing)
    fk, Fk = _frequency_arrays(data, quasi_identifiers, weights, missing, alpha)
    return fk, (Fk.copy() if Fk is fk else Fk)


def _frequency_arrays(enc: Encoded, qis, weights, missing: str, alpha: float):
    """frequency_arrays without the copy: without weights ``Fk is fk``."""
    qis = list(qis)
    n = enc.n_rows
    has_na = any(enc.n_levels[c] == 0 or enc.codes[c].min() < 0 for c in qis) if n else False
    if missing == "wildcard" and has_na:
        fk, Fk = _wildcard(enc, qis, weights, alpha)
        return _finish(fk, Fk, weights, missing, alpha)
    if missing == "never" and has_na:
        gid, sizes = class_ids(enc, qis, "never")
        fk = gather(sizes, gid)
        Fk = None if weights is None else gather(group_sums(gid, len(sizes), weights), gid)
        return _finish(fk, Fk, weights, missing, alpha)
    key, space = fold_columns(encoded_key_columns(enc, qis), n)
    fk, Fk = key_counts(key, space, weights)
    return _finish(fk, Fk, weights, missing, alpha)


def _frame_arrays(frame: pd.DataFrame, qis, w, missing: str, alpha: float):
    """fk, Fk straight from the frame: fused encoding + grouping when it is exact."""
    n = len(frame)
    if missing != "category" and not all(
            isinstance(frame[c].dtype, np.dtype) and frame[c].dtype.kind in "iub" for c in qis):
        # a column may hold missing values: encode once and apply the convention
        return _frequency_arrays(encode(frame, qis), qis, w, missing, alpha)
    # missing="category", or numpy integer/boolean columns (never missing): one partition
    if w is None and _fk_dtype(missing, alpha) is np.int64:
        # fk and Fk rows in one pass; one row when the frame may share it (copy-on-write);
        # from OVER_MIN_ROWS rows the key is folded into the sizes' block, written over it
        copies = 1 if _copy_on_write() else 2
        out, key = _RESULT_BLOCKS.take(n, copies) if n >= OVER_MIN_ROWS else (None, None)
        key, space, counts = _fold_guessed(frame, qis, n, key)
        block, _ = key_counts(key, space, None, copies=copies, counts=counts, out=out)
        return block, block
    key, space, counts = fold_columns(key_columns(frame, qis), n, count=True)
    fk, Fk = key_counts(key, space, w)
    return _finish(fk, Fk, w, missing, alpha)


def _fold_guessed(frame: pd.DataFrame, qis, n: int, key=None):
    """``fold_columns(key_columns(frame, qis), n, count=True, key=key)`` in one pass over the
    raw columns where it can: their bounds guessed from a sample, checked during the fold
    (:func:`~idrisk._kernels.groups.fold_checked`); when a value falls outside a guess (a
    rare value the sample missed: the pass is lost, about a third of the call), the exact
    bounds are taken and the key folded again, the encoded columns kept."""
    guessed = key_columns(frame, qis, guess=True)
    done = fold_checked(guessed, n, key=key)
    if done is not None:
        return done
    return fold_columns(key_columns(frame, qis, known=guessed), n, count=True, key=key)


def frequencies(data, quasi_identifiers, *, weights=None, missing: str = "category",
                alpha: float = 1.0) -> pd.DataFrame:
    """Sample frequency ``fk`` and weighted frequency ``Fk`` of every record's key.

    ``fk_r = sum_s c(r, s)`` and ``Fk_r = sum_s c(r, s) * w_s``, where ``c(r, s)`` is how
    much record s counts towards record r under the missing-value convention (module
    docstring). Without missing values ``fk_r`` is the size of r's equivalence class and
    ``Fk_r`` the sum of its weights (the estimated population frequency).

    With ``missing="wildcard"`` this is sdcMicro ``freqCalc(x, keyVars, w, alpha)``
    (sdcMicro 5.8.1), reproduced on every freqCalc reference file (counts exactly, Fk
    to 1e-9 relative; tests/test_frequencies_peer.py), including records with all keys
    missing and the one-key special case. Differences on purpose: sdcMicro converts key
    columns with ``as.numeric``, so a *character* key column becomes all-missing and
    every record gets ``fk = n`` (and factors are compared by their integer codes);
    idrisk compares strings, categories, dates etc. as values. ``"category"`` is
    sdcMicro's ``ldiversity`` / ``groupby(dropna=False)`` grouping; ``"never"`` is the
    convention of SUDA's itemsets.

    Parameters
    ----------
    data : pandas.DataFrame, pyarrow/polars table, or :class:`idrisk.Encoded`
        One row per record. Not modified. Numpy integer and boolean columns and
        categoricals are grouped on their raw values / category codes (no hashing);
        other columns (strings, floats, nullable types, datetimes) are factorised first.
        Object columns mixing kinds of values (``1`` and ``"1"``) are refused.
    quasi_identifiers : sequence of str
        The key: columns an intruder could know. A column with a different value in
        nearly every row is warned about (:class:`~idrisk.exceptions.IdentifierWarning`),
        an all-missing one too (:class:`~idrisk.exceptions.DataQualityWarning`).
    weights : str or array-like, optional
        Sampling weights (column name or one value per row; an array when ``data`` is
        already encoded): ``Fk`` is their sum over the matching records. Must be numeric,
        finite and non-negative; weights below 1 are warned about.
    missing : {"category", "wildcard", "never"}, default "category"
        How a missing value matches (module docstring).
    alpha : float in [0, 1], default 1
        sdcMicro's down-weighting of matches that involve another record's missing
        values (``"wildcard"`` only; ignored otherwise).

    Returns
    -------
    pandas.DataFrame indexed like ``data`` with columns ``fk`` and ``Fk``.
        ``fk`` is int64, or float64 when ``missing="wildcard"`` and ``alpha < 1``
        (fractional counts); ``Fk`` is float64 with weights, else equal to ``fk``.
        The dtypes depend on the parameters only, never on the data.

    Raises
    ------
    DataValidationError
        Unknown columns (all reported at once), an empty frame, duplicate column names,
        mixed-type or infinite key values, bad weights.
    InvalidParameterError
        No quasi-identifiers, a name given twice, unknown ``missing``, ``alpha`` outside
        [0, 1].

    Notes
    -----
    Cost O(n m) for ``"category"``/``"never"`` (numba; see ``idrisk._kernels.groups``);
    ``"wildcard"`` adds one pass per distinct pattern of missing values and one small
    grouping per pair of patterns (a PerformanceWarning is given above 64 patterns).
    From 8M rows on, the block of the last result is kept and written again by a later call
    of the same size once nothing holds it any more (never while the result or a view of it
    is alive); ``IDRISK_REUSE_RESULTS=0`` turns this off.

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"sex": ["F", "F", "M"], "yob": [2012, 2012, 2013]})
    >>> idrisk.frequencies(df, ["sex", "yob"])["fk"].tolist()
    [2, 2, 1]
    """
    if (engine := engine_for(data, "frequencies")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, weights=weights, missing=missing, alpha=alpha)
    check_missing(missing)
    alpha = check_fraction(alpha, name="alpha")
    inp = resolve(data, quasi_identifiers, weights=weights)
    qis, w = inp.quasi_identifiers, inp.weights
    if inp.frame is None:
        fk, Fk = _frequency_arrays(inp.encoded, qis, w, missing, alpha)
    else:
        fk, Fk = _frame_arrays(inp.frame, qis, w, missing, alpha)
    index = inp.index
    if Fk is fk and fk.ndim == 1 and _copy_on_write():
        # no weights: Fk = fk. Under copy-on-write both columns can hold the one array (a
        # Series, so pandas tracks the reference and copies on a write to either column):
        # n fewer int64 written and held (80 MB at 10M rows)
        # (built with integer keys, then named: the names' Index is made once, not per call,
        # and copied so a result's ``columns.name`` is its own; 0.25 ms less at 1M rows
        # when the caches are cold after the kernels. The index is given as well: the Series
        # hold that very object, so pandas neither unions their indexes nor reindexes them,
        # duplicate labels included; 0.44 -> 0.34 ms cold, /tmp/exp/frame5.py)
        one = pd.Series(fk, index=index, copy=False)
        out = pd.DataFrame({0: one, 1: one}, index=index, copy=False)
        out.columns = _FK_FK.copy()
        return out
    if Fk is fk:  # no weights: one (2, n) block holds fk and Fk = fk
        if fk.ndim == 2:
            both = fk
        else:
            both = np.empty((2, len(fk)), dtype=fk.dtype)
            both[0] = fk
            both[1] = fk
        return pd.DataFrame(both.T, index=index, columns=["fk", "Fk"], copy=False)
    return pd.DataFrame({"fk": fk, "Fk": Fk}, index=index, copy=False)
