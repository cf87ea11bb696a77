"""The simulated intruder with a Spark table as the extract, through Splink's Spark backend.

:func:`idrisk.simulate_intruder` and :func:`idrisk.run_scenarios` route a Spark extract
here. The linkage runs on Spark with the table's own session (Splink's Spark backend makes
the candidate pairs and their comparison vectors on Spark; idrisk's estimators score them on
the driver: ``docs/methods.md#splink-on-spark``). idrisk's translation of a scenario into Splink's columns
(the integer codes of exact fields shared by both sides) and the ground truth are made on
the driver, so the extract's id column and the scenarios' quasi-identifiers are collected
to the driver, ordered by the id (never any other column); the result says so:
``em["extract_collected_to_driver"]`` of a simulation, and an :class:`IdRiskWarning` for
``run_scenarios``. The ground truth is matched by id: a Spark table has no row positions.
The session needs Splink's similarity functions and a checkpoint directory (as Splink's
Spark backend does); idrisk never starts one.
"""

from __future__ import annotations

import dataclasses
import os
import warnings

from ..exceptions import DataValidationError, IdRiskWarning, InvalidParameterError
from ..intruder import load_scenarios, run_scenarios as local_runs, simulate_intruder as local_simulate
from ..intruder.divergence import default_truth_id

__all__ = ["simulate_intruder", "run_scenarios"]


def _local(data, columns, what: str):
    """``columns`` of a Spark table on the driver, ordered by the first (the id)."""
    if not hasattr(data, "sparkSession"):  # pandas-on-Spark, whose to_pandas() would collect it all
        raise InvalidParameterError(f"{type(data).__name__} is not a pyspark.sql.DataFrame; pass frame.to_spark()")
    absent = [str(c) for c in columns if c not in data.columns]
    if absent:
        raise DataValidationError(f"column(s) not found in the {what}: {', '.join(absent)}")
    return data.select(*[f"`{c}`" for c in columns]).orderBy(f"`{columns[0]}`").toPandas()


def _engine(engine, splink_backend, spark_session, data):
    if engine not in ("idrisk", "splink") or splink_backend not in ("duckdb", "spark"):
        raise InvalidParameterError(f"engine must be 'idrisk' or 'splink', got {engine!r}")
    return {"engine": "splink", "splink_backend": "spark",
            "spark_session": data.sparkSession if spark_session is None else spark_session}


def simulate_intruder(data, auxiliary, scenario, *, id_column=None, engine="splink", splink_backend="spark",
                      spark_session=None, **kw):
    """:func:`idrisk.simulate_intruder` of a Spark extract: Splink on Spark (see the module notes).

    ``auxiliary`` (pandas, or a Spark table, collected: it holds the targets) must carry the
    truth by id, ``_truth_<id_column>``.
    """
    if id_column is None:
        raise InvalidParameterError(
            "a Spark table as the extract has no row positions: give id_column and an auxiliary table with "
            "_truth_<id_column> (idrisk.run_scenarios builds them from a population)")
    aux = auxiliary.toPandas() if hasattr(auxiliary, "sparkSession") else auxiliary
    cols = list(dict.fromkeys([id_column, *getattr(scenario, "quasi_identifiers", [])]))
    ext = _local(data, cols, "extract")
    res = local_simulate(ext, aux, scenario, id_column=id_column,
                         **_engine(engine, splink_backend, spark_session, data), **kw)
    note = f"{len(ext)} records, columns {', '.join(map(str, cols))} (ordered by {id_column})"
    return dataclasses.replace(res, em={**res.em, "extract_collected_to_driver": note})


def run_scenarios(data, population, scenarios, *, id_column=None, engine="splink", splink_backend="spark",
                  spark_session=None, **kw):
    """:func:`idrisk.run_scenarios` of a Spark extract (and population): Splink on Spark."""
    id_column = default_truth_id() if id_column is None else id_column
    found = load_scenarios(scenarios) if isinstance(scenarios, (str, os.PathLike)) else (
        [scenarios] if hasattr(scenarios, "quasi_identifiers") else list(scenarios))
    cols = list(dict.fromkeys([id_column, *[q for s in found for q in s.quasi_identifiers]]))
    ext = _local(data, cols, "extract")
    pop = _local(population, cols, "population") if hasattr(population, "sparkSession") else population
    warnings.warn(f"run_scenarios on a Spark table: the extract's {len(ext)} records (columns "
                  f"{', '.join(map(str, cols))}) were collected to the driver for Splink's field codes; the "
                  "linkage ran on Spark", IdRiskWarning, stacklevel=3)
    return local_runs(ext, pop, found, id_column=id_column,
                      **_engine(engine, splink_backend, spark_session, data), **kw)
