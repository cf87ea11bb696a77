"""k-anonymity: equivalence-class sizes over the quasi-identifiers and who falls below k.

Records that share values on every quasi-identifier (QI) form an equivalence class; its
size is the sample frequency ``f_k`` of the key. The data are k-anonymous on the key iff
every record's ``f_k >= k`` (Sweeney 2002). ``n1`` and ``n2`` are sdcMicro's counts of
records with ``f_k == 1`` (violating 2-anonymity) and ``f_k == 2``; ``n1 + n2`` records
violate 3-anonymity (sdcMicro ``print.freqCalc``; domain brief section 2.1).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._encode import Encoded, encode, key_columns
from .._kernels.groups import default_limit, group_ids_columns, group_sums
from .._validation import as_column_list, as_frame, check_columns, check_k_values, check_missing, check_weights
from ..exceptions import DataValidationError, IdRiskWarning
from .frequencies import class_ids, frequency_arrays

__all__ = ["k_anonymity", "KAnonymityResult"]


def _encode_columns(data, quasi_identifiers, extra=(), *, extra_role="sensitive"):
    """Validate ``data`` and the column lists (nothing is encoded yet).

    Returns ``(frame_or_None, enc_or_None, qis, extra)``: a frame for pandas-like input
    (``enc`` None), or ``(None, enc, ...)`` for an :class:`Encoded` input. Every missing
    column name (QIs and ``extra``) is reported in one error; a column used both as a QI
    and in ``extra`` is an error.
    """
    if isinstance(data, Encoded):
        qis = as_column_list(quasi_identifiers, role="quasi-identifier")
        extra = as_column_list(extra, role=extra_role, allow_empty=True)
        absent = [str(c) for c in [*qis, *extra] if c not in data.codes]
        if absent:
            raise DataValidationError(f"columns not found in the encoded data: {', '.join(absent)}")
        _check_overlap(qis, extra, extra_role)
        return None, data.subset([*qis, *extra]), qis, extra
    frame = as_frame(data)
    qis = as_column_list(quasi_identifiers, role="quasi-identifier")
    extra = as_column_list(extra, role=extra_role, allow_empty=True)
    absent = [str(c) for c in [*qis, *extra] if c not in frame.columns]
    if absent:
        # one message naming every absent column, whatever its role
        role = f"quasi-identifier or {extra_role}" if extra else "quasi-identifier"
        check_columns(frame, [*qis, *[c for c in extra if c not in qis]], role=role)
    _check_overlap(qis, extra, extra_role)
    return frame, None, qis, extra


def _partition(frame, enc, qis, missing):
    """Equivalence classes ``(gid, sizes)`` over ``qis`` for ``"category"`` or ``"never"``.

    ``gid`` int64 ids ``0 .. g-1`` in order of first appearance, ``sizes`` int64 (g,).
    From a frame this takes the fused path of the encoding layer (raw integer, boolean and
    categorical columns are folded without building codes); it warns like :func:`encode`.
    """
    if frame is not None:
        n = len(frame)
        limit = default_limit(n)
        cols = key_columns(frame, qis, limit)
        if missing == "category" or not any(c[3] for c in cols):
            return group_ids_columns([c[:3] for c in cols], n, limit)
        with warnings.catch_warnings():  # key_columns has warned about these columns already
            warnings.simplefilter("ignore", IdRiskWarning)
            enc = encode(frame, qis, warn_identifiers=False)
    return class_ids(enc, qis, missing)


def _qi_encoding(frame, enc, qis):
    """Encoded QIs (for the wildcard rule and joint encodings); warns like :func:`encode`."""
    return enc if frame is None else encode(frame, qis)


def _check_overlap(qis, extra, role):
    both = [str(c) for c in extra if c in set(qis)]
    if both:
        raise DataValidationError(
            f"column{'s' if len(both) > 1 else ''} {', '.join(both)} listed both as quasi-identifier "
            f"and as {role} attribute: an attribute the intruder already knows cannot be disclosed "
            f"to them; remove it from one of the two lists"
        )


@dataclass(frozen=True)
class KAnonymityResult:
    """Summary of equivalence-class sizes for one key (set of quasi-identifiers).

    Attributes
    ----------
    quasi_identifiers : tuple of str
    missing : str
        The missing-value convention used (``"category"``, ``"wildcard"``, ``"never"``).
    n_records : int
    n_classes : int
        Number of equivalence classes. Under ``"wildcard"`` matching sets overlap and
        there are no classes: this is then the number of distinct keys with a missing
        value read as a value of its own.
    min_class_size : int
        Smallest ``f_k`` over the records: the data are k-anonymous iff this is >= k.
    class_size_histogram : dict int -> int
        Class size -> number of classes of that size. Under ``"wildcard"`` it is built from
        the per-record ``f_k`` instead: ``f_k`` value -> number of *records* with it (see
        ``histogram_counts``).
    histogram_counts : {"classes", "records"}
        What the histogram counts.
    records_below_k : dict int -> int
        ``k`` -> number of records with ``f_k < k``.
    n1, n2 : int
        Records with ``f_k == 1`` (sample uniques) and ``f_k == 2`` (as sdcMicro).
    fk : pandas.Series
        Per-record ``f_k`` indexed like the data (not part of :meth:`to_dict`).
    min_Fk, records_below_k_Fk, Fk : only with ``weights``
        The same for the estimated population frequency ``F_k`` (sum of the sampling
        weights over the record's matches, sdcMicro's ``Fk``): its minimum, ``k`` ->
        number of records with ``F_k < k``, and the per-record values.
    """

    quasi_identifiers: tuple
    missing: str
    n_records: int
    n_classes: int
    min_class_size: int
    class_size_histogram: dict
    histogram_counts: str
    records_below_k: dict
    n1: int
    n2: int
    fk: pd.Series = field(repr=False, compare=False)
    min_Fk: float | None = None
    records_below_k_Fk: dict | None = None
    Fk: pd.Series | None = field(default=None, repr=False, compare=False)

    def is_k_anonymous(self, k: int) -> bool:
        """True iff every record's ``f_k >= k``."""
        k = check_k_values(k)[0]
        return bool(self.min_class_size >= k)

    def to_dict(self) -> dict:
        """JSON-serialisable summary (no record-level values)."""
        return {
            "quasi_identifiers": [str(c) for c in self.quasi_identifiers],
            "missing": self.missing,
            "n_records": int(self.n_records),
            "n_classes": int(self.n_classes),
            "min_class_size": int(self.min_class_size),
            "class_size_histogram": {str(int(s)): int(c) for s, c in self.class_size_histogram.items()},
            "histogram_counts": self.histogram_counts,
            "records_below_k": {str(int(k)): int(v) for k, v in self.records_below_k.items()},
            "n1": int(self.n1),
            "n2": int(self.n2),
            "min_Fk": None if self.min_Fk is None else float(self.min_Fk),
            "records_below_k_Fk": None if self.records_below_k_Fk is None else
            {str(int(k)): int(v) for k, v in self.records_below_k_Fk.items()},
        }


