"""l-diversity of sensitive attributes inside equivalence classes, as sdcMicro computes it.

k-anonymity stops an intruder from singling a record out, but not from learning a
sensitive value when every record of the class shares it (homogeneity attack,
Machanavajjhala et al. 2007). For each class E and sensitive attribute s with category
counts :math:`r_1 \\ge r_2 \\ge \\dots \\ge r_m` (class size :math:`f = \\sum r_i`):

* distinct l-diversity: :math:`m`, the number of distinct values;
* entropy l-diversity: :math:`\\exp(-\\sum_i p_i \\ln p_i)`, :math:`p_i = r_i / f`
  (the exponential of the Shannon entropy, so that it reads as a number of values);
* recursive (c, l)-diversity: the largest :math:`l \\ge 2` with
  :math:`r_1 < c\\,(r_l + r_{l+1} + \\dots + r_m)`, or 1 if even l = 2 fails or m = 1.

Parity: sdcMicro 5.8.1 ``ldiversity(obj, keyVars, ldiv_index, l_recurs_c, missing)``,
reproduced on every reference file (tests/peer/sdcmicro/ldiversity_*.csv), including
its rules for missing values:

* classes match the keys exactly with ``NA == NA`` (``missing="category"``);
* each missing sensitive value counts as a new distinct value of count 1
  (``sensitive_na="distinct"``: R's NaN != NaN), so NA, NA, 1, 2 gives 4;
* a value equal to ``missing_code`` (sdcMicro's ``missing = -999``) is one extra category
  for distinct and entropy, but only when the class holds another value, and it never
  counts for recursive diversity;
* the recursive rule is evaluated in single precision, as sdcMicro's C++ does.

Differences on purpose (documented in the tests):

* sdcMicro's ``MultiEntropy_Ldiversity`` / ``MultiRecursive_Ldiversity`` columns are 0 for
  every record in sdcMicro 5.8.1 (broken); idrisk does not produce them.
* When every value of a class equals ``missing_code``, sdcMicro leaves the recursive
  value of the previously processed class in place (an uninitialised read); idrisk
  reports 0, like the distinct count (entropy is 1 = exp(0), as in sdcMicro).
* ``sensitive_na="category"`` (not in sdcMicro) reads all missing sensitive values of a
  class as one category, which never overstates diversity.

See ``docs/methods.md#l-diversity``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import pandas as pd

from .._encode import Encoded
from .._kernels.diversity import class_order, dense_cells_ok, ldiversity_dense, ldiversity_stats, n_chunks_for
from .._kernels.codes import min_max
from .._kernels.groups import gather3
from .._results import RECORD_LEVEL, Result
from .._validation import as_column_list, describe
from ..exceptions import InvalidParameterError
from ._classes import check_partition_missing, engine_for, resolve

__all__ = ["l_diversity", "LDiversityResult"]

_SENSITIVE_NA = ("distinct", "category")


@dataclass(frozen=True)
class LDiversityResult(Result):
    """l-diversity per record and dataset minima, for one key and some sensitive columns.

    Attributes
    ----------
    quasi_identifiers, sensitive : tuple of str
    c : float
        Constant of recursive (c, l)-diversity.
    missing, sensitive_na : str
        Conventions used for missing QI values and missing sensitive values.
    n_records, n_classes : int
    minima : dict
        ``{s: {"distinct": int, "entropy": float, "recursive": int}}``: the dataset's
        l for each measure (the minimum over records).
    per_record : pandas.DataFrame
        Indexed like the data, with ``{s}_distinct``, ``{s}_entropy`` and
        ``{s}_recursive`` for each sensitive column ``s`` (not part of :meth:`to_dict`).
    """

    quasi_identifiers: tuple
    sensitive: tuple
    c: float
    missing: str
    sensitive_na: str
    n_records: int
    n_classes: int
    minima: dict
    per_record: pd.DataFrame = field(repr=False, compare=False, metadata=RECORD_LEVEL)

    def records_below_l(self, l: float, measure: str = "distinct") -> dict:
        """Number of records whose class has ``measure`` below ``l``, per sensitive column."""
        if measure not in ("distinct", "entropy", "recursive"):
            raise InvalidParameterError(
                f"measure must be 'distinct', 'entropy' or 'recursive', got {measure!r}")
        if isinstance(l, bool) or not isinstance(l, Real) or not math.isfinite(float(l)):
            raise InvalidParameterError(f"l must be a finite number, got {l!r}")
        return {s: int((self.per_record[f"{s}_{measure}"] < l).sum()) for s in self.sensitive}

    def is_l_diverse(self, l: float, measure: str = "distinct") -> bool:
        """True iff every record's class reaches ``l`` on ``measure`` for every sensitive column."""
        return all(v == 0 for v in self.records_below_l(l, measure).values())

    def _extra_dict(self) -> dict:
        return {"records_distinct_below_2": self.records_below_l(2)}


