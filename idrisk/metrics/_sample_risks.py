"""Re-identification risk under ARX's attacker models, from equivalence-class sizes.

With the key's equivalence classes of sizes :math:`f_1, \\dots, f_u` in the sample of
:math:`n` records (and, for the journalist, sizes :math:`F_k \\ge f_k` of the same keys
in a population table), following El Emam & Dankar (2008) as ARX 3.x implements them
(``RiskModelSampleRisks``, ``RiskModelSampleSummary``, ``RiskModelSampleRiskDistribution``,
``RiskModelAttributes``; definitions in tests/peer/arx/README.md):

* average risk :math:`u / n`; highest risk :math:`1/\\min f_k` (records affected:
  :math:`\\min f \\cdot c_{\\min f} / n`, :math:`c_j` = number of classes of size j);
  lowest risk :math:`1/\\max f_k`; sample uniques :math:`c_1` and :math:`c_1 / n`.
* prosecutor (the intruder knows the person is in the file): records at risk for a
  threshold :math:`\\tau` = :math:`\\sum_{k : 1/f_k > \\tau} f_k / n` (strict ">"),
  highest :math:`1/\\min f_k`, lowest :math:`1/\\max f_k`, success rate :math:`u/n`.
* journalist (the intruder holds the population table, does not know who is sampled):
  the same with :math:`F_k` for the risk, records at risk
  :math:`\\sum_{k : 1/F_k > \\tau} f_k / n`, and success rate
  :math:`\\max(u / \\sum_k F_k,\\; \\tfrac1n \\sum_k f_k / F_k)`. Without a population table
  :math:`F_k = f_k` and it equals the prosecutor's.
* marketer (re-identify as many as possible): success rate :math:`\\tfrac1n\\sum_k f_k/F_k`
  (:math:`u/n` without a population table). ARX defines no per-record threshold or
  highest/lowest risk for this model; those fields are ``None``.
* QI importance (Motwani & Xu 2007): distinction :math:`u/n`; separation = share of
  record pairs that differ on at least one QI =
  :math:`1 - \\sum_k f_k(f_k-1)/2 \\,/\\, (n(n-1)/2)`.
* risk distribution: the share of records whose risk :math:`1/f_k` falls in ARX's buckets
  (upper bounds 1e-8 ... 0.5, 1), and its running sum.

ARX's ``estimated_*_risk`` values are capped by the thresholds of an ARX anonymisation
run; on plain data they equal the highest risk (prosecutor, journalist) and the average
risk (marketer), which is what idrisk reports. Records that ARX suppressed are excluded
from ARX's figures: drop them before calling (the tests do, for ARX's k=5 output).
See ``docs/methods.md#attacker-models`` and ``docs/methods.md#qi-importance``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import pandas as pd

from .._encode import Encoded, encode
from .._results import Result
from .._validation import as_frame, check_columns
from ..exceptions import DataValidationError, InvalidParameterError, PerformanceWarning
from ._classes import check_partition_missing, class_ids, engine_for, resolve

__all__ = ["sample_risks", "sample_risks_of_classes", "SampleRisksResult", "AttackerRisk", "qi_importance",
           "qi_importance_of_classes", "RISK_BUCKETS"]

#: ARX's upper bounds of the risk-distribution buckets (RiskModelSampleRiskDistribution).
RISK_BUCKETS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 0.001, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07,
                0.08, 0.09, 0.1, 0.125, 0.143, 0.167, 0.2, 0.25, 0.334, 0.5, 1.0)

_MAX_QI_IMPORTANCE = 16


@dataclass(frozen=True)
class AttackerRisk(Result):
    """One attacker model's figures (ARX ``RiskModelSampleSummary``).

    Attributes
    ----------
    records_at_risk : dict float -> float, or None
        Threshold -> share of records whose risk exceeds it (strict ">").
    highest_risk, lowest_risk : float or None
    success_rate : float
        Expected share of records re-identified.
    """

    records_at_risk: dict | None
    highest_risk: float | None
    lowest_risk: float | None
    success_rate: float


@dataclass(frozen=True)
class SampleRisksResult(Result):
    """Sample-based re-identification risks for one key (formulas in the module docstring).

    Attributes
    ----------
    quasi_identifiers : tuple of str
    thresholds : tuple of float
    n_records, n_classes : int
    population_records : int or None
        Rows of the population table, if one was given.
    average_risk, highest_risk, lowest_risk : float
    fraction_highest_risk, fraction_lowest_risk : float
        Share of records carrying the highest / lowest risk.
    sample_uniques : int
    sample_uniques_fraction : float
    records_at_risk : dict float -> float
        Prosecutor records at risk (share of records with ``1/f_k > threshold``).
    prosecutor, journalist, marketer : AttackerRisk
    distinction, separation : float
        QI importance of the whole key (see :func:`qi_importance` for every subset).
    risk_distribution : dict
        ``{"upper_thresholds": [...], "fraction": [...], "cumulative": [...]}``.
    """

    quasi_identifiers: tuple
    thresholds: tuple
    n_records: int
    n_classes: int
    population_records: int | None
    average_risk: float
    highest_risk: float
    fraction_highest_risk: float
    lowest_risk: float
    fraction_lowest_risk: float
    sample_uniques: int
    sample_uniques_fraction: float
    records_at_risk: dict
    prosecutor: AttackerRisk
    journalist: AttackerRisk
    marketer: AttackerRisk
    distinction: float
    separation: float
    risk_distribution: dict = field(repr=False)


def _check_thresholds(thresholds) -> tuple:
    if isinstance(thresholds, Real) and not isinstance(thresholds, bool):
        thresholds = (thresholds,)
    try:
        ts = list(thresholds)
    except TypeError:
        raise InvalidParameterError(
            f"thresholds must be a number or a sequence of numbers in [0, 1], got {thresholds!r}") from None
    if not ts:
        raise InvalidParameterError("thresholds must name at least one risk threshold")
    out = []
    for t in ts:
        if isinstance(t, bool) or not isinstance(t, Real) or not math.isfinite(float(t)) or not 0 <= float(t) <= 1:
            raise InvalidParameterError(f"every threshold must be a number in [0, 1], got {t!r}")
        out.append(float(t))
    return tuple(sorted(set(out)))


def _separation(sizes: np.ndarray, n: int) -> float:
    """ARX RiskModelAttributes.getAlphaSeparation over the class-size histogram (0 if n < 2)."""
    hist = np.bincount(sizes)
    total = ((n - 1.0) * n) / 2.0
    left = float(n)
    separated = 0.0
    for size in np.flatnonzero(hist):
        mult = float(hist[size])
        size = float(size)
        left -= size * mult
        separated += mult * size * left + ((mult - 1.0) * mult * (size * size)) / 2.0
    if total == 0:
        return 0.0
    return separated / total


def _risk_distribution(sizes: np.ndarray, n: int) -> dict:
    hist = np.bincount(sizes)
    high = np.asarray(RISK_BUCKETS)
    frac = np.zeros(len(high))
    for size in np.flatnonzero(hist):
        risk = 1.0 / float(size)
        idx = int(np.searchsorted(high, risk, side="left"))
        frac[idx] += float(hist[size] * size) / n
    cum = np.minimum(np.cumsum(frac), 1.0)
    return {"upper_thresholds": list(RISK_BUCKETS), "fraction": frac.tolist(), "cumulative": cum.tolist()}


def _decoded(enc: Encoded, names) -> pd.DataFrame:
    """The values behind the codes of ``names`` (missing as ``<NA>``)."""
    return pd.DataFrame({c: pd.array(enc.levels[c]).take(enc.codes[c], allow_fill=True) for c in names},
                        index=enc.index)


def _population_sizes(frame, population, qis, sample_gid, g, missing):
    """Population class size F_k for each sample class k (0 .. g-1)."""
    pop = as_frame(population, name="population")
    check_columns(pop, qis, role="quasi-identifier (in the population table)")
    for q in qis:
        a, b = frame[q].dtype, pop[q].dtype
        num_a = pd.api.types.is_numeric_dtype(a) and not isinstance(a, pd.CategoricalDtype)
        num_b = pd.api.types.is_numeric_dtype(b) and not isinstance(b, pd.CategoricalDtype)
        if num_a != num_b:
            raise DataValidationError(
                f"quasi-identifier {q!r} is {a} in the data but {b} in the population table: equal "
                "values would not match; convert both to the same type first")
    n = len(frame)
    both = pd.concat([frame[qis].reset_index(drop=True), pop[qis].reset_index(drop=True)],
                     ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample was already checked
        enc = encode(both, qis, warn_identifiers=False)
    gid_all, _ = class_ids(enc, qis, missing)
    # map each sample class to its joint class (classes are identical keys in both)
    joint_of = np.empty(g, dtype=np.int64)
    joint_of[sample_gid] = gid_all[:n]
    F_joint = np.bincount(gid_all[n:], minlength=int(gid_all.max()) + 1)
    return F_joint[joint_of], len(pop)


def sample_risks(data, quasi_identifiers: Sequence, *, population=None,
                 thresholds=(0.05, 0.1, 0.2, 0.5), missing: str = "category") -> SampleRisksResult:
    """Prosecutor, journalist and marketer re-identification risks, as ARX reports them.

    Formulas in the module docstring; every figure matches ARX (snapshot aacd487) on its
    reference outputs (tests/peer/arx).

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow/polars table, or :class:`idrisk.Encoded`)
        The sample (the extract to be shared), one row per record. Not modified.
    quasi_identifiers : sequence of str
    population : pandas.DataFrame, optional
        A population table containing the quasi-identifier columns and every sampled
        record (ARX's "research subset" setting): journalist and marketer risks then use
        its class sizes :math:`F_k`. Each sample class must occur at least as often in
        the population as in the sample (:math:`F_k \\ge f_k`), else the table is not a
        population of this sample and an error is raised.
    thresholds : float or sequence of float in [0, 1], default (0.05, 0.1, 0.2, 0.5)
        Risk thresholds for "records at risk" (strict ">", as ARX).
    missing : {"category", "never"}, default "category"
        Missing quasi-identifier values (see :func:`idrisk.frequencies`); ARX compares the
        text of values, so a missing value is a category of its own there.

    Returns
    -------
    SampleRisksResult

    References
    ----------
    .. [1] K. El Emam, F. K. Dankar, "Protecting privacy using k-anonymity", JAMIA 15(5), 2008.
    .. [2] R. Motwani, Y. Xu, "Efficient algorithms for masking and finding
       quasi-identifiers", VLDB 2007 (distinction, separation).
    .. [3] ARX ``org.deidentifier.arx.risk.RiskModelSampleSummary`` and related classes.

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"la": [201] * 6 + [202] * 2, "yg": [6, 6, 6, 6, 7, 7, 6, 6]})
    >>> res = idrisk.sample_risks(df, ["la", "yg"], thresholds=(0.2, 0.3))
    >>> res.highest_risk, res.average_risk, res.records_at_risk
    (0.5, 0.375, {0.2: 1.0, 0.3: 0.5})
    """
    if (engine := engine_for(data, "sample_risks")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, population=population, thresholds=thresholds, missing=missing)
    check_partition_missing(missing, "sample_risks")
    ts = _check_thresholds(thresholds)
    inp = resolve(data, quasi_identifiers)
    qis = inp.quasi_identifiers
    gid, f = inp.partition(missing)
    F, pop_rows = None, None
    if population is not None:
        frame = inp.frame if inp.frame is not None else _decoded(inp.encoded, qis)
        F, pop_rows = _population_sizes(frame, population, qis, gid, len(f), missing)
    return sample_risks_of_classes(f, qis, thresholds=ts, population_sizes=F,
                                   population_records=pop_rows)


def sample_risks_of_classes(sizes, quasi_identifiers, *, thresholds=(0.05, 0.1, 0.2, 0.5),
                            population_sizes=None, population_records=None) -> SampleRisksResult:
    """:func:`sample_risks` from the class sizes ``f_k`` (int64, one per class, any order).

    ``population_sizes`` are the classes' ``F_k`` (same order) in the research-subset
    setting, with ``population_records`` the population's number of records. The entry
    point for a table already reduced to its classes (``idrisk.spark``).
    """
    f = np.asarray(sizes, dtype=np.int64)
    F = population_sizes
    qis = list(quasi_identifiers)
    ts = _check_thresholds(thresholds)
    n = int(f.sum())
    u = len(f)
    fmin, fmax = int(f.min()), int(f.max())
    hist = np.bincount(f)
    avg = u / n
    rec_at_risk = {t: float(f[1.0 / f > t].sum()) / n for t in ts}
    prosecutor = AttackerRisk(rec_at_risk, 1.0 / fmin, 1.0 / fmax, avg)
    pop_rows = population_records
    if F is None:
        journalist = AttackerRisk(dict(rec_at_risk), 1.0 / fmin, 1.0 / fmax, avg)
        marketer = AttackerRisk(None, None, None, avg)
    else:
        short = F < f
        if short.any():
            raise DataValidationError(
                f"the population table holds fewer records than the sample for {int(short.sum())} "
                f"of {u} quasi-identifier combinations (F_k < f_k; {int((F == 0).sum())} are absent "
                "altogether): it must contain every sampled record, as in ARX's research-subset setting")
        Ff = F.astype(np.float64)
        marketer_rate = float((f / Ff).sum()) / n
        journalist = AttackerRisk(
            {t: float(f[1.0 / Ff > t].sum()) / n for t in ts}, 1.0 / float(F.min()),
            1.0 / float(F.max()), max(u / float(Ff.sum()), marketer_rate))
        marketer = AttackerRisk(None, None, None, marketer_rate)
    return SampleRisksResult(
        quasi_identifiers=tuple(qis), thresholds=ts, n_records=int(n), n_classes=int(u),
        population_records=pop_rows, average_risk=avg, highest_risk=1.0 / fmin,
        fraction_highest_risk=float(fmin * hist[fmin]) / n, lowest_risk=1.0 / fmax,
        fraction_lowest_risk=float(fmax * hist[fmax]) / n,
        sample_uniques=int(hist[1]) if len(hist) > 1 else 0,
        sample_uniques_fraction=(float(hist[1]) if len(hist) > 1 else 0.0) / n,
        records_at_risk=rec_at_risk, prosecutor=prosecutor, journalist=journalist,
        marketer=marketer, distinction=u / n, separation=_separation(f, n),
        risk_distribution=_risk_distribution(f, n))


def qi_importance(data, quasi_identifiers: Sequence, *, missing: str = "category") -> pd.DataFrame:
    """Distinction and separation of every non-empty subset of the quasi-identifiers.

    ARX ``RiskModelAttributes``: distinction :math:`u/n` (share of records a subset turns
    into a key, counted as classes) and separation (share of record pairs it tells
    apart); rows sorted as ARX sorts them: by subset size, distinction, separation, then
    the subset's name list. Names inside a subset follow the data's column order.

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow/polars table, or :class:`idrisk.Encoded`)
    quasi_identifiers : sequence of str
        At most 16 (2**16 - 1 subsets); above 10 a PerformanceWarning is issued.
    missing : {"category", "never"}, default "category"

    Returns
    -------
    pandas.DataFrame with columns ``quasi_identifiers`` (tuple of names),
    ``n_attributes``, ``distinction`` and ``separation``.

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"age": [20, 30, 40, 20, 40], "sex": list("FFFMM"),
    ...                    "state": ["CA", "CA", "TX", "NY", "CA"]})
    >>> from idrisk.metrics import qi_importance
    >>> qi_importance(df, ["age", "sex", "state"]).iloc[0].to_dict()
    {'quasi_identifiers': ('sex',), 'n_attributes': 1, 'distinction': 0.4, 'separation': 0.6}
    """
    if (engine := engine_for(data, "qi_importance")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, missing=missing)
    check_partition_missing(missing, "qi_importance")
    inp = resolve(data, quasi_identifiers)
    frame, qis = inp.frame, inp.quasi_identifiers
    enc = inp.qi_encoding()
    if frame is not None:
        pos = {c: i for i, c in enumerate(frame.columns)}
        qis = sorted(qis, key=lambda c: pos[c])
    return qi_importance_of_classes(qis, enc.n_rows, lambda subset: class_ids(enc, list(subset), missing)[1])


def qi_importance_of_classes(quasi_identifiers: Sequence, n: int, class_sizes) -> pd.DataFrame:
    """The table of :func:`qi_importance` from ``class_sizes(subset)``, the class sizes of a
    subset of the quasi-identifiers (given in the data's column order) over ``n`` records:
    the entry point for a table already reduced to its classes (``idrisk.spark``)."""
    qis = list(quasi_identifiers)
    m = len(qis)
    if m > _MAX_QI_IMPORTANCE:
        raise InvalidParameterError(
            f"qi_importance over {m} quasi-identifiers means {2 ** m - 1:,} subsets; pass at most "
            f"{_MAX_QI_IMPORTANCE} (for example the candidates an intruder is likely to know)")
    if m > 10:
        warnings.warn(f"qi_importance over {m} quasi-identifiers evaluates {2 ** m - 1:,} subsets",
                      PerformanceWarning, stacklevel=3)
    rows = []
    for size in range(1, m + 1):
        for subset in itertools.combinations(qis, size):
            f = class_sizes(subset)
            rows.append((tuple(subset), size, len(f) / n, _separation(f, n)))
    rows.sort(key=lambda r: (r[1], r[2], r[3], "[" + ", ".join(map(str, r[0])) + "]"))
    return pd.DataFrame(rows, columns=["quasi_identifiers", "n_attributes", "distinction", "separation"])
