"""The simulated intruder with a Spark table as the extract (``idrisk.spark``: Splink's Spark
backend with the table's session) against the same engine on the pandas extract.

The Spark path collects the extract's id and key columns to the driver ordered by the id
(and says so), so on the pandas extract in that order the figures must be identical.
"""

from __future__ import annotations

import pandas as pd
import pytest

import idrisk
from idrisk.exceptions import IdRiskWarning, InvalidParameterError
import idrisk.spark  # noqa: F401 - registers the Spark engine (idrisk.simulate_intruder does it too)
from idrisk.intruder import IntruderScenario, make_auxiliary, run_scenarios, simulate_intruder

from spark_compare import close

KEY = ["la_code", "sex", "year_group", "birth_month", "ethnicity_major"]


@pytest.fixture(scope="module")
def case():
    from idrisk.datasets import make_population

    pop = make_population(2400, seed=4, progress=False)[["pupil_id", *KEY]].copy()
    pop = pop.assign(**{c: pop[c].astype(str) for c in KEY if isinstance(pop[c].dtype, pd.CategoricalDtype)})
    pop = pop.sort_values("pupil_id").reset_index(drop=True)  # a Spark table comes to the driver in id order
    ext = pop.sample(frac=0.5, random_state=1).sort_values("pupil_id").reset_index(drop=True)
    sc = IntruderScenario(name="perturbed", quasi_identifiers=KEY, blocking=[["la_code", "sex"]], targets=150,
                          error_rate={"birth_month": 0.05})
    return pop, ext, sc


def test_simulate_intruder_on_a_spark_extract(spark, case):
    _, ext, sc = case
    aux = make_auxiliary(ext, sc, seed=2)
    aux["_truth_pupil_id"] = ext["pupil_id"].to_numpy()[aux.pop("_truth_row").to_numpy()]
    local = simulate_intruder(ext, aux, sc, seed=2, engine="splink", splink_backend="spark", spark_session=spark,
                              id_column="pupil_id")
    shuffled = spark.createDataFrame(ext.sample(frac=1.0, random_state=7))  # order does not matter: by id
    remote = simulate_intruder(shuffled, aux, sc, seed=2, id_column="pupil_id")
    note = remote.em.pop("extract_collected_to_driver")
    assert note.startswith(f"{len(ext)} records, columns pupil_id, la_code")
    close(local.to_dict(), remote.to_dict(), "simulate_intruder")
    assert local.claims > 0


def test_a_spark_extract_needs_the_truth_by_id(spark, case):
    _, ext, sc = case
    with pytest.raises(InvalidParameterError, match="id_column"):
        simulate_intruder(spark.createDataFrame(ext), make_auxiliary(ext, sc, seed=2), sc)


def test_run_scenarios_on_spark_tables(spark, case):
    pop, ext, sc = case
    local = run_scenarios(ext, pop, [sc], seed=3, n_repeats=1, engine="splink", splink_backend="spark",
                          spark_session=spark)
    with pytest.warns(IdRiskWarning, match="collected to the driver"):
        remote = run_scenarios(spark.createDataFrame(ext), spark.createDataFrame(pop), [sc], seed=3, n_repeats=1)
    close(local.to_dict(), remote.to_dict(), "run_scenarios")
    assert idrisk.spark.run_scenarios is not None
