"""The class-count metrics on a Spark table: frequencies, k-anonymity, sample and individual risks.

Each function takes the same arguments as its namesake in :mod:`idrisk.metrics` and the
user's ``pyspark.sql.DataFrame``. The equivalence classes are counted on Spark
(:func:`~idrisk.spark._reduce.reduce_classes`); the figures are computed on the driver
from one row per class, with the formulas of ``docs/methods.md#k-anonymity``,
``docs/methods.md#sample-risks`` and ``docs/methods.md#individual-risk``. Per-record
outputs are Spark DataFrames: the user's rows with the new columns, never collected.

Spark resolves column names without regard to case by default, so ``fk`` and ``Fk``
cannot both be columns: the Spark outputs call the weighted frequency ``Fk_pop`` (the
estimated population frequency ``F_k``).

Missing values: ``missing="category"`` (a null is one more value) and ``"never"``; and for
frequencies, k-anonymity, individual and global risk ``"wildcard"`` (sdcMicro's ``freqCalc``
matching, from the distinct keys: :mod:`idrisk.spark._wildcard`). The other measures need a
partition into classes, which ``"wildcard"`` does not give: they refuse it, as in the pandas path.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._kernels.risk import bf_risk, inverse
from .._validation import check_fraction, check_k_values, check_missing
from ..exceptions import DataQualityWarning, DataValidationError, InvalidParameterError
from ..metrics import GlobalRiskResult, KAnonymityResult
from ..metrics._population import uniqueness_from_histogram
from ..metrics._sample_risks import sample_risks_of_classes
from ._reduce import check_columns, key_expressions, reduce_classes, weight_column, null_safe_join
from ._household import check_household, household_table, with_household_risk
from ._wildcard import key_table, wildcard_classes, wildcard_frequencies, wildcard_k_anonymity

__all__ = ["frequencies", "k_anonymity", "sample_risks", "individual_risk", "global_risk",
           "population_uniqueness", "unique_match_counts"]


def spark_missing(missing, what: str, wildcard: bool = False) -> str:
    """``missing`` for the Spark path: ``"category"`` or ``"never"`` (and ``"wildcard"`` with ``wildcard``)."""
    check_missing(missing)
    if missing == "wildcard" and not wildcard:
        raise InvalidParameterError(
            f"{what} on a Spark DataFrame supports missing='category' and missing='never'; "
            "missing='wildcard' (sdcMicro freqCalc matching) is not implemented on Spark")
    return missing


def with_frequencies(df, qis, weights, missing, *, fk="fk", Fk="Fk_pop"):
    """``df`` with the per-record ``fk`` and ``Fk_pop`` computed on Spark by window counts."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keys = key_expressions(df, qis)
    window = Window.partitionBy(*keys)
    out = df.withColumn(fk, F.count(F.lit(1)).over(window))
    w = None if weights is None else F.col(f"`{weights}`").cast("double")
    if w is not None:
        out = out.withColumn(Fk, F.sum(w).over(window))
    if missing == "never":
        anynull = F.lit(False)
        for e in keys:
            anynull = anynull | e.isNull()
        out = out.withColumn(fk, F.when(anynull, F.lit(1).cast("long")).otherwise(F.col(fk)))
        if w is not None:
            out = out.withColumn(Fk, F.when(anynull, w).otherwise(F.col(Fk)))
    if w is None:
        out = out.withColumn(Fk, F.col(fk))
    return out


def frequencies(data, quasi_identifiers, *, weights=None, missing: str = "category",
                alpha: float = 1.0):
    """:func:`idrisk.frequencies` on Spark: ``data`` with columns ``fk`` and ``Fk_pop`` added.

    ``fk`` (long) is the record's class size and ``Fk_pop`` (the pandas path's ``Fk``:
    double with weights, else equal to ``fk``) the sum of the class's weights; see ``docs/methods.md#frequencies``.
    """
    spark_missing(missing, "frequencies", wildcard=True)
    check_fraction(alpha, name="alpha")
    qis = check_columns(data, quasi_identifiers, weights=weights, reserved=("fk", "Fk_pop"))
    if missing == "wildcard":
        return wildcard_frequencies(data, qis, weights, alpha)
    if weights is not None:
        weight_column(data, weights)
    return with_frequencies(data, qis, weights, missing)


