"""The anonymiser on a Spark table against the pandas path on the same data.

The search runs on the table's distinct rows counted by Spark (exact: counts add up under
generalisation), so it must choose the node of the pandas path with the same measures; the
extract made on Spark must hold the same rows as the pandas extract (compared as sorted
text rows, Spark having no row order), and a recipe replays on a Spark table to the same
rows. Cases: ARX's peer configurations (tests/peer/arx_anon: tables as hierarchies,
l-diversity, suppression) and a synthetic pupil extract with ladders (bands); local
suppression, verification and validity's tables on small synthetic pupil extracts.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

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


def _small_pupils(n, seed):
    pop = make_population(n, seed=seed, progress=False)[["sex", "year_group", "birth_month", "fsm"]]
    pop = pop.assign(**{c: pop[c].astype(str) for c in pop.columns})
    # local suppression takes a Spark table's records sorted by their keys: the pandas path on
    # the data so sorted must give the same cells (on the unsorted rows it may not: see below)
    pop = pop.sort_values(list(pop.columns), kind="stable").reset_index(drop=True)
    hier = {"sex": [["F", "*"], ["M", "*"]], "fsm": [["True", "*"], ["False", "*"]],
            "year_group": [[str(v), "*"] for v in sorted(pop["year_group"].unique())],
            "birth_month": [[str(v), "*"] for v in sorted(pop["birth_month"].unique())]}
    return pop, hier


def test_local_suppression(spark):
    """The cells made missing on Spark (from the distinct rows, each repeated min(count, k) times)
    are the pandas path's on the records sorted by their keys, at the optimum and at a pinned
    node where most cells go; the order matters, so the case would catch another order."""
    pop, hier = _small_pupils(3000, 4)
    qis = ["sex", "year_group", "birth_month", "fsm"]
    sdf = spark.createDataFrame(pop.sample(frac=1.0, random_state=1))  # the table's order is not used
    pinned = {q: 0 for q in qis}
    for kw in (dict(k=25, suppression_limit=0.05), dict(k=40, levels=pinned)):
        local = idrisk.anonymise(pop, qis, hierarchies=hier, local_suppression=True, **kw)
        remote = idrisk.anonymise(sdf, qis, hierarchies=hier, local_suppression=True, **kw)
        _same(local, remote)
        assert sum(local.suppressed_cells.values()) > 0
    shuffled = idrisk.anonymise(pop.sample(frac=1.0, random_state=1), qis, hierarchies=hier, local_suppression=True,
                                **kw)
    assert shuffled.suppressed_cells != local.suppressed_cells
    _same(idrisk.anonymise.apply_recipe(pop, local.recipe), idrisk.anonymise.apply_recipe(sdf, local.recipe))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 1), st.integers(1, 5)),
                min_size=1, max_size=12, unique_by=lambda t: t[:3]),
       st.integers(2, 4))
def test_local_suppression_of_rows_is_that_of_the_records(rows, k):
    """Distinct rows with counts (each repeated min(count, k) times) give every record the cells
    that local suppression of the records themselves, in the rows' order, gives it."""
    from idrisk.anonymise.local import local_suppression, local_suppression_of_rows

    frame = pd.DataFrame([r[:3] for r in rows], columns=["a", "b", "c"]).astype(str)
    counts = np.array([r[3] for r in rows])
    if counts.sum() < k:
        return
    made, cells, safe, _ = local_suppression_of_rows(frame, counts, ["a", "b", "c"], k=k)
    records = local_suppression(frame.iloc[np.repeat(np.arange(len(frame)), counts)], ["a", "b", "c"], k=k)
    for q in "abc":
        np.testing.assert_array_equal(np.repeat(made[q], counts), records.data[q].isna().to_numpy())
    assert cells == records.suppressed_cells and safe == records.k_anonymous


def test_verify_with_local_suppression(spark):
    """verify on a Spark table: each node's extract (here with local suppression) is assessed on
    Spark; the first node tried still lets the intruder make correct claims, the second passes,
    as on pandas (the same counts, the same route and indicators)."""
    pop, hier = _small_pupils(200, 3)
    qis = ["sex", "birth_month", "fsm"]
    kw = dict(hierarchies={q: hier[q] for q in qis}, k=2, suppression_limit=0.05, verify=True,
              local_suppression=True)
    local = idrisk.anonymise(pop, qis, **kw)
    remote = idrisk.anonymise(spark.createDataFrame(pop), qis, **kw)
    _same(local, remote)
    tried = remote.verification["tried"]
    assert [t["passed"] for t in tried] == [False, True] and tried[0]["correct_claims"]["main"] > 0
    assert remote.assessment.to_dict()["meta"]["engine"]["name"] == "spark"


def test_validity_tables(spark):
    """validity's tables from the distinct rows counted on Spark (quasi-identifiers, a pair with a
    column that is not one); the models need the records' order and are refused."""
    pop, hier = _small_pupils(2000, 5)
    pop = pop.assign(score=(pop["birth_month"].astype(int) % 3).astype(str))
    qis = ["sex", "year_group", "birth_month"]
    tables = ["birth_month", ["birth_month", "year_group"], ["score", "year_group"], "fsm"]
    kw = dict(hierarchies={q: hier[q] for q in qis}, k=12, suppression_limit=0.5, levels={q: 0 for q in qis},
              validity={"tables": tables})
    local = idrisk.anonymise(pop, qis, **kw)
    sdf = spark.createDataFrame(pop)
    remote = idrisk.anonymise(sdf, qis, **kw)
    _same(local, remote)
    assert local.validity["tables"]["birth_month"] > 0 and local.suppressed_records > 0
    with pytest.raises(idrisk.exceptions.InvalidParameterError, match="order"):
        idrisk.anonymise(sdf, qis, **dict(kw, validity={"outcomes": ["fsm"], "predictors": qis}))