def _check_c(c) -> float:
    if isinstance(c, bool) or not isinstance(c, Real) or not math.isfinite(float(c)):
        raise InvalidParameterError(f"c must be a finite positive number, got {c!r}")
    if float(c) <= 0:
        raise InvalidParameterError(
            f"c must be positive (recursive (c, l)-diversity needs r1 < c * (r_l + ... + r_m)), got {c!r}")
    return float(c)


def _check_missing_code(missing_code) -> None:
    if missing_code is not None and not np.isscalar(missing_code) and \
            not isinstance(missing_code, (pd.Timestamp, type(pd.NA))):
        raise InvalidParameterError(
            f"l_diversity: missing_code must be one value (a number or a string); got {describe(missing_code)}")


def _raw_sensitive(frame, s, g: int, missing_code):
    """``(values, lo, card, mcode)`` of an int32/int64 sensitive column whose value range fits
    the (class, value) table: its raw values stand for codes ``value - lo`` (no encoding);
    ``mcode`` is ``missing_code - lo`` when that is an integer in the range, else -2. None
    for other columns (they are encoded)."""
    if frame is None:
        return None
    col = frame[s]
    if not (isinstance(col.dtype, np.dtype) and col.dtype in (np.int64, np.int32)) or len(col) == 0:
        return None
    values = col.to_numpy()
    lo, hi = min_max(values)
    card = int(hi) - int(lo) + 1
    if not dense_cells_ok(g, card, len(values)):
        return None
    mcode = -2
    if isinstance(missing_code, (int, float, np.integer, np.floating)):  # as ``column == code``
        m = float(missing_code)
        if m.is_integer() and lo <= m <= hi:
            mcode = int(m) - int(lo)
    return values, int(lo), card, mcode


def _missing_code_of(frame, enc_s: Encoded, s, missing_code) -> int:
    """Code of the value ``missing_code`` in sensitive column ``s`` (-2 if absent)."""
    if missing_code is None:
        return -2
    _check_missing_code(missing_code)
    if frame is None:
        levels = enc_s.levels[s]
        if levels is None:
            raise InvalidParameterError(
                "missing_code needs the original data frame, not an Encoded object")
        hits = np.flatnonzero(pd.Index(levels) == missing_code)
        return int(hits[0]) if hits.size else -2
    col = frame[s]
    try:
        mask = (col == missing_code).to_numpy(dtype=bool, na_value=False)
    except TypeError:
        return -2
    rows = np.flatnonzero(mask)
    return int(enc_s.codes[s][rows[0]]) if rows.size else -2


def _class_stats(gid, sizes, codes, card: int, mcode: int, c: float, by_class: list, lo: int = 0):
    """Per-class (distinct, entropy, recursive) of one sensitive column: from a (class, value)
    table when it is small, else from the rows sorted by class (kept in ``by_class``).
    ``codes - lo`` are the codes (``lo`` > 0 only for raw values, which always fit the table)."""
    g = len(sizes)
    if dense_cells_ok(g, card, len(gid)):
        return ldiversity_dense(gid, sizes, codes, np.int64(card), np.int64(mcode), np.float64(c), np.int64(lo))
    if not by_class:
        by_class.extend(class_order(gid.astype(np.int64, copy=False), np.int64(g)))
    order, starts = by_class
    return ldiversity_stats(order, starts, codes, np.int64(card), np.int64(mcode), np.float64(c),
                            np.int64(n_chunks_for(g)))