def k_anonymity(data, quasi_identifiers, *, k=(2, 3, 5, 10), missing: str = "category",
                weights=None) -> KAnonymityResult:
    """:func:`idrisk.k_anonymity` on Spark (``docs/methods.md#k-anonymity``).

    The aggregate fields equal the pandas path's; ``fk`` (and ``Fk``) hold the user's
    rows with the per-record column added (a Spark DataFrame; ``Fk`` holds ``Fk_pop``).
    """
    spark_missing(missing, "k_anonymity", wildcard=True)
    ks = check_k_values(k)
    qis = check_columns(data, quasi_identifiers, weights=weights, reserved=("fk", "Fk_pop"))
    if missing == "wildcard":
        return wildcard_k_anonymity(data, qis, ks, weights)
    red = reduce_classes(data, qis, weights=weights, missing=missing)
    f, W = red.sizes, red.wsums
    bc = np.bincount(f)
    per_record = with_frequencies(data, qis, weights, missing)
    return KAnonymityResult(
        quasi_identifiers=tuple(qis), missing=missing, n_records=red.n_records,
        n_classes=len(f), min_class_size=int(f.min()),
        class_size_histogram={int(s): int(bc[s]) for s in np.flatnonzero(bc)},
        histogram_counts="classes",
        records_below_k={kk: int(f[f < kk].sum()) for kk in ks},
        n1=int(np.count_nonzero(f == 1)), n2=int(2 * np.count_nonzero(f == 2)),
        fk=per_record.drop("Fk_pop"),
        min_Fk=None if W is None else float(W.min()),
        records_below_k_Fk=None if W is None else {kk: int(f[W < kk].sum()) for kk in ks},
        Fk=None if W is None else per_record.drop("fk"))


def sample_risks(data, quasi_identifiers, *, population=None, thresholds=(0.05, 0.1, 0.2, 0.5),
                 missing: str = "category"):
    """:func:`idrisk.sample_risks` on Spark. With a ``population`` table (a Spark DataFrame, or a
    pandas frame sent to the data's session) its classes are counted on Spark too and each
    sample class gets the population count of its key (``F_k``; 0 when absent, which the
    research-subset check refuses, as on pandas, where a key with a missing value under
    ``missing="never"`` is a class of its own in the population too)."""
    spark_missing(missing, "sample_risks")
    qis = check_columns(data, quasi_identifiers)
    red = reduce_classes(data, qis, missing=missing, keys=population is not None)
    if population is None:
        return sample_risks_of_classes(red.sizes, qis, thresholds=thresholds)
    F, n_pop = _population_counts(data, red, population, qis, missing)
    return sample_risks_of_classes(red.sizes, qis, thresholds=thresholds, population_sizes=F,
                                   population_records=n_pop)


def _population_counts(data, red, population, qis, missing):
    """``(F, N)``: the population count of each sample class's key, and the population's size."""
    if isinstance(population, pd.DataFrame):
        absent = [str(c) for c in qis if c not in population.columns]
        if absent:
            raise DataValidationError(
                f"quasi-identifier column{'s' if len(absent) > 1 else ''} not found in the population "
                f"table: {', '.join(absent)}")
        population = data.sparkSession.createDataFrame(population[qis].astype(object).where(
            population[qis].notna(), None), schema=data.select(*qis).schema)
    check_columns(population, qis)
    numeric = ("byte", "short", "int", "long", "float", "double", "decimal", "tinyint", "smallint", "bigint")
    ta, tb = dict(data.dtypes), dict(population.dtypes)
    for q in qis:
        if ta[q].startswith(numeric) != tb[q].startswith(numeric):
            raise DataValidationError(
                f"quasi-identifier {q!r} is {ta[q]} in the data but {tb[q]} in the population table: "
                "equal values would not match; convert both to the same type first")
    pop = reduce_classes(population, qis, keys=True)  # a missing value is one more value
    counts = dict(zip(pop.keys, pop.sizes.tolist()))
    never = missing == "never"
    F = np.array([0 if never and any(v is None for v in k) else counts.get(k, 0) for k in red.keys],
                 dtype=np.int64)
    return F, pop.n_records


