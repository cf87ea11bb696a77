"""Population uniqueness from a sample: Zayatz, Pitman, SNB and Dankar's rule (ARX semantics),
and the Skinner-Elliot probability that a unique match is correct.

All estimators use only the sample's equivalence-class histogram ``c_j`` (number of
classes of size ``j``, exact matching; a missing value is one more category, as in
ARX where every value is read as a string), ``u = sum_j c_j`` classes, ``n`` records,
the population size ``N`` and the sampling fraction ``pi = n / N``. See
``docs/methods.md#population-uniqueness`` and ``docs/methods.md#skinner-elliot``.

:func:`skinner_elliot` is the one place of the Skinner-Elliot formula: the file-level DIS
of :func:`idrisk.suda` and the intruder's comparison value use it through
:func:`unique_match_probability`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np

from .._kernels.risk import pitman_system
from .._results import Result
from ..exceptions import DataValidationError, InvalidParameterError
from ._classes import engine_for, resolve

__all__ = ["population_uniqueness", "PopulationUniquenessResult", "unique_match_probability",
           "uniqueness_from_histogram", "skinner_elliot"]

_MODELS = ("zayatz", "pitman", "snb")


@dataclass(frozen=True)
class PopulationUniquenessResult(Result):
    """Estimated number of population uniques under several models (ARX semantics).

    Attributes
    ----------
    population_size, sample_size : int
    sampling_fraction : float
        ``sample_size / population_size``.
    sample_uniques : int
        ``c_1``, classes (= records) of size 1 in the sample.
    n_classes : int
    zayatz, pitman, snb, dankar : float or None
        Estimated number of population uniques; None when the model failed, with the
        reason in ``reasons[model]``.
    dankar_model : str or None
        The model Dankar's rule chose ("zayatz", "pitman", "snb"); None when there are
        no sample uniques (every estimate is then 0).
    reasons : dict
        Why a model gave None (or a note, such as the census collapse).
    pitman_parameters, snb_parameters : dict
        Fitted (theta, alpha) and (K, alpha, beta), when the fit converged.
    """

    population_size: int
    sample_size: int
    sampling_fraction: float
    sample_uniques: int
    n_classes: int
    zayatz: float | None
    pitman: float | None
    snb: float | None
    dankar: float | None
    dankar_model: str | None
    reasons: dict = field(default_factory=dict)
    pitman_parameters: dict = field(default_factory=dict)
    snb_parameters: dict = field(default_factory=dict)

    def fraction(self, model: str = "dankar") -> float | None:
        """Estimated share of the population that is unique under ``model``."""
        v = getattr(self, model)
        return None if v is None else v / self.population_size

    def _extra_dict(self) -> dict:
        return {f"{m}_fraction": self.fraction(m) for m in _MODELS + ("dankar",)}


# ---------------------------------------------------------------------------------------
# estimators on a histogram
# ---------------------------------------------------------------------------------------

def _zayatz(sizes, counts, n, N):
    """Zayatz (1991) as ARX computes it.

    With ``h(j)`` the hypergeometric P(X = 1) for population N, j successes, n draws,
    ``P = (c1/u) h(1) / sum_j (c_j/u) h(j)`` and the estimate ``c1 * P / pi``. Since
    ``h(1) = pi`` this is ``c1^2 / (pi * sum_j c_j h(j)/h(1))``, and
    ``h(j)/h(1) = j * prod_{i=1}^{j-1} (N-n+1-i)/(N-i)`` is summed in logs (no
    cancellation between huge log-gamma values).
    """
    c1 = counts[sizes == 1].sum()
    total = 0.0
    for j, c in zip(sizes.tolist(), counts.tolist()):
        if j == 1:
            total += c
            continue
        i = np.arange(1, j, dtype=np.float64)
        num = N - n + 1 - i
        if np.any(num <= 0):
            continue                                  # h(j) = 0: a class of j cannot give 1 of n
        total += c * j * math.exp(float(np.sum(np.log1p(-(n - 1) / (N - i)))))
    return float(c1) * float(c1) / (total * (n / N))


def _pitman_equations(theta, alpha, u, n, surv):
    """Pitman ML estimating equations and Jacobian (see ``_kernels.risk.pitman_system``)."""
    e1, e2, j11, j12, j22, _, _ = pitman_system(float(theta), float(alpha), int(u), int(n), surv)
    return np.array([e1, e2]), np.array([[j11, j12], [j12, j22]])


def _pitman(sizes, counts, n, N):
    """Pitman model fitted by maximum likelihood (Newton-Raphson from ARX's start values).

    Returns (estimate or None, reason, params).
    """
    c1 = float(counts[sizes == 1].sum())
    c2 = float(counts[sizes == 2].sum())
    u = int(counts.sum())
    if u == n:
        return None, "every record is a sample unique: the Pitman likelihood has no maximum " \
                     "(theta diverges)", {}
    if u < 2:
        return None, "fewer than two equivalence classes: the Pitman model cannot be fitted", {}
    # ARX initial guess (Hoshino 2001)
    c2s = c2 if c2 != 0 else 1.0
    c = c1 * (c1 - 1) / c2s
    den = (2 * c1 * u + c1 * c) - n * c
    t = ((n * u * c) - (c1 * (n - 1) * (2 * u + c))) / den if den != 0 else 1.0
    a = ((t * (c1 - n)) + ((n - 1) * c1)) / (n * u)
    maxs = int(sizes.max())
    # surv[l-1] = number of classes larger than l, l = 1 .. max size - 1
    per_size = np.zeros(maxs + 1, dtype=np.float64)
    per_size[sizes] = counts
    surv = np.ascontiguousarray(np.cumsum(per_size[::-1])[::-1][2:], dtype=np.float64)
    starts = [(t, a), (1.0, 0.5), (100.0, 0.5), (10.0, 0.9)]
    for t0, a0 in starts:
        x = np.array([t0, a0], dtype=np.float64)
        y = x
        if not (np.all(np.isfinite(x)) and 0.0 < x[1] < 1.0 and x[0] > -x[1]):
            continue
        for _ in range(100):
            e, J = _pitman_equations(x[0], x[1], u, n, surv)
            try:
                step = np.linalg.solve(J, -e)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(step)):
                break
            # plain Newton steps, halved only to stay inside the parameter space
            lam = 1.0
            while lam > 1e-6:
                y = x + lam * step
                if 0.0 < y[1] < 1.0 and y[0] > -y[1]:
                    break
                lam *= 0.5
            else:
                break
            x = y
            if x[0] > 1e12:                      # theta diverging: no interior maximum
                break
            if np.max(np.abs(lam * step)) <= 1e-13 * max(1.0, np.max(np.abs(x))):
                break
        # accept only a genuine root: residuals small relative to the size of the sums
        # (both equations tend to 0 as theta -> infinity, so absolute smallness is not enough)
        e1, e2, _, _, _, s1, s2 = pitman_system(float(x[0]), float(x[1]), u, n, surv)
        ok = bool(np.isfinite(e1) and np.isfinite(e2) and abs(e1) < 1e-9 * s1
                  and abs(e2) < 1e-9 * max(s2, 1e-300) and x[0] < 1e12)
        if ok:
            theta, alpha = float(x[0]), float(x[1])
            params = {"theta": theta, "alpha": alpha}
            if alpha == 0:
                return None, "Pitman fit gave alpha = 0 (no uniques model)", params
            from scipy.special import gammaln  # scipy loads on first use, not with idrisk.metrics

            est = math.exp(float(gammaln(theta + 1.0) - gammaln(theta + alpha)) + alpha * math.log(N))
            if not (0.0 <= est <= N):
                return None, f"Pitman estimate {est:.6g} is outside [0, N]", params
            return est, "", params
    return None, ("Newton-Raphson for the Pitman likelihood equations did not converge to a root "
                  "with 0 < alpha < 1 and theta > -alpha (typically the likelihood increases "
                  "without bound as theta grows, i.e. the sample looks like a finite number of "
                  "population classes)"), {}


def _snb_k(sizes, counts, u, c1, f):
    """ARX's Shlosser-type estimate of the number of non-empty population classes (as coded)."""
    j = sizes.astype(np.float64)
    c = counts.astype(np.float64)
    f2 = f * f
    v1 = np.sum(j * f2 * (1 - f2) ** (j - 1) * c)
    # ARX codes (1-f)^j c (1+f)^j - 1, which overflows for large classes; (1-f^2)^j is the same
    v2 = np.sum(c * (1 - f2) ** j - 1.0)
    v3 = np.sum((1 - f) ** j * c)
    v4 = np.sum(j * f * (1 - f) ** (j - 1) * c)
    return u + c1 * (v1 / v2) * (v3 / v4) ** 2


def snb_equations(a, b, K, f, c1, c2):
    """The two SNB estimating equations exactly as ARX codes them (zero at the solution)."""
    d = (1 - f) * (1 - b)
    e1 = K * f * (b / (1 - d)) ** a * ((a * d) / (1 - d) + 1) - c1
    e2 = K * a * b ** a * (f * f) * (1 - b) / 2 * (1 - d) ** (a + 2) * (2 - (1 - a) * d) - c2
    return np.array([e1, e2])


def _snb(sizes, counts, n, N):
    """Slide negative binomial model (Chen & Keller-McNulty 1998) as coded in ARX.

    Returns (estimate or None, reason, params).
    """
    c1 = float(counts[sizes == 1].sum())
    c2 = float(counts[sizes == 2].sum())
    u = float(counts.sum())
    f = n / N
    K = _snb_k(sizes, counts, u, c1, f)
    if not math.isfinite(K) or K <= 0:
        return None, f"SNB: the estimate of the number of population classes is {K!r}", {}
    if c2 == 0:
        return None, "SNB needs classes of size 2 in the sample (c2 = 0)", {"K": K}

    from scipy import optimize  # scipy loads on first use, not with idrisk.metrics

    scale = max(c1, c2)

    def fun(x):
        return snb_equations(x[0], x[1], K, f, c1, c2) / scale

    with np.errstate(all="ignore"):
        for a0 in (0.33, 0.66, 0.99, 1.32, 2.0, 5.0):
            for b0 in (0.01, 0.33, 0.66, 0.99):
                sol = optimize.root(fun, np.array([a0, b0]), method="hybr")
                a, b = float(sol.x[0]), float(sol.x[1])
                e = snb_equations(a, b, K, f, c1, c2)
                if not (np.all(np.isfinite(e)) and np.max(np.abs(e)) < 1e-9 * scale
                        and a > 0 and 0 < b < 1):
                    continue
                est = K * b ** a
                params = {"K": float(K), "alpha": a, "beta": b}
                if 0 <= est <= N:
                    return float(est), "", params
    return None, ("SNB estimating equations have no solution with alpha > 0 and 0 < beta < 1 "
                  "(MINPACK hybrid Powell solver from 24 start values)"), {"K": float(K)}


def uniqueness_from_histogram(histogram, population_size: int) -> PopulationUniquenessResult:
    """Population-uniqueness estimates from a class-size histogram.

    ``histogram`` maps class size ``j`` to the number of classes ``c_j`` of that size
    (a dict, or pairs ``[(j, c_j), ...]``, or ARX's flat ``[j1, c1, j2, c2, ...]`` list).
    See :func:`population_uniqueness` for the definitions.
    """
    if isinstance(histogram, dict):
        items = list(histogram.items())
    else:
        h = list(histogram)
        items = list(zip(h[0::2], h[1::2])) if h and not isinstance(h[0], (tuple, list)) else h
    sizes = np.array([int(j) for j, c in items if int(c) > 0], dtype=np.int64)
    counts = np.array([int(c) for j, c in items if int(c) > 0], dtype=np.int64)
    if sizes.size == 0 or np.any(sizes < 1):
        raise DataValidationError("the class-size histogram must have positive sizes and counts")
    order = np.argsort(sizes)
    sizes, counts = sizes[order], counts[order]
    n = int(np.sum(sizes * counts))
    N = _check_population_size(population_size, n)
    u = int(counts.sum())
    c1 = int(counts[sizes == 1].sum())
    pi = n / N
    base = dict(population_size=N, sample_size=n, sampling_fraction=pi, sample_uniques=c1,
                n_classes=u)
    if c1 == 0:
        note = "no sample uniques: every model estimates 0 population uniques"
        return PopulationUniquenessResult(**base, zayatz=0.0, pitman=0.0, snb=0.0, dankar=0.0,
                                          dankar_model=None, reasons={"all": note})
    if N == n:
        note = ("census (sampling fraction 1): the population is the sample, so every model "
                "gives the sample uniques")
        return PopulationUniquenessResult(**base, zayatz=float(c1), pitman=float(c1), snb=float(c1),
                                          dankar=float(c1), dankar_model="zayatz",
                                          reasons={"all": note})
    reasons = {}
    zay = _zayatz(sizes, counts, n, N)
    pit, why, pparams = _pitman(sizes, counts, n, N)
    if pit is None:
        reasons["pitman"] = why
    snb, why, sparams = _snb(sizes, counts, n, N)
    if snb is None:
        reasons["snb"] = why
    # Dankar et al. (2012) decision rule as coded in ARX
    if pi <= 0.1:
        if pit is not None and pit != 0:
            dk, model = pit, "pitman"
        else:
            dk, model = zay, "zayatz"
    else:
        if snb is not None and snb != 0 and snb < zay:
            dk, model = snb, "snb"
        else:
            dk, model = zay, "zayatz"
    return PopulationUniquenessResult(**base, zayatz=zay, pitman=pit, snb=snb, dankar=dk,
                                      dankar_model=model, reasons=reasons,
                                      pitman_parameters=pparams, snb_parameters=sparams)


def _check_population_size(population_size, n):
    if isinstance(population_size, bool) or not isinstance(population_size, (Integral, Real)):
        raise InvalidParameterError(f"population_size must be a number, got {population_size!r}")
    if not isinstance(population_size, Integral) and (  # a Python int is whole at any size
            not math.isfinite(float(population_size)) or float(population_size) != int(population_size)):
        raise InvalidParameterError(f"population_size must be a whole number, got {population_size!r}")
    N = int(population_size)
    if N < n:
        raise DataValidationError(
            f"population_size ({N}) is smaller than the sample ({n} records): the population must "
            "contain the sample")
    return N


def population_uniqueness(data, quasi_identifiers, *, population_size: int) -> PopulationUniquenessResult:
    r"""Estimate how many people in the population are unique on the quasi-identifiers.

    From the sample class-size histogram (:math:`c_j` classes of size :math:`j`,
    :math:`u` classes, :math:`n` records) and the population size :math:`N`
    (:math:`\pi = n/N`), as in ARX ``RiskModelPopulationUniqueness``:

    * **Zayatz** (1991): :math:`\hat U = c_1 P/\pi` with
      :math:`P = c_1 h(1) / \sum_j c_j h(j)`, :math:`h(j)` the hypergeometric
      probability of drawing exactly one of :math:`j` units in :math:`n` draws from
      :math:`N`.
    * **Pitman** (Hoshino 2001): :math:`(\theta, \alpha)` by maximum likelihood
      (:math:`\sum_{i=1}^{u-1} 1/(\theta+i\alpha) = \sum_{i=1}^{n-1} 1/(\theta+i)`,
      :math:`\sum_{i=1}^{u-1} i/(\theta+i\alpha) = \sum_j c_j\sum_{l=1}^{j-1} 1/(l-\alpha)`),
      :math:`\hat U = \Gamma(\theta+1)/\Gamma(\theta+\alpha)\,N^\alpha`, rejected outside
      :math:`[0, N]` or when :math:`\alpha = 0`.
    * **SNB** (Chen & Keller-McNulty 1998), with ARX's estimate :math:`\hat K` of the
      number of non-empty population classes and its two estimating equations
      (:func:`snb_equations`, exactly as ARX codes them): :math:`\hat U = \hat K\beta^\alpha`.
    * **Dankar** et al. (2012): no sample uniques → 0; :math:`\pi \le 0.1` → Pitman
      (Zayatz if Pitman fails); otherwise the smaller of Zayatz and SNB (Zayatz if SNB fails).

    Matches ARX to 1e-6 relative wherever ARX's solver converged (tests/peer/arx). A
    model that fails gives None with the reason in ``reasons`` (ARX writes 0); where
    ARX failed and idrisk's solver finds a root, the root satisfies the estimating
    equations. **Census** (:math:`N = n`): the population is the sample, so every model
    returns the sample uniques :math:`c_1` (ARX's Pitman fit still extrapolates there,
    e.g. 91.7 instead of 62 on adult QI3; idrisk does not, on purpose).

    Equivalence classes use exact matching with a missing value as its own category.

    Parameters
    ----------
    data : pandas.DataFrame (or pyarrow/polars table, or :class:`idrisk.Encoded`)
        The sample, one row per record. Not modified.
    quasi_identifiers : sequence of str
    population_size : int
        Size :math:`N` of the population the sample was drawn from (at least the number
        of records).

    Returns
    -------
    PopulationUniquenessResult

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"a": [1, 1, 1, 2, 3, 4, 5, 5]})
    >>> round(idrisk.population_uniqueness(df, ["a"], population_size=80).zayatz, 6)
    12.309229
    """
    if (engine := engine_for(data, "population_uniqueness")) is not None:  # a Spark DataFrame
        return engine(data, quasi_identifiers, population_size=population_size)
    inp = resolve(data, quasi_identifiers)
    _check_population_size(population_size, inp.n_rows)
    _, sizes = inp.partition("category")
    js, cs = np.unique(sizes, return_counts=True)
    return uniqueness_from_histogram(dict(zip(js.tolist(), cs.tolist())), population_size)


def unique_match_probability(data=None, quasi_identifiers=None, *, sampling_fraction=None,
                             population_size=None, n1=None, n2=None) -> float:
    r"""Skinner-Elliot estimate of the probability that a unique match is correct.

    An intruder matches a population unit's key against the sample; when exactly one
    record matches, the match is correct with probability
    :math:`\theta = \sum_k I(f_k=1) / \sum_k F_k I(f_k=1)`, estimated under Bernoulli
    sampling with fraction :math:`\pi` by

    .. math:: \hat\theta = \frac{\pi n_1}{\pi n_1 + 2(1-\pi) n_2},

    with :math:`n_1` the number of sample-unique cells and :math:`n_2` the number of
    cells of size 2 (Skinner & Elliot 2002; the same estimator as sdcMicro's DIS with
    ``DisFraction = pi``). :math:`\pi = 1` (census) gives 1.

    Give either ``data`` (a frame, table or :class:`idrisk.Encoded`) and
    ``quasi_identifiers`` (cells by exact matching, missing values as a category) or the counts ``n1`` and ``n2``; and either
    ``sampling_fraction`` or ``population_size`` (with data: :math:`\pi = n/N`).

    Returns
    -------
    float
        NaN when there are no sample uniques (no unique match can happen).

    Examples
    --------
    >>> import idrisk
    >>> round(idrisk.unique_match_probability(n1=3, n2=1, sampling_fraction=0.1), 8)
    0.14285714
    """
    if data is not None:
        if n1 is not None or n2 is not None:
            raise InvalidParameterError("give either data and quasi_identifiers, or n1 and n2, not both")
        if quasi_identifiers is None:
            raise InvalidParameterError("quasi_identifiers are required with data")
        if (engine := engine_for(data, "unique_match_counts")) is not None:  # a Spark DataFrame
            n1, n2, n = engine(data, quasi_identifiers)
        else:
            inp = resolve(data, quasi_identifiers)
            _, sizes = inp.partition("category")
            n1 = int(np.count_nonzero(sizes == 1))
            n2 = int(np.count_nonzero(sizes == 2))
            n = inp.n_rows
    else:
        if n1 is None or n2 is None:
            raise InvalidParameterError("give data and quasi_identifiers, or both n1 and n2")
        for name, v in (("n1", n1), ("n2", n2)):
            if isinstance(v, bool) or not isinstance(v, Integral) or v < 0:
                raise InvalidParameterError(f"{name} must be a non-negative integer, got {v!r}")
        n = None
    if (sampling_fraction is None) == (population_size is None):
        raise InvalidParameterError("give exactly one of sampling_fraction and population_size")
    if sampling_fraction is not None:
        if isinstance(sampling_fraction, bool) or not isinstance(sampling_fraction, Real) \
                or not math.isfinite(float(sampling_fraction)):
            raise InvalidParameterError(f"sampling_fraction must be a number, got {sampling_fraction!r}")
        pi = float(sampling_fraction)
        if pi > 1:
            raise InvalidParameterError(
                f"sampling_fraction must be at most 1 (the sample cannot be larger than the "
                f"population), got {sampling_fraction!r}")
        if pi <= 0:
            raise InvalidParameterError(f"sampling_fraction must be > 0, got {sampling_fraction!r}")
    else:
        if n is None:
            raise InvalidParameterError("population_size needs data (pi = n / N); with counts give "
                                        "sampling_fraction")
        pi = n / _check_population_size(population_size, n)
    if n1 == 0:
        return float("nan")
    return skinner_elliot(n1, n2, pi)


def skinner_elliot(n1: int, n2: int, pi: float) -> float:
    """The Skinner-Elliot formula ``pi n1 / (pi n1 + 2 (1 - pi) n2)`` (NaN when it is 0/0).

    ``n1`` and ``n2`` count the sample cells of size 1 and 2, ``pi`` is the sampling
    fraction (Skinner & Elliot 2002; ``docs/methods.md#skinner-elliot``). No validation:
    :func:`unique_match_probability` is the public entry point.
    """
    den = pi * n1 + 2.0 * (1.0 - pi) * n2
    return float(pi * n1 / den) if den > 0 else float("nan")