def l_diversity(data, quasi_identifiers: Sequence, sensitive, *, c: float = 2,
                missing: str = "category", sensitive_na: str = "distinct",
                missing_code=None) -> LDiversityResult:
    """Distinct, entropy and recursive (c, l)-diversity of sensitive columns, per record.

    Each record gets the values of its equivalence class over ``quasi_identifiers``
    (formulas in the module docstring). Matches sdcMicro 5.8.1 ``ldiversity`` on every
    reference file; see the module docstring for its missing-value rules and for the two
    places where idrisk differs on purpose.

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow/polars table, or :class:`idrisk.Encoded`)
        One row per record. Not modified. Encoded data must hold the sensitive columns too.
    quasi_identifiers : sequence of str
    sensitive : str or sequence of str
        Sensitive attributes; none may also be a quasi-identifier.
    c : float > 0, default 2
        Constant of recursive (c, l)-diversity (sdcMicro ``l_recurs_c``).
    missing : {"category", "never"}, default "category"
        Missing QI values: ``"category"`` is sdcMicro's exact ``NA == NA`` grouping;
        ``"never"`` puts each record with a missing QI in a class of its own. The
        ``"wildcard"`` rule does not partition records into classes and is refused.
    sensitive_na : {"distinct", "category"}, default "distinct"
        Missing sensitive values: each a new value (sdcMicro), or one shared category.
    missing_code : scalar, optional
        A value of the sensitive columns that stands for "missing" (sdcMicro's
        ``missing`` argument, -999 by default there). ``None`` (default): no such value.

    Returns
    -------
    LDiversityResult

    References
    ----------
    .. [1] A. Machanavajjhala, D. Kifer, J. Gehrke, M. Venkitasubramaniam, "l-diversity:
       privacy beyond k-anonymity", ACM TKDD 1(1), 2007.
    .. [2] sdcMicro 5.8.1 ``ldiversity`` (src/Measure_Risk.h, ``compute_group_ldiversity``).

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"la": [201] * 6 + [202] * 2, "yg": [6, 6, 6, 6, 7, 7, 6, 6],
    ...                    "sen": list("NNKENNKE")})
    >>> res = idrisk.l_diversity(df, ["la", "yg"], "sen")
    >>> res.per_record["sen_distinct"].tolist()
    [3, 3, 3, 3, 1, 1, 2, 2]
    >>> round(float(res.per_record["sen_entropy"].iloc[0]), 6), res.minima["sen"]["recursive"]
    (2.828427, 1)
    """
    if (engine := engine_for(data, "l_diversity")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, sensitive, c=c, missing=missing, sensitive_na=sensitive_na,
                      missing_code=missing_code)
    check_partition_missing(missing, "l_diversity")
    c = _check_c(c)
    if sensitive_na not in _SENSITIVE_NA:
        raise InvalidParameterError(
            f"sensitive_na must be 'distinct' or 'category', got {sensitive_na!r}")
    as_column_list(sensitive, role="sensitive")  # at least one, no duplicates
    inp = resolve(data, quasi_identifiers, sensitive)
    qis, sens, frame, index = inp.quasi_identifiers, inp.extra, inp.frame, inp.index
    _check_missing_code(missing_code)
    gid, sizes = inp.partition(missing, small_ids=True)
    g = len(sizes)
    by_class = []  # the rows sorted by class, made once if a column needs them
    cols, minima = {}, {}
    enc_s = None  # the sensitive columns encoded, once one needs it
    for s in sens:
        raw = _raw_sensitive(frame, s, g, missing_code)
        if raw is not None:  # integers of a small range (never missing): their values, no codes
            codes, lo, card, mcode = raw
        else:
            enc_s = inp.extra_encoding() if enc_s is None else enc_s
            codes, lo = enc_s.codes[s], 0
            card = int(enc_s.n_levels[s])
            if sensitive_na == "category" and (codes < 0).any():
                codes = np.where(codes < 0, card, codes).astype(np.int32)
                card += 1
            mcode = _missing_code_of(frame, enc_s, s, missing_code)
            codes = np.ascontiguousarray(codes, dtype=np.int32)
        distinct, entropy, recursive = _class_stats(gid, sizes, codes, card, mcode, c, by_class, lo)
        cols[f"{s}_distinct"], cols[f"{s}_entropy"], cols[f"{s}_recursive"] = gather3(
            gid, distinct, entropy, recursive)
        minima[s] = {"distinct": int(distinct.min()), "entropy": float(entropy.min()),
                     "recursive": int(recursive.min())}
    per_record = pd.DataFrame(cols, index=index, copy=False)  # the arrays are ours: no copy
    return LDiversityResult(
        quasi_identifiers=tuple(qis), sensitive=tuple(sens), c=c, missing=missing,
        sensitive_na=sensitive_na, n_records=len(index), n_classes=int(g),
        minima=minima, per_record=per_record)
