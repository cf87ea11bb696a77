"""t-closeness: how far each class's distribution of a sensitive attribute is from the whole file's.

An intruder who locates a person's equivalence class learns the class's distribution of
the sensitive attribute; t-closeness (Li, Li & Venkatasubramanian 2007) bounds the
earth mover's distance (EMD) between that distribution :math:`p` and the overall one
:math:`q` by :math:`t`. With the attribute's :math:`m` distinct values (in the data):

* equal ground distance (every pair of values 1 apart, for nominal attributes):
  :math:`D = \\tfrac12 \\sum_i |p_i - q_i|`;
* ordered distance (values ordered, adjacent values :math:`1/(m-1)` apart):
  :math:`D = \\frac{1}{m-1} \\sum_{i=1}^{m} \\left| \\sum_{j \\le i} (p_j - q_j) \\right|`.

Both as ARX implements them (``EqualDistanceTCloseness``, ``OrderedDistanceTCloseness``;
tests/peer/arx/README.md); the data are t-close for any t at or above the maximum over
classes, reported as ``t``. See ``docs/methods.md#t-closeness``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._encode import Encoded
from .._kernels.diversity import class_order, n_chunks_for, tcloseness_distances
from .._results import RECORD_LEVEL, Result
from .._validation import check_fraction
from ..exceptions import DataValidationError, InvalidParameterError
from ._classes import check_partition_missing, engine_for, resolve

__all__ = ["t_closeness", "TClosenessResult"]


@dataclass(frozen=True)
class TClosenessResult(Result):
    """Per-class distance to the overall distribution of one sensitive attribute.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    sensitive : str
    distance : {"equal", "ordered"}
    t : float
        The largest distance over classes: the data are t-close for every t >= this.
    n_records, n_classes, n_values : int
        ``n_values`` is m, the number of distinct sensitive values (missing counts as a
        value of its own for the equal distance).
    per_class : pandas.DataFrame
        Columns ``class_id`` (0 .. n_classes-1, in order of first appearance in the data),
        ``size`` and ``distance``; never the classes' quasi-identifier values.
    class_id : pandas.Series
        Each record's ``class_id``, indexed like the data (not part of :meth:`to_dict`).
    """

    quasi_identifiers: tuple
    sensitive: str
    distance: str
    t: float
    n_records: int
    n_classes: int
    n_values: int
    per_class: pd.DataFrame = field(repr=False, compare=False, metadata=RECORD_LEVEL)
    class_id: pd.Series = field(repr=False, compare=False, metadata=RECORD_LEVEL)

    def is_t_close(self, t: float) -> bool:
        """True iff every class's distance is at most ``t``."""
        t = check_fraction(t, name="t")
        return bool(self.t <= t)

    def classes_above(self, t: float) -> int:
        """Number of classes whose distance exceeds ``t``."""
        t = check_fraction(t, name="t")
        return int((self.per_class["distance"].to_numpy() > t).sum())

    def _extra_dict(self) -> dict:
        """The distance distribution over classes (never a class's values)."""
        d = self.per_class["distance"].to_numpy()
        sz = self.per_class["size"].to_numpy()
        return {
            "records_weighted_mean_distance": float((d * sz).sum() / sz.sum()),
            "classes_above": {str(x): int((d > x).sum()) for x in (0.1, 0.2, 0.3, 0.5)},
        }


def _values_of_codes(frame: pd.DataFrame | None, enc: Encoded, s, card: int) -> pd.Series:
    """The observed value behind each code 0..card-1 (taken from the first row holding it)."""
    if frame is None:
        return pd.Series(list(enc.levels[s]))
    codes = enc.codes[s]
    rows = np.arange(codes.shape[0])
    first = np.full(card, -1, dtype=np.int64)
    ok = codes >= 0
    first[codes[ok][::-1]] = rows[ok][::-1]
    return frame[s].iloc[first].reset_index(drop=True)


def value_ranks(values, dtype, order, s) -> np.ndarray:
    """Position of each code's value in the value order (0 .. card-1).

    ``values`` holds one value per code (a sequence); ``dtype`` is the column's dtype (an
    ordered categorical sorts by its categories) or None; ``order`` lists every value from
    lowest to highest, or None for the values' natural order. Shared by the pandas and the
    Spark path (``idrisk.spark``).
    """
    values = list(values)
    card = len(values)
    if order is None:
        if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
            cat_pos = {v: i for i, v in enumerate(dtype.categories)}
            keys = [cat_pos[v] for v in values]
        else:
            keys = list(values)
        try:
            perm = sorted(range(card), key=lambda i: keys[i])
        except TypeError:
            raise InvalidParameterError(
                f"the values of sensitive column {s!r} cannot be sorted (mixed types); pass "
                "order=[...] listing every value from lowest to highest") from None
    else:
        if isinstance(order, (str, bytes)):
            raise InvalidParameterError("order must be a sequence of values, not a string")
        order = list(order)
        bad = sorted({type(v).__name__ for v in order if not isinstance(v, Hashable)})
        if bad:
            raise InvalidParameterError(f"order must list single values; got {', '.join(bad)} items")
        pos = {}
        dups = []
        for i, v in enumerate(order):
            if v in pos:
                dups.append(repr(v))
            pos[v] = i
        if dups:
            raise InvalidParameterError(f"order lists values more than once: {', '.join(dups[:5])}")
        uncovered = [v for v in values if v not in pos]
        if uncovered:  # counted, never shown: an error message is no place for a record's value
            raise InvalidParameterError(
                f"order does not cover {len(uncovered)} value(s) of sensitive column {s!r}; "
                "list every observed value")
        perm = sorted(range(card), key=lambda i: pos[values[i]])
    rank = np.empty(card, dtype=np.int64)
    rank[np.asarray(perm, dtype=np.int64)] = np.arange(card, dtype=np.int64)
    return rank