def k_anonymity(data, quasi_identifiers: Sequence, *, k=(2, 3, 5, 10),
                missing: str = "category", weights=None) -> KAnonymityResult:
    """Equivalence-class sizes over the quasi-identifiers and the records below ``k``.

    With ``f_k(r)`` the number of records matching record ``r`` on every quasi-identifier,
    the data are k-anonymous iff :math:`\\min_r f_k(r) \\ge k`; ``records_below_k[k]`` is
    :math:`\\#\\{r : f_k(r) < k\\}`. ``n1`` and ``n2`` count records with ``f_k`` equal to
    1 and 2 exactly as sdcMicro's ``freqCalc`` does.

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow/polars table, or :class:`idrisk.Encoded`)
        One row per record. Not modified.
    quasi_identifiers : sequence of str
        The key: columns an intruder could know.
    k : int or sequence of int, default (2, 3, 5, 10)
        Thresholds for ``records_below_k``.
    missing : {"category", "wildcard", "never"}, default "category"
        How a missing QI value matches (see :func:`idrisk.frequencies`). ``"wildcard"`` is
        sdcMicro's freqCalc rule (alpha = 1): ``f_k`` is then the size of the record's
        matching set, not of a class, so ``min_class_size`` is the smallest matching set
        and the histogram counts records per ``f_k`` value.
    weights : str or array-like, optional
        Sampling weights (a column name or one value per row). Adds the estimated
        population frequency ``F_k`` (sum of the weights over the record's matches, as
        sdcMicro's ``freqCalc``): ``min_Fk`` and ``records_below_k_Fk``.

    Returns
    -------
    KAnonymityResult

    References
    ----------
    .. [1] L. Sweeney, "k-anonymity: a model for protecting privacy", IJUFKS 10(5), 2002.
    .. [2] sdcMicro 5.8.1 ``freqCalc`` (n1, n2).

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"sex": ["F", "F", "M", "M", "F"], "yob": [2012, 2012, 2012, 2013, 2013]})
    >>> res = idrisk.k_anonymity(df, ["sex", "yob"], k=2)
    >>> res.min_class_size, res.n_classes, res.records_below_k, res.n1
    (1, 4, {2: 3}, 3)
    """
    check_missing(missing)
    ks = check_k_values(k)
    frame, enc, qis, _ = _encode_columns(data, quasi_identifiers)
    index = frame.index if frame is not None else enc.index
    n = len(index)
    w = None
    if weights is not None:
        w = check_weights(frame if frame is not None else pd.DataFrame(index=index), weights)
    Fk = None
    if missing == "wildcard":
        enc = _qi_encoding(frame, enc, qis)
        fk, Fk = frequency_arrays(enc, qis, weights=w, missing="wildcard")
        fk = np.asarray(fk, dtype=np.int64)
        n_classes = len(class_ids(enc, qis, "category")[1])
        vals, counts = np.unique(fk, return_counts=True)
        hist = {int(v): int(c) for v, c in zip(vals, counts)}
        unit = "records"
    else:
        gid, sizes = _partition(frame, enc, qis, missing)
        fk = sizes[gid]
        if w is not None:
            Fk = group_sums(gid, len(sizes), w)[gid]
        n_classes = len(sizes)
        bc = np.bincount(sizes)
        nz = np.flatnonzero(bc)
        hist = {int(s): int(bc[s]) for s in nz}
        unit = "classes"
    below = {kk: int(np.count_nonzero(fk < kk)) for kk in ks}
    return KAnonymityResult(
        quasi_identifiers=tuple(qis),
        missing=missing,
        n_records=int(n),
        n_classes=int(n_classes),
        min_class_size=int(fk.min()),
        class_size_histogram=hist,
        histogram_counts=unit,
        records_below_k=below,
        n1=int(np.count_nonzero(fk == 1)),
        n2=int(np.count_nonzero(fk == 2)),
        fk=pd.Series(fk, index=index, name="fk"),
        min_Fk=None if w is None else float(np.min(Fk)),
        records_below_k_Fk=None if w is None else {kk: int(np.count_nonzero(Fk < kk)) for kk in ks},
        Fk=None if w is None else pd.Series(np.asarray(Fk, dtype=np.float64), index=index, name="Fk"),
    )
