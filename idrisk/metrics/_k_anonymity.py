"""k-anonymity: equivalence-class sizes over the quasi-identifiers and who falls below k.

Records that share values on every quasi-identifier (QI) form an equivalence class; its
size is the sample frequency ``f_k`` of the key. The data are k-anonymous on the key iff
every record's ``f_k >= k`` (Sweeney 2002). ``n1`` and ``n2`` are sdcMicro's counts of
records with ``f_k == 1`` (violating 2-anonymity) and ``f_k == 2``; ``n1 + n2`` records
violate 3-anonymity (sdcMicro ``print.freqCalc``). See ``docs/methods.md#k-anonymity``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._kernels.groups import group_sums
from .._results import RECORD_LEVEL, Result
from .._validation import check_k_values, check_missing
from ._classes import class_ids, engine_for, resolve
from ._frequencies import frequency_arrays

__all__ = ["k_anonymity", "KAnonymityResult"]


@dataclass(frozen=True)
class KAnonymityResult(Result):
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
    fk: pd.Series = field(repr=False, compare=False, metadata=RECORD_LEVEL)
    min_Fk: float | None = None
    records_below_k_Fk: dict | None = None
    Fk: pd.Series | None = field(default=None, repr=False, compare=False, metadata=RECORD_LEVEL)

    def is_k_anonymous(self, k: int) -> bool:
        """True iff every record's ``f_k >= k``."""
        k = check_k_values(k)[0]
        return bool(self.min_class_size >= k)


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

    See ``docs/methods.md#k-anonymity``.

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"sex": ["F", "F", "M", "M", "F"], "yob": [2012, 2012, 2012, 2013, 2013]})
    >>> res = idrisk.k_anonymity(df, ["sex", "yob"], k=2)
    >>> res.min_class_size, res.n_classes, res.records_below_k, res.n1
    (1, 4, {2: 3}, 3)
    """
    if (engine := engine_for(data, "k_anonymity")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, k=k, missing=missing, weights=weights)
    check_missing(missing)
    ks = check_k_values(k)
    inp = resolve(data, quasi_identifiers, weights=weights)
    qis, w, n = inp.quasi_identifiers, inp.weights, inp.n_rows
    Fk = None
    if missing == "wildcard":
        enc = inp.qi_encoding()
        fk, Fk = frequency_arrays(enc, qis, weights=w, missing="wildcard")
        fk = np.asarray(fk, dtype=np.int64)
        n_classes = len(class_ids(enc, qis, "category")[1])
        vals, counts = np.unique(fk, return_counts=True)
        hist = {int(v): int(c) for v, c in zip(vals, counts)}
        unit = "records"
    else:
        gid, sizes = inp.partition(missing)
        fk = sizes[gid]
        if w is not None:
            Fk = group_sums(gid, len(sizes), w)[gid]
        n_classes = len(sizes)
        bc = np.bincount(sizes)
        hist = {int(s): int(bc[s]) for s in np.flatnonzero(bc)}
        unit = "classes"
    index = inp.index
    return KAnonymityResult(
        quasi_identifiers=tuple(qis),
        missing=missing,
        n_records=int(n),
        n_classes=int(n_classes),
        min_class_size=int(fk.min()),
        class_size_histogram=hist,
        histogram_counts=unit,
        records_below_k={kk: int(np.count_nonzero(fk < kk)) for kk in ks},
        n1=int(np.count_nonzero(fk == 1)),
        n2=int(np.count_nonzero(fk == 2)),
        fk=pd.Series(fk, index=index, name="fk"),
        min_Fk=None if w is None else float(np.min(Fk)),
        records_below_k_Fk=None if w is None else {kk: int(np.count_nonzero(Fk < kk)) for kk in ks},
        Fk=None if w is None else pd.Series(np.asarray(Fk, dtype=np.float64), index=index, name="Fk"),
    )
