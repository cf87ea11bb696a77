"""Probabilistic re-identification risk: individual, global and household risk.

Benedetti-Franconi individual risk as computed by sdcMicro 5.8.1 ``measure_risk`` /
``indivRisk`` (Franconi & Polettini 2004), the global risk (expected number of
re-identifications) and the hierarchical (household) risk. See
``docs/methods.md#individual-risk``, ``docs/methods.md#global-risk`` and
``docs/methods.md#household-risk``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd

from .._encode import Encoded, encode
from .._kernels.groups import group_ids
from .._kernels.risk import bf_risk, global_threshold as _global_threshold, household_risk, inverse
from .._results import Result
from .._validation import check_fraction, check_missing
from ..exceptions import DataQualityWarning, DataValidationError, InvalidParameterError
from ._classes import engine_for, resolve
from ._frequencies import frequency_arrays

__all__ = ["individual_risk", "global_risk", "GlobalRiskResult"]

_METHODS = ("approx", "exact")


def _check_method(method):
    if method not in _METHODS:
        raise InvalidParameterError(f"method must be 'approx' or 'exact', got {method!r}")
    return method


def _check_qual(qual):
    if isinstance(qual, bool) or not isinstance(qual, Real) or not math.isfinite(float(qual)) \
            or float(qual) <= 0:
        raise InvalidParameterError(f"qual must be a finite number > 0, got {qual!r}")
    return float(qual)


def _household_codes(data, household):
    """Dense household ids (int64) and their number; missing ids are an error."""
    if not isinstance(household, str) and not np.isscalar(household):
        raise InvalidParameterError(
            f"household must be the name of a column, got {type(household).__name__}")
    if isinstance(data, Encoded):
        if household not in data.codes:
            raise DataValidationError(f"household column not found in the encoded data: {household}")
        enc = data.subset([household])
    else:
        if household not in data.columns:
            raise DataValidationError(
                f"household column not found in the data: {household} "
                f"(available: {', '.join(map(str, data.columns[:30]))})")
        with warnings.catch_warnings():
            # a household id is expected to be nearly unique: that is not an identifier warning here
            warnings.simplefilter("ignore")
            enc = encode(data, [household])
    codes = enc.codes[household]
    n_missing = int((codes < 0).sum())
    if n_missing:
        raise DataValidationError(
            f"household column {household!r} has {n_missing} missing value(s); every record needs a "
            "household id (give single-person households their own id)")
    gid, sizes = group_ids(codes[None, :], np.array([enc.n_levels[household]], dtype=np.int64))
    return gid, len(sizes)


def _resolve_missing(missing, enc: Encoded, qis) -> str:
    """``missing`` as given, or ``"category"`` with a FutureWarning when it matters."""
    if missing is not None:
        return check_missing(missing)
    if any(enc.n_levels[c] == 0 or enc.codes[c].min() < 0 for c in qis):
        warnings.warn(
            "the quasi-identifiers hold missing values and the default of missing changed from "
            "'wildcard' to 'category' (a missing value is one more category); pass "
            "missing='wildcard' for sdcMicro's measure_risk numbers, or missing='category' to "
            "silence this warning", FutureWarning, stacklevel=4)
    return "category"


def _bf_risk(fk, Fk, method, qual):
    """Benedetti-Franconi risk from fk and Fk (float64), warning about Fk < fk."""
    below = int(np.count_nonzero(Fk < fk))
    if below:
        warnings.warn(
            f"{below} record(s) have an estimated population frequency Fk below their sample "
            "frequency fk (weights below 1): the Benedetti-Franconi model does not apply, so "
            "their risk is set to 1/fk (as if Fk = fk)",
            DataQualityWarning, stacklevel=4)
    if method == "exact":
        # the series is costlier: evaluate once per distinct (fk, Fk) pair
        pairs, inv = np.unique(fk + 1j * Fk, return_inverse=True)
        per = bf_risk(np.ascontiguousarray(pairs.real), np.ascontiguousarray(pairs.imag), True, qual)
        return per[inv.ravel()]
    return bf_risk(fk, Fk, False, qual)


def _risk_arrays(data, quasi_identifiers, weights, method, household, missing, alpha, qual):
    """Validate, then return (index, fk, Fk, risk, household_risk or None, weighted)."""
    if missing is not None:
        check_missing(missing)
    method = _check_method(method)
    alpha = check_fraction(alpha, name="alpha")
    qual = _check_qual(qual)
    inp = resolve(data, quasi_identifiers, weights=weights)
    qis, w = inp.quasi_identifiers, inp.weights
    hh = None
    if household is not None:
        hh = _household_codes(inp.frame if inp.frame is not None else data, household)
    enc = inp.qi_encoding()
    missing = _resolve_missing(missing, enc, qis)
    fk, Fk = frequency_arrays(enc, qis, weights=w, missing=missing, alpha=alpha)
    fkf = np.ascontiguousarray(fk, dtype=np.float64)
    if w is None:
        # sdcMicro indivRisk(survey = FALSE): no sampling model, r = 1/fk (method and qual unused)
        risk = inverse(fkf)
    else:
        risk = _bf_risk(fkf, np.ascontiguousarray(Fk, dtype=np.float64), method, qual)
    hrisk = household_risk(hh[0], hh[1], risk) if hh is not None else None
    return inp.index, fk, Fk, risk, hrisk, w is not None


def individual_risk(data, quasi_identifiers, *, weights=None, method: str = "approx",
                    household: str | None = None, missing: str | None = None, alpha: float = 1.0,
                    qual: float = 1.0) -> pd.DataFrame:
    r"""Benedetti-Franconi individual re-identification risk of every record.

    Given the sample frequency :math:`f_k` of a record's key and the estimated
    population frequency :math:`\hat F_k` (sum of the weights of the matching records),
    the population frequency is modelled as :math:`f_k + Y`, :math:`Y \sim
    \mathrm{NegBin}(f_k, p_k)`, :math:`p_k = f_k/\hat F_k`, :math:`q_k = 1 - p_k`, and the
    risk is the posterior mean

    .. math:: r_k = E[1/F_k \mid f_k] = \sum_{h \ge f_k} \frac1h \binom{h-1}{f_k-1}
              p_k^{f_k} q_k^{h-f_k} = p_k \int_0^1 \frac{u^{f_k-1}}{p_k + q_k u}\,du .

    Closed forms (sdcMicro ``indivRisk``): :math:`f=1`: :math:`(p/q)\ln(1/p)`;
    :math:`f=2`: :math:`p/q - (p/q)^2\ln(1/p)`; :math:`f>2`, ``method="approx"``:
    :math:`p/(f-q)`; ``method="exact"``: the series itself. Then :math:`r = 1/f_k` where
    :math:`f_k = \hat F_k`, and :math:`r \leftarrow \mathrm{qual}\cdot r`. Without
    weights there is no sampling model and :math:`r = 1/f_k` (sdcMicro
    ``survey=FALSE``; ``method`` and ``qual`` are not used).

    Matches sdcMicro 5.8.1 ``measure_risk(data, keyVars, w, hid)`` (``risk``, ``fk``,
    ``Fk``, ``hier_risk``) and ``indivRisk(freqCalc(...), method, qual)`` to 1e-9
    relative on every reference file, with these deliberate differences:

    * ``method="exact"`` is evaluated by a cancellation-free quadrature of the integral
      above (accurate to ~1e-15), where sdcMicro's alternating closed form overflows to
      NaN for large classes (e.g. f = 176 at p = 0.01): idrisk returns the value.
    * Fractional :math:`f_k` (``alpha < 1``): sdcMicro's formula has branches only for
      f = 1, f = 2 and f > 2, so 1 < f < 2 gets risk **0**, which understates the risk.
      idrisk evaluates the same model at real :math:`f` (the integral above is defined
      for any f > 0) for those records; f > 2 uses :math:`p/(f-q)` like sdcMicro.
    * :math:`\hat F_k < f_k` (weights below 1) makes the model meaningless (sdcMicro
      returns negative or NaN values); idrisk warns and uses :math:`r = 1/f_k`.

    Household (hierarchical) risk, when ``household`` names a column:
    :math:`r_h = 1 - \prod_{i \in h}(1 - r_i)`, the probability that at least one member
    is re-identified, assigned to every member (sdcMicro ``hier_risk``).

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow/polars table, or :class:`idrisk.Encoded`)
        One row per record. Not modified.
    quasi_identifiers : sequence of str
        The key variables.
    weights : str or array-like, optional
        Sampling weights (column name or one value per row), finite and non-negative.
        Weights below 1 are warned about (they make :math:`\hat F_k < f_k`).
    method : {"approx", "exact"}, default "approx"
        sdcMicro's approximation for f > 2 (what ``measure_risk`` uses) or the exact model.
    household : str, optional
        Column holding household (cluster) ids; missing ids are an error.
    missing : {"category", "wildcard", "never"}, default "category"
        How a missing key value matches (see :func:`idrisk.frequencies`);
        ``"wildcard"`` is sdcMicro's ``freqCalc`` rule, which ``measure_risk`` uses. The
        default was ``"wildcard"``: when the quasi-identifiers hold missing values and
        ``missing`` is not given, a FutureWarning says so.
    alpha : float in [0, 1], default 1
        sdcMicro's down-weighting of wildcard matches with other records' missing values.
    qual : float > 0, default 1
        sdcMicro's final correction factor (risks can exceed 1 when ``qual > 1``).

    Returns
    -------
    pandas.DataFrame indexed like ``data`` with columns ``fk``, ``Fk``, ``risk`` and, when
    ``household`` is given, ``household_risk``.

    References
    ----------
    .. [1] Franconi, L. and Polettini, S. (2004) Individual risk estimation in mu-Argus:
       a review. PSD 2004, LNCS 3050, 262-272.
    .. [2] Templ, M., Kowarik, A., Meindl, B. (2015) Statistical Disclosure Control for
       Micro-Data Using the R Package sdcMicro. JSS 67(4).

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"a": [1, 1, 2], "w": [10.0, 10.0, 5.0]})
    >>> idrisk.individual_risk(df, ["a"], weights="w")["risk"].round(6).tolist()
    [0.082684, 0.082684, 0.402359]
    """
    if (engine := engine_for(data, "individual_risk")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, weights=weights, method=method, household=household, missing=missing,
                      alpha=alpha, qual=qual)
    index, fk, Fk, risk, hrisk, weighted = _risk_arrays(
        data, quasi_identifiers, weights, method, household, missing, alpha, qual)
    out = pd.DataFrame({"fk": fk, "Fk": Fk if weighted else np.array(Fk, copy=True), "risk": risk},
                       index=index)
    if hrisk is not None:
        out["household_risk"] = hrisk
    return out


@dataclass(frozen=True)
class GlobalRiskResult(Result):
    """Global (file-level) re-identification risk, as sdcMicro ``measure_risk`` reports it.

    Attributes
    ----------
    n_records : int
    expected_reidentifications : float
        :math:`ER = \\sum_i r_i` (sdcMicro ``global_risk_ER``).
    global_risk : float
        :math:`ER / n` (sdcMicro ``global_risk``); ``global_risk_pct`` is 100 times it.
    household_expected_reidentifications, household_global_risk, household_global_risk_pct
        The same with every record's household risk (sdcMicro ``hier_risk_ER``,
        ``hier_risk``, ``hier_risk_pct``: summed over records, not households); None
        without ``household``.
    global_threshold : float or None
        sdcMicro's individual-risk threshold for ``max_global_risk`` (the largest risk
        level x such that capping every risk above x at x brings ER below
        ``max_global_risk * n``); None when the file is already below that target
        (sdcMicro NA), 0 when no level works.
    """

    n_records: int
    method: str
    weighted: bool
    expected_reidentifications: float
    global_risk: float
    global_risk_pct: float
    max_global_risk: float
    global_threshold: float | None
    household_expected_reidentifications: float | None = None
    household_global_risk: float | None = None
    household_global_risk_pct: float | None = None


def _threshold(risk: np.ndarray, max_global_risk: float) -> float | None:
    desc = np.ascontiguousarray(np.sort(risk)[::-1])
    thr, unsafe = _global_threshold(desc, max_global_risk)
    # sdcMicro: NA when threshold, safe and unsafe levels all coincide
    if thr == unsafe:
        return None
    return float(thr)


def global_risk(data, quasi_identifiers, *, weights=None, method: str = "approx",
                household: str | None = None, missing: str | None = None, alpha: float = 1.0,
                qual: float = 1.0, max_global_risk: float = 0.01) -> GlobalRiskResult:
    r"""Expected number of re-identifications and global risk (sdcMicro ``measure_risk``).

    :math:`ER = \sum_i r_i` over the individual risks of :func:`individual_risk` (same
    arguments and conventions), ``global_risk = ER / n``; with ``household``,
    :math:`ER_h = \sum_i r_{h(i)}` over records and ``household_global_risk = ER_h / n``.
    ``global_threshold`` is sdcMicro's threshold for ``max_global_risk`` (see
    :class:`GlobalRiskResult`). Matches sdcMicro 5.8.1 to 1e-9 relative on every
    ``measure_risk`` reference file.

    Parameters
    ----------
    data, quasi_identifiers, weights, method, household, missing, alpha, qual
        As in :func:`individual_risk`.
    max_global_risk : float in (0, 1), default 0.01
        Target global risk for ``global_threshold``.

    Returns
    -------
    GlobalRiskResult

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"a": [1, 1, 2, 3]})
    >>> idrisk.global_risk(df, ["a"]).expected_reidentifications
    3.0
    """
    if (engine := engine_for(data, "global_risk")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, weights=weights, method=method, household=household, missing=missing,
                      alpha=alpha, qual=qual, max_global_risk=max_global_risk)
    mgr = check_fraction(max_global_risk, name="max_global_risk", low_open=True, high_open=True)
    _, fk, Fk, risk, hrisk, weighted = _risk_arrays(
        data, quasi_identifiers, weights, method, household, missing, alpha, qual)
    n = len(risk)
    er = float(risk.sum())
    kw = {}
    if hrisk is not None:
        her = float(hrisk.sum())
        kw = dict(household_expected_reidentifications=her, household_global_risk=her / n,
                  household_global_risk_pct=100.0 * her / n)
    return GlobalRiskResult(
        n_records=n, method=method, weighted=weighted, expected_reidentifications=er,
        global_risk=er / n, global_risk_pct=100.0 * er / n, max_global_risk=mgr,
        global_threshold=_threshold(risk, mgr), **kw)
