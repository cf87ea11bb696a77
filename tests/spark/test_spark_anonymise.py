"""The anonymiser on a Spark table against the pandas path on the same data.

The search runs on the table's distinct rows counted by Spark (exact: counts add up under
generalisation), so it must choose the node of the pandas path with the same measures; the
extract made on Spark must hold the same rows as the pandas extract (compared as sorted
text rows, Spark having no row order), and a recipe replays on a Spark table to the same
rows. Cases: ARX's peer configurations (tests/peer/arx_anon: tables as hierarchies,
l-diversity, suppression) and a synthetic pupil extract with ladders (bands).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import idrisk
from idrisk.datasets import make_population

from spark_compare import close

_ARX = importlib.util.spec_from_file_location("arx_cases", Path(__file__).resolve().parents[1] / "test_anonymise_arx.py")
arx = importlib.util.module_from_spec(_ARX)
_ARX.loader.exec_module(arx)


def _rows(frame: pd.DataFrame) -> list:
    text = frame.astype(object).where(frame.notna(), None)
    return sorted(tuple("\x00" if v is None else str(v) for v in row) for row in text.itertuples(index=False))


def _same(local, remote):
    assert remote.suppressed is None  # a Spark table has no row order to align flags with
    close(local.to_dict(), remote.to_dict(), "anonymise")
    assert _rows(local.data) == _rows(remote.data.toPandas())


@pytest.mark.parametrize("name", ["test2_k3_ldiv3_s0", "adult_k5_ldiv2_s5", "adult_k20_s5"])
def test_arx_cases(spark, name):
    data, qis, hier, k, s, ld = arx._setup(arx._ref(name))
    sdf = spark.createDataFrame(data)
    local = idrisk.anonymise(data, qis, hierarchies=hier, k=k, suppression_limit=s, l_diversity=ld)
    remote = idrisk.anonymise(sdf, qis, hierarchies=hier, k=k, suppression_limit=s, l_diversity=ld)
    _same(local, remote)
    assert remote.levels == arx._ref(name)["optimum"]["levels"]
    _same(idrisk.anonymise.apply_recipe(data, local.recipe), idrisk.anonymise.apply_recipe(sdf, local.recipe))


def test_pupils_with_ladders(spark):
    pop = make_population(4000, seed=9, progress=False)[["sex", "year_group", "birth_month", "fsm"]]
    pop = pop.assign(**{c: pop[c].astype(str) for c in pop.columns if isinstance(pop[c].dtype, pd.CategoricalDtype)})
    pop = pop.assign(year_group=pop["year_group"].astype("int64"), birth_month=pop["birth_month"].astype("int64"))
    hier = {"birth_month": idrisk.anonymise.bands(3, 6), "year_group": idrisk.anonymise.bands(2, 4),
            "sex": [["F", "*"], ["M", "*"]]}
    qis = ["sex", "year_group", "birth_month"]
    sdf = spark.createDataFrame(pop)
    local = idrisk.anonymise(pop, qis, hierarchies=hier, k=20, suppression_limit=0.02, l_diversity={"fsm": 2})
    remote = idrisk.anonymise(sdf, qis, hierarchies=hier, k=20, suppression_limit=0.02, l_diversity={"fsm": 2})
    _same(local, remote)
    pinned = {"sex": 0, "year_group": 0, "birth_month": 1}
    _same(idrisk.anonymise(pop, qis, hierarchies=hier, k=20, levels=pinned),
          idrisk.anonymise(sdf, qis, hierarchies=hier, k=20, levels=pinned))


@pytest.mark.parametrize("pinned", [None, {"sex": 0, "year_group": 0, "birth_month": 0, "fsm": 0}])
def test_special_uniques_condition(spark, pinned):
    """msu_size with k = 1: the search refuses nodes with special uniques, counted from the distinct
    generalised keys of the extract (suppressed records all missing), as on pandas."""
    pop = make_population(1500, seed=4, progress=False)[["sex", "year_group", "birth_month", "fsm"]]
    pop = pop.assign(**{c: pop[c].astype(str) for c in pop.columns})
    hier = {"sex": [["F", "*"], ["M", "*"]], "fsm": [["True", "*"], ["False", "*"]],
            "year_group": [[str(v), "*"] for v in sorted(pop["year_group"].unique())],
            "birth_month": [[str(v), "*"] for v in sorted(pop["birth_month"].unique())]}
    qis = ["sex", "year_group", "birth_month", "fsm"]
    kw = dict(hierarchies=hier, k=1, msu_size=2, suppression_limit=0.02, levels=pinned)
    local = idrisk.anonymise(pop, qis, **kw)
    remote = idrisk.anonymise(spark.createDataFrame(pop), qis, **kw)
    _same(local, remote)
    if pinned:
        assert local.special_uniques > 0  # the finest node has some: the count is compared, not only 0
    else:
        assert local.special_uniques == 0


def test_spark_refuses_what_it_does_not_do(spark):
    sdf = spark.createDataFrame(pd.DataFrame({"a": [1, 2, 3, 4], "b": ["x", "y", "x", "y"]}))
    with pytest.raises(idrisk.exceptions.InvalidParameterError, match="local_suppression"):
        idrisk.anonymise(sdf, ["a"], hierarchies={"a": idrisk.anonymise.bands(2)}, k=2, local_suppression=True)