def population_uniqueness(data, quasi_identifiers, *, population_size: int):
    """:func:`idrisk.population_uniqueness` on Spark, from the class-size histogram
    (``docs/methods.md#population-uniqueness``; a missing value is one more category)."""
    qis = check_columns(data, quasi_identifiers)
    js, cs = np.unique(reduce_classes(data, qis).sizes, return_counts=True)
    return uniqueness_from_histogram(dict(zip(js.tolist(), cs.tolist())), population_size)


def _risk_classes(data, quasi_identifiers, weights, method, household, missing, alpha, qual):
    """Validate, reduce, and return (qis, reduced classes, per-class risk, missing)."""
    if method not in ("approx", "exact"):
        raise InvalidParameterError(f"method must be 'approx' or 'exact', got {method!r}")
    check_fraction(alpha, name="alpha")
    if isinstance(qual, bool) or not isinstance(qual, (int, float)) or not np.isfinite(qual) or qual <= 0:
        raise InvalidParameterError(f"qual must be a finite number > 0, got {qual!r}")
    if household is not None:
        check_household(data, household)
    qis = check_columns(data, quasi_identifiers, weights=weights, reserved=("fk", "Fk_pop", "risk"))
    if missing == "wildcard":  # the records' fk and Fk from the distinct keys (idrisk.spark._wildcard)
        red, fkw, Fkw = wildcard_classes(data, qis, weights, alpha)
        fk, Fk = fkw.astype(np.float64), (None if weights is None else Fkw)
        red.fk, red.Fk = fkw, Fkw
    else:
        red = reduce_classes(data, qis, weights=weights,
                             missing="category" if missing is None else spark_missing(missing, "individual_risk"),
                             keys=True)
        fk, Fk = red.sizes.astype(np.float64), red.wsums
    if missing is None:
        if any(v is None for key in red.keys for v in key):
            warnings.warn(
                "the quasi-identifiers hold missing values and the default of missing changed from "
                "'wildcard' to 'category' (a missing value is one more category); pass "
                "missing='category' to silence this warning", FutureWarning, stacklevel=4)
        missing = "category"
    if Fk is None:
        risk = inverse(fk)
    else:
        below = int(red.sizes[Fk < fk].sum())
        if below:
            warnings.warn(
                f"{below} record(s) have an estimated population frequency Fk below their sample "
                "frequency fk (weights below 1): the Benedetti-Franconi model does not apply, so "
                "their risk is set to 1/fk (as if Fk = fk)", DataQualityWarning, stacklevel=4)
        risk = bf_risk(fk, Fk, method == "exact", float(qual))
    return qis, red, risk, missing


def individual_risk(data, quasi_identifiers, *, weights=None, method: str = "approx",
                    household=None, missing=None, alpha: float = 1.0, qual: float = 1.0):
    """:func:`idrisk.individual_risk` on Spark: ``data`` with ``fk``, ``Fk_pop`` and ``risk`` added.

    The risk is computed once per class on the driver (``docs/methods.md#individual-risk``)
    and joined back on the quasi-identifiers.
    """
    out = _risk_rows(data, quasi_identifiers, weights, method, household, missing, alpha, qual)
    return out if household is None else with_household_risk(out, household)


def _risk_rows(data, quasi_identifiers, weights, method, household, missing, alpha, qual):
    """``data`` with ``fk``, ``Fk_pop`` and ``risk`` (see :func:`individual_risk`)."""
    qis, red, risk, missing = _risk_classes(data, quasi_identifiers, weights, method, household,
                                            missing, alpha, qual)
    if missing == "wildcard":
        Fk = red.fk if weights is None else np.asarray(red.Fk, dtype=np.float64)
        return null_safe_join(data, key_table(data, qis, red.keys, {"fk": red.fk, "Fk_pop": Fk, "risk": risk}), qis)
    schema = data.select(*key_expressions(data, qis)).schema.add("risk", "double")
    # under the never-rule a key with a missing value is not one class: those records
    # (classes of one, risk 1 without weights) are filled in after the join
    keyed = [(*key, float(r)) for key, r in zip(red.keys, risk)
             if missing != "never" or not any(v is None for v in key)]
    table = data.sparkSession.createDataFrame(keyed, schema=schema)
    out = null_safe_join(with_frequencies(data, qis, weights, missing), table, qis)
    if missing == "never":
        out = _risk_of_records_alone(data, out, red, risk, weights)
    return out


