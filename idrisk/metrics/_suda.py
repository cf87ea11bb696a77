"""Special uniques: SUDA scores, DIS-SUDA scores and variable contributions (sdcMicro ``suda2``).

A *minimal sample unique* (MSU) of a record is a set ``S`` of its quasi-identifier values
that no other record shares, while every proper subset of ``S`` is shared by some other
record. A record with a small MSU (say two variables) is a *special unique*: far more
exposed than one that is unique only on the full key. The MSUs are found with the SUDA2
search (Manning, Haglin & Keane 2008) in :mod:`idrisk._kernels.suda2`. See
``docs/methods.md#suda`` and ``docs/methods.md#dis-suda``.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd
from tqdm import tqdm

from .._kernels import suda2 as _k
from .._kernels.groups import group_ids_columns
from .._kernels.threads import run_chunks
from .._results import RECORD_LEVEL, Result
from .._validation import check_fraction, check_max_seconds, check_positive_int
from ..exceptions import InvalidParameterError, PerformanceWarning, ResourceLimitError
from ._classes import engine_for, resolve
from ._population import skinner_elliot

__all__ = ["suda", "SudaResult", "msu_weights"]

#: Without ``max_size`` the search is refused above this many quasi-identifiers.
MAX_UNCAPPED_QIS = 20
#: A PerformanceWarning is issued when the number of QI subsets searched exceeds this.
WARN_COMBINATIONS = 10_000
#: The search is refused above this many QI subsets: the most an uncapped search may visit
#: (every subset of MAX_UNCAPPED_QIS variables), whatever max_size allows.
MAX_COMBINATIONS = 2 ** MAX_UNCAPPED_QIS - 1

_SCORES = ("sdcmicro", "ihsn")


def msu_weights(n_qis: int, score: str = "sdcmicro") -> np.ndarray:
    """Weight of an MSU of each size ``k = 1..n_qis`` (index ``k``; index 0 unused).

    With ``M = max(n_qis, 3)``:

    * ``"sdcmicro"`` (sdcMicro ``suda2(original_scores=TRUE)``, Elliot et al. 2002):
      ``w(k) = (M - k)!``, e.g. 6, 2, 1, 1 for ``M = 4``.
    * ``"ihsn"`` (sdcMicro ``original_scores=FALSE``, the old IHSN program):
      ``w(k) = (2^(M-k) - 1) * k! * (M - k)! / M!``, so ``w(M) = 0``.

    ``M`` is at least 3 because sdcMicro pads a key of one or two variables with constant
    dummy columns (which can never be part of an MSU) and so weighs with ``M = 3``; we
    mirror that (it keeps a 1-MSU weighing more than a 2-MSU).
    """
    if score not in _SCORES:
        raise InvalidParameterError(f"score must be one of {', '.join(map(repr, _SCORES))}, got {score!r}")
    big_m = max(int(n_qis), 3)
    wt = np.zeros(n_qis + 1, dtype=np.float64)
    for k in range(1, n_qis + 1):
        if score == "sdcmicro":
            wt[k] = float(math.factorial(big_m - k))
        else:
            num = (2 ** (big_m - k) - 1) * math.factorial(k) * math.factorial(big_m - k)
            wt[k] = num / math.factorial(big_m)
    return wt


_DIS_BANDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def _deprecated(old: str, new: str):
    warnings.warn(f"{old} is deprecated and will be removed in the next release; use {new}",
                  DeprecationWarning, stacklevel=3)


@dataclass(frozen=True)
class SudaResult(Result):
    """Result of :func:`suda`.

    Attributes
    ----------
    quasi_identifiers : tuple
    max_size : int
        The largest MSU size searched (deprecated name: ``max_msu_size``).
    sampling_fraction : float
        The sampling fraction used by DIS-SUDA (deprecated name: ``dis_fraction``).
    score_variant : {"sdcmicro", "ihsn"}
    scores : pandas.DataFrame, indexed like the data
        ``score`` (SUDA score), ``dis_score`` (DIS-SUDA score), ``{qi}_contribution``
        (share 0..1 of the record's score coming from MSUs that contain ``qi``; 0 when the
        score is 0), ``msu_size_{k}`` (number of the record's MSUs of size ``k``) and
        ``min_msu_size`` (size of its smallest MSU; ``<NA>`` when it has none). Record
        level: not part of :meth:`to_dict`.
    attribute_contributions : pandas.Series, QI -> percent
        ``100 * sum_i c_iv * score_i / sum_i score_i`` (can sum to more than 100).
    attribute_level_contributions : pandas.DataFrame
        Columns ``variable``, ``value``, ``contribution``: for each observed value ``a`` of
        ``v`` (sorted), ``100 * sum_{i: x_iv = a} c_iv score_i / sum_i c_iv score_i``;
        NaN when ``v`` contributes nothing (0/0, as in sdcMicro).
    n_records, n_sample_uniques, n_in_pairs : int
        Records, records unique on the full key, records in full-key classes of size 2.
    dis : float
        The file-level DIS: the Skinner-Elliot probability that a unique match is correct
        (:func:`idrisk.unique_match_probability`; NaN without uniques or pairs).
    msu_counts : dict
        MSU size -> number of MSUs of that size over all records.
    """

    quasi_identifiers: tuple
    max_size: int
    sampling_fraction: float
    score_variant: str
    scores: pd.DataFrame = field(repr=False, compare=False, metadata=RECORD_LEVEL)
    attribute_contributions: pd.Series = field(repr=False, compare=False)
    attribute_level_contributions: pd.DataFrame = field(repr=False, compare=False)
    n_records: int = 0
    n_sample_uniques: int = 0
    n_in_pairs: int = 0
    dis: float = float("nan")
    msu_counts: dict = field(default_factory=dict)

    @property
    def max_msu_size(self) -> int:
        """Deprecated name of :attr:`max_size`."""
        _deprecated("SudaResult.max_msu_size", "max_size")
        return self.max_size

    @property
    def dis_fraction(self) -> float:
        """Deprecated name of :attr:`sampling_fraction`."""
        _deprecated("SudaResult.dis_fraction", "sampling_fraction")
        return self.sampling_fraction

    @property
    def special_uniques(self) -> pd.Series:
        """Records whose smallest MSU has at most 2 variables (the idrisk default level)."""
        return (self.scores["min_msu_size"] <= 2).fillna(False).astype(bool)

    def _extra_dict(self) -> dict:
        """Aggregates of the record-level scores (never record-level values)."""
        sc = self.scores
        mins = sc["min_msu_size"].dropna().astype(int)
        dis = sc["dis_score"].to_numpy()
        hist = {"== 0": int((dis == 0).sum())}
        for lo, hi in zip(_DIS_BANDS, _DIS_BANDS[1:]):
            hist[f"({lo:.1f}, {hi:.1f}]"] = int(((dis > lo) & (dis <= hi)).sum())
        hist["> 0.7"] = int((dis > 0.7).sum())
        return {
            "n_with_msu": int(len(mins)),
            "n_score_positive": int((sc["score"] > 0).sum()),
            "n_special_uniques": int((mins <= 2).sum()),
            "records_by_min_msu_size": mins.value_counts().sort_index(),
            "score_sum": float(sc["score"].sum()),
            "score_max": float(sc["score"].max()),
            "dis_score_sum": float(sc["dis_score"].sum()),
            "dis_score_max": float(sc["dis_score"].max()),
            "dis_score_bands": hist,
        }


_UNSET = object()


def _renamed(new, old, new_name: str, old_name: str, default):
    """The value of a renamed parameter: the new name, or the old one with a DeprecationWarning."""
    if old is _UNSET:
        return new
    if new is not default and new != default:
        raise InvalidParameterError(f"give {new_name} only ({old_name} is its deprecated name)")
    warnings.warn(f"suda({old_name}=...) is deprecated and will be removed in the next release; "
                  f"use {new_name}=...", DeprecationWarning, stacklevel=3)
    return old


def _check_params(qis, max_size, sampling_fraction, score):
    m = len(qis)
    if m > _k.MAX_COLUMNS:
        raise InvalidParameterError(
            f"suda handles at most {_k.MAX_COLUMNS} quasi-identifiers, got {m}; choose the "
            "variables an intruder could plausibly know"
        )
    if max_size is None:
        if m > MAX_UNCAPPED_QIS:
            raise InvalidParameterError(
                f"{m} quasi-identifiers without max_size would search all 2^{m} - 1 "
                f"combinations; pass max_size (for example max_size=4; at most 5 is "
                f"recommended above 12 variables), or use fewer quasi-identifiers"
            )
        cap = m
    else:
        cap = min(check_positive_int(max_size, name="max_size"), m)
    sampling_fraction = check_fraction(sampling_fraction, name="sampling_fraction", low=0.0, high=1.0,
                                       low_open=True)
    if score not in _SCORES:
        raise InvalidParameterError(f"score must be one of {', '.join(map(repr, _SCORES))}, got {score!r}")
    n_comb = sum(math.comb(m, k) for k in range(1, cap + 1))
    if n_comb > MAX_COMBINATIONS:
        raise InvalidParameterError(
            f"max_size={cap} over {m} quasi-identifiers allows {n_comb:,} combinations, more than the "
            f"{MAX_COMBINATIONS:,} SUDA2 searches; lower max_size (at most 5 is usual) or use fewer "
            "quasi-identifiers")
    if n_comb > WARN_COMBINATIONS:
        warnings.warn(
            f"max_size={cap} over {m} quasi-identifiers allows {n_comb:,} combinations; the "
            "SUDA2 search can take long. Lower max_size (at most 5 is usual) to bound it",
            PerformanceWarning,
            stacklevel=3,
        )
    return cap, sampling_fraction


def _n_threads() -> int:
    try:
        return max(1, int(numba.get_num_threads()))
    except Exception:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def find_msus(X: np.ndarray, w: np.ndarray, n_levels: np.ndarray, max_k: int, wt: np.ndarray,
              n_threads: int | None = None, deadline: tuple | None = None):
    """SUDA2 on distinct rows ``X`` (int32 (g, m), -1 missing) with weights ``w`` in {1, 2}.

    Returns ``(score, contrib, n_msu)`` per distinct row (see :func:`_kernels.suda2.finalize`).
    ``deadline``: ``(start, max_seconds)`` on :func:`time.monotonic`; no top-level sub-tree
    starts after it, and the search then raises :class:`~idrisk.exceptions.ResourceLimitError`.
    """
    g, m = X.shape
    X = np.ascontiguousarray(X, dtype=np.int32)
    w = np.ascontiguousarray(w, dtype=np.int32)
    n_levels = np.asarray(n_levels, dtype=np.int64)
    rank_of = _k.prepare(X, np.arange(g, dtype=np.int64), w, n_levels, np.int64(max_k))[0]
    # the rows in an order where duplicates of every sub-table are adjacent (same ranks)
    perm = _k.row_order(rank_of)
    del rank_of
    w = w[perm]
    rank_of, rank_col, one_rows, one_masks, top_off, top_rows, top_limit = _k.prepare(
        X, perm, w, n_levels, np.int64(max_k))
    todo = np.flatnonzero(top_limit >= 1)
    # biggest sub-tables first, for balance between threads
    sizes = (top_off[todo + 1] - top_off[todo]) * (len(rank_col) - todo)
    todo = todo[np.argsort(-sizes, kind="stable")]
    small_rows = np.int64(_k.SMALL_ROWS)
    rows_parts = [one_rows]
    mask_parts = [one_masks]

    late = [] if deadline is None else [deadline[0] + deadline[1]]

    def run(x):
        if late and time.monotonic() > late[0]:
            return None
        r, mk, n = _k.search_subtree(rank_of, w, rank_col, top_off, top_rows, top_limit, np.int64(x), small_rows)
        return r[:n], mk[:n]

    n_threads = n_threads or _n_threads()
    # a progress bar over the top-level sub-trees, only on a terminal
    bar = tqdm(total=len(todo), desc="SUDA2", unit="item", disable=not sys.stderr.isatty() or len(todo) < 2,
               leave=False)
    xs = todo.tolist()
    parts = [None] * len(xs)

    def one(i):
        parts[i] = run(xs[i])
        bar.update()

    try:
        if n_threads > 1 and len(xs) > 1:
            run_chunks(one, len(xs))  # the kept pool of the kernels, biggest sub-tables first
        else:
            for i in range(len(xs)):
                one(i)
    finally:
        bar.close()
    done = [p for p in parts if p is not None]
    if len(done) < len(parts):
        raise ResourceLimitError(
            f"the SUDA2 search stopped at max_seconds={deadline[1]:g} (after {time.monotonic() - deadline[0]:.1f} s) "
            f"with {len(done):,} of {len(parts):,} top-level sub-trees searched; no scores are returned, since a "
            "partial search understates them. Lower max_size (at most 5 is usual), use fewer quasi-identifiers, "
            "or raise max_seconds")
    rows_parts += [r for r, _ in done]
    mask_parts += [mk for _, mk in done]
    cand_rows = perm[np.concatenate(rows_parts)].astype(np.int32, copy=False)
    cand_masks = np.concatenate(mask_parts).astype(np.int64, copy=False)
    return _k.finalize(cand_rows, cand_masks, np.int64(g), np.int64(m), wt)


def dis_suda_scores(score: np.ndarray, n_pairs: int, sampling_fraction: float, n_qis: int) -> np.ndarray:
    """DIS-SUDA record scores (sdcMicro ``Suda2.h``; ARX ``getScoreDIS``).

    ``dis_i = 1 / (1 + P (1 - f) / f / (s_i^Q * A))`` for ``s_i > 0``, else 0, with
    ``Q = 1 + (8 - M) / 20`` (``M = max(n_qis, 3)``), ``A = sum_{j: s_j > 0} s_j^(-Q)``,
    ``f`` the sampling fraction and ``P`` the number of records in full-key classes of
    size exactly 2. This is sdcMicro's ``1 / (1 + (U/Dis - U) / (s_i^Q A))`` with
    ``Dis = U f / (U f + P (1 - f))`` simplified, so it does not depend on the count of
    sample uniques ``U``. Computed in double precision (sdcMicro uses single precision for
    ``f``, ``Q`` and ``Dis``: differences up to about 1e-7 relative). Where sdcMicro's
    16-bit hash miscounts ``U`` as 0 it returns NaN; the formula above gives the value.
    """
    big_m = max(int(n_qis), 3)
    q = 1.0 + (8.0 - big_m) / 20.0
    out = np.zeros(score.shape[0], dtype=np.float64)
    pos = score > 0
    if not pos.any():
        return out
    sq = score[pos] ** q
    a = float(np.sum(1.0 / sq))
    odds = n_pairs * (1.0 - sampling_fraction) / sampling_fraction
    out[pos] = 1.0 / (1.0 + odds / (sq * a))
    return out


def _sorted_levels(levels, n):
    """Order of codes 0..n-1 by their value (sdcMicro lists ``sort(unique(x))``)."""
    if levels is None:
        return np.arange(n), None
    vals = list(levels)
    try:
        order = sorted(range(n), key=lambda i: vals[i])
    except TypeError:
        order = list(range(n))
    return np.asarray(order, dtype=np.int64), vals


def suda(data, quasi_identifiers, *, max_size: int | None = None, sampling_fraction: float = 0.01,
         score: str = "sdcmicro", max_seconds: float | None = None, max_msu_size=_UNSET,
         dis_fraction=_UNSET) -> SudaResult:
    """SUDA and DIS-SUDA scores from the minimal sample uniques of every record.

    For record ``i`` with MSUs ``S`` (sets of its QI values unique in the data, with no
    unique proper subset), the SUDA score is ``score_i = sum_S w(|S|)`` with
    ``w(k) = (M - k)!`` (``score="sdcmicro"``, Elliot et al. 2002) or the IHSN weights
    ``(2^(M-k) - 1) k! (M-k)! / M!`` (``score="ihsn"``); see :func:`msu_weights`.
    The DIS-SUDA score (Elliot 2000; Skinner & Elliot 2002) is given in
    :func:`dis_suda_scores`. Matches sdcMicro ``suda2`` (5.8.1): scores to 1e-9, DIS-SUDA
    to 1e-6 (single precision there), contributions and both attribute tables
    (tests/test_suda_peer.py).

    Conventions (sdcMicro's): a missing value never takes part in an MSU and never
    matches another value; for detecting duplicate records it is compared as a value.
    Records that are not unique on the full key have no MSU (score 0). Differences from
    sdcMicro, on purpose: values are compared as values (sdcMicro casts codes to C
    ``int``, so 1.2 and 1.7 are the same category, and turns character columns into NA);
    DIS-SUDA is finite where sdcMicro's hash-bucket miscount gives NaN; ``max_size``
    really caps the search (sdcMicro ignores its cap).

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow/polars table, or :class:`idrisk.Encoded`)
        Microdata, one row per record. Not modified.
    quasi_identifiers : sequence of column names
        The key variables (at most 63; more than 20 need ``max_size``).
    max_size : int, optional
        Largest MSU searched (default: all sizes). Capped scores keep the full-search
        weights ``w(k)`` above, so a capped score is the full score restricted to MSUs of
        at most ``max_size`` variables (a lower bound of it). ARX weighs a capped
        search with ``prod_{i=k}^{cap-1} (M - i)``, which is ``w(k) / (M - cap)!``: the
        same ranking and, since DIS-SUDA is invariant to a constant factor, the same
        DIS-SUDA scores.
    sampling_fraction : float in (0, 1], default 0.01
        Sampling fraction ``f`` of the data (1 for a census).
    score : {"sdcmicro", "ihsn"}, default "sdcmicro"
    max_seconds : float, optional
        A time limit (default: none). The search is split into top-level sub-trees (one per
        item, the biggest first); none starts after ``max_seconds`` from the call, and then
        the call raises :class:`~idrisk.exceptions.ResourceLimitError` with the number of
        sub-trees searched, rather than return scores of a partial search (they would
        understate the risk). A sub-tree already running is finished, so the call can
        overrun by the longest sub-tree. Searches over more than 10,000 QI subsets warn
        (:class:`~idrisk.exceptions.PerformanceWarning`) before they start; more than
        2^20 - 1 are refused.
    max_msu_size, dis_fraction
        Deprecated names of ``max_size`` and ``sampling_fraction`` (accepted for one more
        release, with a DeprecationWarning).

    Returns
    -------
    SudaResult

    References
    ----------
    .. [1] A. M. Manning, D. J. Haglin, J. A. Keane, "A recursive search algorithm for
       statistical disclosure assessment", Data Min. Knowl. Disc. 16:165-196, 2008.
    .. [2] M. J. Elliot, A. M. Manning, R. W. Ford, "A computational algorithm for handling
       the special uniques problem", IJUFKS 10(5):493-509, 2002.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [2, 1, 1], "b": [0, 3, 0], "c": [0, 6, 0]})
    >>> from idrisk import suda
    >>> suda(df, ["a", "b", "c"]).scores["score"].tolist()
    [2.0, 4.0, 2.0]
    """
    max_size = _renamed(max_size, max_msu_size, "max_size", "max_msu_size", None)
    sampling_fraction = _renamed(sampling_fraction, dis_fraction, "sampling_fraction", "dis_fraction", 0.01)
    if (engine := engine_for(data, "suda")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, max_size=max_size, sampling_fraction=sampling_fraction,
                      score=score, max_seconds=max_seconds)
    inp = resolve(data, quasi_identifiers)
    qis = inp.quasi_identifiers
    start = time.monotonic()
    max_seconds = check_max_seconds(max_seconds)
    cap, sampling_fraction = _check_params(qis, max_size, sampling_fraction, score)
    m, n = len(qis), inp.n_rows
    # one grouping on the full key (missing = one more value: duplicates are detected with
    # missing compared as a value), from the encoding layer's fused columns
    kcols = inp.key_columns()
    gid, sizes = group_ids_columns(kcols, n)
    rep, w = _k.distinct_rows(gid, np.int64(len(sizes)))
    X, n_levels = _distinct_items(kcols, rep)
    d_score, d_contrib, d_nmsu = find_msus(X, w, n_levels, cap, msu_weights(m, score),
                                           deadline=None if max_seconds is None else (start, max_seconds))
    uniq_rows = np.flatnonzero(sizes == 1)
    fblock, iblock, min_sz = _k.record_table(np.int64(n), rep, uniq_rows, d_score, d_contrib, d_nmsu,
                                             np.int64(cap))
    n_uniques = len(uniq_rows)
    n_pairs = int(2 * (sizes == 2).sum())
    fblock[1] = dis_suda_scores(fblock[0], n_pairs, sampling_fraction, m)
    fnames = ["score", "dis_score"] + [f"{c}_contribution" for c in qis]
    inames = [f"msu_size_{k}" for k in range(1, cap + 1)]
    min_size = pd.arrays.IntegerArray(min_sz.astype(np.int64), min_sz == 0)
    scores = pd.concat(
        [pd.DataFrame(fblock.T, index=inp.index, columns=fnames, copy=False),
         pd.DataFrame(iblock.T, index=inp.index, columns=inames, copy=False),
         pd.DataFrame({"min_msu_size": min_size}, index=inp.index)],
        axis=1,
    )
    # attribute contributions (sdcMicro suda2.R), from the unnormalised c_iv * score_i
    raw_u = d_contrib[uniq_rows]
    total = d_score[uniq_rows].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        attr = 100.0 * raw_u.sum(axis=0) / total if total > 0 else np.full(m, np.nan)
    attribute_contributions = pd.Series(attr, index=pd.Index(qis, name="variable"), name="contribution")
    return SudaResult(
        quasi_identifiers=tuple(qis), max_size=cap, sampling_fraction=sampling_fraction,
        score_variant=score, scores=scores, attribute_contributions=attribute_contributions,
        attribute_level_contributions=_level_contributions(inp, X, rep, uniq_rows, raw_u, n_levels),
        n_records=n, n_sample_uniques=n_uniques, n_in_pairs=n_pairs,
        dis=skinner_elliot(n_uniques, n_pairs // 2, sampling_fraction),
        msu_counts=dict(zip(range(1, cap + 1), map(int, d_nmsu[uniq_rows].sum(axis=0)[1: cap + 1]))),
    )


def _distinct_items(kcols, rep):
    """Distinct rows as item codes ``0 .. n_levels - 1`` (int32 (g, m); -1 = missing, never an item)."""
    X = np.empty((len(rep), len(kcols)), dtype=np.int32)
    n_levels = np.empty(len(kcols), dtype=np.int64)
    for j, c in enumerate(kcols):
        x = c.values[rep].astype(np.int64) - c.lo  # 0 .. span-1; 0 is the missing value if any
        if c.has_missing:
            X[:, j] = x - 1
            n_levels[j] = c.span - 1
        else:
            X[:, j] = x
            n_levels[j] = c.span
    return X, n_levels


def _values_at(inp, c, rows):
    """The values of column ``c`` in ``rows`` (from the frame, or behind the encoded codes)."""
    if inp.frame is not None:
        series = inp.frame[c]
        return [series.iat[int(r)] for r in rows]
    levels = inp.encoded.levels[c]
    codes = inp.encoded.codes[c]
    return [levels[int(codes[int(r)])] for r in rows]


def _level_contributions(inp, X, rep, uniq_rows, raw_u, n_levels) -> pd.DataFrame:
    """sdcMicro's attribute-level contributions: one row per observed value of each QI."""
    rows = []
    first_all = _k.first_rows(X, np.asarray(n_levels, dtype=np.int64))
    for j, c in enumerate(inp.quasi_identifiers):
        col = X[:, j]
        codes_u = col[uniq_rows]
        ok = codes_u >= 0
        per_level = np.bincount(codes_u[ok], weights=raw_u[ok, j], minlength=int(n_levels[j]))
        # observed levels (sdcMicro lists sort(unique(x))): the value behind each code is
        # read from the first record with that code
        first = first_all[j, : int(n_levels[j])]
        present = np.flatnonzero(first >= 0)
        first = first[present]
        order, vals = _sorted_levels(_values_at(inp, c, rep[first]), len(first))
        tot_v = raw_u[:, j].sum()
        for i in order:
            pct = 100.0 * per_level[present[i]] / tot_v if tot_v > 0 else float("nan")
            rows.append((c, vals[i], pct))
    return pd.DataFrame(rows, columns=["variable", "value", "contribution"])
