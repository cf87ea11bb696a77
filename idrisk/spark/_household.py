"""Household (hierarchical) risk on a Spark table (``docs/methods.md#household-risk``).

A household's risk is ``1 - prod(1 - r)`` over its members' individual risks, the chance
that at least one of them is re-identified, and every member carries it (sdcMicro's
``hier_risk``). Spark sums ``log1p(-r)`` over each household's records (a member with
``r >= 1`` makes the risk exactly 1), as idrisk's kernel does; nothing is collected.
"""

from __future__ import annotations

from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["check_household", "household_table", "with_household_risk"]

_RISK = "household_risk"


def check_household(data, household) -> None:
    """The household column is one column of ``data`` with no missing id."""
    from pyspark.sql import functions as F

    if not isinstance(household, str):
        raise InvalidParameterError(f"household must be the name of a column, got {type(household).__name__}")
    if household not in data.columns:
        raise DataValidationError(f"household column not found in the data: {household}")
    if _RISK in data.columns:
        raise DataValidationError(f"the data already hold column {_RISK}, which the output adds; rename it first")
    n_missing = data.where(F.col(f"`{household}`").isNull()).count()
    if n_missing:
        raise DataValidationError(
            f"household column {household!r} has {n_missing} missing value(s); every record needs a "
            "household id (give single-person households their own id)")


def household_table(rows, household):
    """Per household of ``rows`` (records with a ``risk`` column): its risk and its records."""
    from pyspark.sql import functions as F

    r = F.col("risk")
    per = rows.groupBy(F.col(f"`{household}`").alias("__idrisk_h")).agg(
        F.max(F.when(r >= 1.0, 1).otherwise(0)).alias("certain"),
        F.sum(F.when(r < 1.0, F.log1p(-r)).otherwise(0.0)).alias("logsum"),
        F.count(F.lit(1)).alias("size"))
    return per.select("__idrisk_h", F.when(F.col("certain") == 1, F.lit(1.0))
                      .otherwise(-F.expm1(F.col("logsum"))).alias(_RISK), "size")


def with_household_risk(rows, household):
    """``rows`` with every record's ``household_risk`` joined on its household."""
    table = household_table(rows, household).drop("size")
    joined = rows.join(table, rows[f"`{household}`"] == table["__idrisk_h"], how="left")
    return joined.drop("__idrisk_h")
