"""The equivalence-class layer every metric shares: input resolution and the partition.

Records that agree on every quasi-identifier form an equivalence class
(``docs/methods.md#frequencies``); how a missing value matches is the missing-value
convention (``docs/methods.md#missing-values``). ``"category"`` and ``"never"`` partition
the records into classes; ``"wildcard"`` (sdcMicro's ``freqCalc`` rule) gives every record
its own, overlapping, matching set and so no partition: the metrics that need classes
refuse it through :func:`check_partition_missing`.

:func:`resolve` turns what a user passed (a frame, a pyarrow or polars table, or an
:class:`idrisk.Encoded`) and the column lists into a :class:`ClassInput`, reporting every
problem with the columns and weights in one error. :meth:`ClassInput.partition` gives the
classes, from a frame by the encoding layer's fused path (:func:`idrisk._encode.key_columns`)
and from an :class:`~idrisk.Encoded` by :func:`class_ids`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._encode import Encoded, KeyColumn, encode, key_columns
from .._kernels.groups import group_ids_columns
from .._validation import as_column_list, as_frame, check_missing, check_weights, several_columns
from ..exceptions import DataValidationError, IdRiskWarning, InvalidParameterError

__all__ = ["ClassInput", "resolve", "class_ids", "check_partition_missing", "encoded_key_columns",
           "register_engine", "engine_for"]

#: table engines by the top-level module of their frame type (``"pyspark"``), filled by
#: :func:`register_engine` (``idrisk.spark`` registers itself when idrisk is imported)
_ENGINES: dict = {}


def register_engine(top_module: str, engine) -> None:
    """Route the metrics' frames whose type lives in ``top_module`` to ``engine``.

    ``engine`` has one attribute per metric (``engine.k_anonymity`` ...) taking the
    same arguments as the metric. The check costs one string test per call and imports
    nothing, so idrisk runs without the engine's library installed.
    """
    _ENGINES[top_module] = engine


def engine_for(data, metric: str):
    """The engine's implementation of ``metric`` for ``data``, or None for local data.

    A Spark DataFrame (its type's module starts with ``"pyspark"``) goes to the
    ``idrisk.spark`` engine; a metric it does not implement is refused, never run on a
    collected copy.
    """
    top = type(data).__module__.split(".", 1)[0]
    if top not in _ENGINES:
        if top == "pyspark":
            raise DataValidationError(
                f"{metric} got a Spark DataFrame: import idrisk.spark first (or call "
                f"idrisk.{metric}), which routes Spark tables to their engine")
        return None
    fn = getattr(_ENGINES[top], metric, None)
    if fn is None:
        raise DataValidationError(
            f"{metric} does not accept a {top} DataFrame yet; reduce the table or pass a pandas frame")
    return fn


def check_partition_missing(missing: str, what: str) -> str:
    """``missing`` for a metric that needs equivalence classes: ``"category"`` or ``"never"``."""
    if missing == "wildcard":
        raise InvalidParameterError(
            f"{what} needs equivalence classes, and missing='wildcard' (sdcMicro freqCalc "
            "matching) does not partition records into classes; use missing='category' "
            "(NA == NA, as sdcMicro's ldiversity groups) or missing='never'")
    return check_missing(missing)


def encoded_key_columns(enc: Encoded, names, *, find_missing: bool = False) -> list[KeyColumn]:
    """Encoded codes as key columns: a missing code (-1) is one more value.

    ``has_missing`` costs a pass over each column, so it is only looked up with
    ``find_missing=True``; otherwise it is False (the grouping does not need it).
    """
    return [KeyColumn(enc.codes[c], -1, enc.n_levels[c] + 1,
                      bool(find_missing and (enc.n_levels[c] == 0 or enc.codes[c].min() < 0)))
            for c in names]


def class_ids(data: Encoded, quasi_identifiers, missing: str = "category"):
    """Dense equivalence-class ids and sizes over ``quasi_identifiers`` of an :class:`Encoded`.

    Returns ``(gid, sizes)``: ``gid`` int64, one id per record in ``0 .. g-1`` in order of
    first appearance, and ``sizes`` int64 of length g. ``missing`` is ``"category"`` or
    ``"never"`` (every record with a missing quasi-identifier is then its own class);
    ``"wildcard"`` is refused (it does not partition).
    """
    check_partition_missing(missing, "class_ids")
    enc = data
    qis = list(quasi_identifiers)
    n = enc.n_rows
    columns = encoded_key_columns(enc, qis)
    if missing == "never":
        anymiss = np.zeros(n, dtype=bool)
        for c in qis:
            anymiss |= enc.codes[c] < 0
        n_any = int(anymiss.sum())
        if n_any:
            # rows with a missing value get a unique extra code on a synthetic column
            extra = np.zeros(n, dtype=np.int64)
            extra[anymiss] = np.arange(1, n_any + 1, dtype=np.int64)
            columns.append(KeyColumn(extra, 0, n_any + 1, False))
    return group_ids_columns(columns, n)


class ClassInput:
    """Resolved input of a metric: the data, its key columns and weights (from :func:`resolve`).

    Attributes
    ----------
    frame : pandas.DataFrame or None
        The data when a frame (or table) was passed.
    encoded : Encoded or None
        The data when an :class:`~idrisk.Encoded` was passed (restricted to the columns used).
    quasi_identifiers, extra : list
        The key columns and the other columns the metric reads (sensitive columns).
    index : pandas.Index
        The data's index (results are indexed like it).
    weights : numpy.ndarray or None
        Checked sampling weights (float64), when given.
    """

    def __init__(self, frame, encoded, quasi_identifiers, extra, weights):
        self.frame = frame
        self.encoded = encoded
        self.quasi_identifiers = quasi_identifiers
        self.extra = extra
        self.weights = weights
        self.index = frame.index if frame is not None else encoded.index

    @property
    def n_rows(self) -> int:
        return len(self.index)

    def qi_encoding(self) -> Encoded:
        """The quasi-identifiers encoded (warns like :func:`idrisk.encode` for a frame)."""
        if self.frame is None:
            return self.encoded.subset(self.quasi_identifiers)
        return encode(self.frame, self.quasi_identifiers)

    def extra_encoding(self) -> Encoded:
        """The extra (sensitive) columns encoded, without identifier warnings."""
        if self.frame is None:
            return self.encoded.subset(self.extra)
        return encode(self.frame, self.extra, warn_identifiers=False)

    def key_columns(self) -> list[KeyColumn]:
        """The quasi-identifiers as grouping key columns (a missing value is one more value)."""
        if self.frame is None:
            return encoded_key_columns(self.encoded, self.quasi_identifiers, find_missing=True)
        return key_columns(self.frame, self.quasi_identifiers)

    def partition(self, missing: str = "category", *, small_ids: bool = False):
        """Equivalence classes ``(gid, sizes)`` for ``"category"`` or ``"never"``.

        ``gid`` int64 ids ``0 .. g-1`` in order of first appearance, ``sizes`` int64 (g,).
        From a frame this takes the fused path of the encoding layer (raw integer, boolean
        and categorical columns are folded without building codes); it warns like
        :func:`idrisk.encode`. With ``small_ids`` the ids of that path stay int32 (no
        int64 copy) and are numbered in the order of the folded key rather than of first
        appearance (on threads), for callers that only index with them.
        """
        check_partition_missing(missing, "a partition into classes")
        qis = self.quasi_identifiers
        if self.frame is None:
            return class_ids(self.encoded, qis, missing)
        cols = key_columns(self.frame, qis)
        if missing == "category" or not any(c.has_missing for c in cols):
            return group_ids_columns(cols, self.n_rows, ids_dtype=np.int32 if small_ids else np.int64,
                                     first_appearance=not small_ids)
        with warnings.catch_warnings():  # key_columns has warned about these columns already
            warnings.simplefilter("ignore", IdRiskWarning)
            enc = encode(self.frame, qis, warn_identifiers=False)
        return class_ids(enc, qis, missing)


def _absent_message(absent, extra, extra_role, encoded: bool) -> str:
    where = "the encoded data" if encoded else "the data"
    role = f"quasi-identifier or {extra_role}" if extra else "quasi-identifier"
    return f"{role} column{'s' if len(absent) > 1 else ''} not found in {where}: {', '.join(absent)}"


def _available(columns) -> str:
    cols = list(columns)
    more = ", ..." if len(cols) > 30 else ""
    return f" (available: {', '.join(map(str, cols[:30]))}{more})"


def resolve(data, quasi_identifiers, extra=(), *, extra_role: str = "sensitive",
            weights=None) -> ClassInput:
    """Check a metric's input and resolve it to a :class:`ClassInput`.

    ``data`` is a pandas frame, a pyarrow or polars table, or an :class:`~idrisk.Encoded`.
    Errors in the column lists themselves (none given, a name given twice) raise
    :class:`~idrisk.exceptions.InvalidParameterError`; every problem with the data
    (absent quasi-identifier, ``extra`` or weight columns, a column listed both as a
    quasi-identifier and in ``extra``, a weight column name with encoded data) is
    reported in one :class:`~idrisk.exceptions.DataValidationError`. Weights are then
    checked (:func:`idrisk._validation.check_weights`).
    """
    top = type(data).__module__.split(".", 1)[0]
    if top in _ENGINES:
        raise DataValidationError(
            f"this function does not accept a {top} DataFrame yet; reduce the table or pass a pandas frame")
    is_encoded = isinstance(data, Encoded)
    frame = None if is_encoded else as_frame(data)
    qis = as_column_list(quasi_identifiers, role="quasi-identifier")
    extra = as_column_list(extra, role=extra_role, allow_empty=True)
    columns = data.codes if is_encoded else frame.columns
    problems = []
    absent = [str(c) for c in [*qis, *[c for c in extra if c not in qis]] if c not in columns]
    if absent:
        problems.append(_absent_message(absent, extra, extra_role, is_encoded)
                        + ("" if is_encoded else _available(frame.columns)))
    several = None if is_encoded else several_columns(frame, [*qis, *extra], role="column")
    if several:
        problems.append(several)
    both = [str(c) for c in extra if c in set(qis)]
    if both:
        problems.append(
            f"column{'s' if len(both) > 1 else ''} {', '.join(both)} listed both as quasi-identifier "
            f"and as {extra_role} attribute: an attribute the intruder already knows cannot be "
            "disclosed to them; remove it from one of the two lists")
    if isinstance(weights, str):
        if is_encoded:
            problems.append("weights must be an array of one weight per row when data is already encoded")
        elif weights not in frame.columns:
            problems.append(f"weight column not found in the data: {weights}")
    if problems:
        raise DataValidationError("; ".join(problems))
    index = data.index if is_encoded else frame.index
    w = check_weights(frame if frame is not None else pd.DataFrame(index=index), weights)
    enc = data.subset([*qis, *[c for c in extra if c not in qis]]) if is_encoded else None
    return ClassInput(frame, enc, qis, extra, w)