def t_closeness(data, quasi_identifiers: Sequence, sensitive, *, distance: str = "equal",
                order: Sequence | None = None, missing: str = "category") -> TClosenessResult:
    """Earth mover's distance between each class's sensitive distribution and the overall one.

    ARX definitions (``EqualDistanceTCloseness``, ``OrderedDistanceTCloseness``; formulas in
    the module docstring). ``t`` is the maximum over classes.

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow/polars table, or :class:`idrisk.Encoded`)
        One row per record. Not modified. Encoded data must hold the sensitive column too;
        its default value order is then the natural sort of the values (pass ``order``
        for the order of an ordered categorical).
    quasi_identifiers : sequence of str
    sensitive : str
        One sensitive column (not a quasi-identifier).
    distance : {"equal", "ordered"}, default "equal"
        Ground distance: equal (nominal values) or ordered (ordinal values).
    order : sequence, optional
        For ``distance="ordered"``: every observed value, lowest first. Default: the
        categories of an ordered categorical, else the values' natural sort order. Values
        listed but absent from the data are ignored (m counts observed values, as ARX).
    missing : {"category", "never"}, default "category"
        Missing quasi-identifier values (see :func:`idrisk.frequencies`). A missing
        *sensitive* value is a value of its own for the equal distance; the ordered
        distance has no place for it and refuses it.

    Returns
    -------
    TClosenessResult

    References
    ----------
    .. [1] N. Li, T. Li, S. Venkatasubramanian, "t-Closeness: privacy beyond k-anonymity
       and l-diversity", ICDE 2007, 106-115.
    .. [2] ARX ``org.deidentifier.arx.criteria.{Equal,Ordered}DistanceTCloseness``.

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"la": [201] * 6 + [202] * 2, "yg": [6, 6, 6, 6, 7, 7, 6, 6],
    ...                    "sen": list("NNKENNKE")})
    >>> idrisk.t_closeness(df, ["la", "yg"], "sen").t
    0.5
    >>> idrisk.t_closeness(df, ["la", "yg"], "sen", distance="ordered", order=["N", "K", "E"]).t
    0.375
    """
    if (engine := engine_for(data, "t_closeness")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, sensitive, distance=distance, order=order, missing=missing)
    if distance not in ("equal", "ordered"):
        raise InvalidParameterError(f"distance must be 'equal' or 'ordered', got {distance!r}")
    if order is not None and distance != "ordered":
        raise InvalidParameterError("order is only used with distance='ordered'")
    check_partition_missing(missing, "t_closeness")
    if not isinstance(sensitive, str) and isinstance(sensitive, Sequence):
        sens = list(sensitive)
        if len(sens) != 1:
            raise InvalidParameterError(
                f"t_closeness takes one sensitive column at a time, got {len(sens)}")
        sensitive = sens[0]
    inp = resolve(data, quasi_identifiers, [sensitive])
    frame, s = inp.frame, inp.extra[0]
    enc_s = inp.extra_encoding()
    codes = enc_s.codes[s]
    card = int(enc_s.n_levels[s])
    n_na = int((codes < 0).sum())
    if distance == "ordered":
        if n_na:
            raise DataValidationError(
                f"sensitive column {s!r} has {n_na} missing value(s), which have no place in the "
                "order of an ordered distance; fill or drop them, or use distance='equal'")
        values = _values_of_codes(frame, enc_s, s, card)
        rank = value_ranks(values, None if frame is None else frame[s].dtype, order, s)
    else:
        if n_na:
            codes = np.where(codes < 0, card, codes)
            card += 1
        rank = np.arange(card, dtype=np.int64)
    codes = np.ascontiguousarray(codes, dtype=np.int32)
    gid, sizes = inp.partition(missing)
    g = len(sizes)
    q = np.bincount(codes, minlength=card).astype(np.float64) / float(len(codes))
    order_, starts = class_order(gid, np.int64(g))
    dist = tcloseness_distances(order_, starts, codes, np.int64(card), q, rank,
                                distance == "ordered", np.int64(n_chunks_for(g)))
    per_class = pd.DataFrame({"class_id": np.arange(g, dtype=np.int64), "size": sizes,
                              "distance": dist})
    return TClosenessResult(
        quasi_identifiers=tuple(inp.quasi_identifiers), sensitive=s, distance=distance,
        t=float(dist.max()), n_records=inp.n_rows, n_classes=int(g), n_values=int(card),
        per_class=per_class, class_id=pd.Series(gid, index=inp.index, name="class_id"))