def _risk_of_records_alone(data, out, red, risk, weights):
    """Under the never-rule, the risk of the records with a missing key (each a class of one,
    ``fk = 1``): 1 without weights; with weights a function of ``Fk`` (the record's own weight)
    alone, so the reduced table's ``(Fk, risk)`` pairs of those classes are joined on ``Fk_pop``."""
    from pyspark.sql import functions as F

    if weights is None:
        return out.withColumn("risk", F.coalesce(F.col("risk"), F.lit(1.0)))
    by_fk = {float(red.wsums[i]): float(risk[i]) for i, key in enumerate(red.keys) if any(v is None for v in key)}
    if not by_fk:
        return out
    fk_col, risk_col = "__idrisk_alone_Fk", "__idrisk_alone_risk"
    table = data.sparkSession.createDataFrame(sorted(by_fk.items()), schema=f"`{fk_col}` double, `{risk_col}` double")
    cond = F.col("risk").isNull() & (F.col("Fk_pop") == F.col(fk_col))
    return (out.join(F.broadcast(table), cond, "left")
            .withColumn("risk", F.coalesce(F.col("risk"), F.col(risk_col))).drop(fk_col, risk_col))


def _threshold_of_classes(risk, sizes, max_global_risk):
    """sdcMicro ``measure_threshold`` (``idrisk._kernels.risk.global_threshold``) over the
    classes' risk levels, each counted with its number of records."""
    levels, inv = np.unique(risk, return_inverse=True)
    counts = np.bincount(inv.ravel(), weights=sizes.astype(np.float64)).astype(np.int64)
    levels, counts = levels[::-1], counts[::-1]  # decreasing risk
    n = int(counts.sum())
    # tail[l]: sum of the risks of the records at level l and below, summed from the smallest up
    tail = np.cumsum((levels * counts)[::-1])[::-1]
    er = max_global_risk * n
    if tail[0] < er:
        return None  # sdcMicro NA: the threshold, safe and unsafe levels coincide
    above = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ok = np.flatnonzero(tail[1:] + levels[1:] * above[1:] < er * (1.0 - 1e-12))
    if ok.size == 0:
        return None if levels[-1] == 0.0 else 0.0
    return float(levels[1 + ok[0]])


def global_risk(data, quasi_identifiers, *, weights=None, method: str = "approx", household=None,
                missing=None, alpha: float = 1.0, qual: float = 1.0,
                max_global_risk: float = 0.01) -> GlobalRiskResult:
    """:func:`idrisk.global_risk` on Spark (``docs/methods.md#global-risk``), from the classes."""
    mgr = check_fraction(max_global_risk, name="max_global_risk", low_open=True, high_open=True)
    qis, red, risk, _ = _risk_classes(data, quasi_identifiers, weights, method, household,
                                      missing, alpha, qual)
    n = red.n_records
    er = float((risk * red.sizes).sum())
    kw = {}
    if household is not None:
        from pyspark.sql import functions as F

        with warnings.catch_warnings():  # the same warnings were issued by the classes above
            warnings.simplefilter("ignore")
            rows = _risk_rows(data, quasi_identifiers, weights, method, household, missing, alpha, qual)
        her = float(household_table(rows, household).agg(F.sum(F.col("household_risk") * F.col("size"))).first()[0])
        kw = dict(household_expected_reidentifications=her, household_global_risk=her / n,
                  household_global_risk_pct=100.0 * her / n)
    return GlobalRiskResult(
        n_records=n, method=method, weighted=red.wsums is not None, expected_reidentifications=er,
        global_risk=er / n, global_risk_pct=100.0 * er / n, max_global_risk=mgr,
        global_threshold=_threshold_of_classes(risk, red.sizes, mgr), **kw)


def unique_match_counts(data, quasi_identifiers) -> tuple:
    """The sample cells of size 1 and 2 and the records, counted on Spark (a missing value one
    more category), for :func:`idrisk.unique_match_probability` (``docs/methods.md#skinner-elliot``)."""
    qis = check_columns(data, quasi_identifiers)
    red = reduce_classes(data, qis)
    return int(np.count_nonzero(red.sizes == 1)), int(np.count_nonzero(red.sizes == 2)), red.n_records
