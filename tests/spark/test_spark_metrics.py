"""The Spark path of every class-count metric against the pandas path, on a synthetic extract.

The data are a small pupil-like extract with missing values in a string, an integer and a
floating-point key column (NaN is missing there, as in pandas) and sampling weights.
Aggregates must agree exactly (counts) or to 1e-12 relative (floats); per-record Spark
outputs, collected here only to check them, must agree row by row.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.exceptions import DataValidationError, InvalidParameterError

from spark_compare import close, per_record, same_result

QIS = ["sex", "yob", "la", "eth", "fsm"]


def _extract(n=400, seed=7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    la = rng.choice([201.0, 202.0, 203.0, np.nan], n, p=[0.4, 0.3, 0.25, 0.05])
    eth = rng.choice(["WBRI", "ASIA", "BLAC", "MIXD", "AOTH", None], n)
    return pd.DataFrame({
        "row": np.arange(n),
        "sex": rng.choice(["F", "M"], n),
        "yob": pd.array(rng.choice([2010, 2011, 2012, 2013, None], n, p=[.3, .3, .2, .15, .05]),
                        dtype="Int64"),
        "la": la,
        "eth": eth,
        "fsm": rng.choice([True, False], n),
        "sen": rng.choice(["N", "K", "E"], n),
        "w": rng.uniform(1.0, 30.0, n),
    })


@pytest.fixture(scope="module")
def pdf():
    return _extract()


@pytest.fixture(scope="module")
def sdf(spark, pdf):
    return spark.createDataFrame(pdf).cache()


def test_the_extract_has_missing_keys_on_spark(sdf):
    from pyspark.sql import functions as F

    nulls = sdf.select(*[F.sum(F.col(c).isNull().cast("int")).alias(c) for c in ("yob", "eth")]).first()
    nans = sdf.where(F.isnan("la")).count() + sdf.where(F.col("la").isNull()).count()
    assert nulls["yob"] > 0 and nulls["eth"] > 0 and nans > 0


@pytest.mark.parametrize("missing", ["category", "never"])
@pytest.mark.parametrize("weights", [None, "w"])
def test_k_anonymity(pdf, sdf, missing, weights):
    local = idrisk.k_anonymity(pdf, QIS, missing=missing, weights=weights, k=(2, 3, 5, 10, 20))
    res = idrisk.k_anonymity(sdf, QIS, missing=missing, weights=weights, k=(2, 3, 5, 10, 20))
    same_result(local, res)
    assert local.n1 > 0 and local.n2 > 0  # the case exercises uniques and pairs
    got = per_record(res.fk, pdf, ["fk"], "row")
    np.testing.assert_array_equal(got["fk"].to_numpy(), local.fk.to_numpy())
    if weights is not None:
        got = per_record(res.Fk, pdf, ["Fk_pop"], "row")
        np.testing.assert_allclose(got["Fk_pop"].to_numpy(), local.Fk.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("missing", ["category", "never"])
def test_frequencies(pdf, sdf, missing):
    local = idrisk.frequencies(pdf, QIS, weights="w", missing=missing)
    got = per_record(idrisk.frequencies(sdf, QIS, weights="w", missing=missing), pdf,
                     ["fk", "Fk_pop"], "row")
    np.testing.assert_array_equal(got["fk"].to_numpy(), local["fk"].to_numpy())
    np.testing.assert_allclose(got["Fk_pop"].to_numpy(), local["Fk"].to_numpy(), rtol=1e-12)


def test_frequencies_without_weights_has_fk_twice(pdf, sdf):
    got = per_record(idrisk.frequencies(sdf, QIS), pdf, ["fk", "Fk_pop"], "row")
    np.testing.assert_array_equal(got["fk"].to_numpy(), idrisk.frequencies(pdf, QIS)["fk"].to_numpy())
    np.testing.assert_array_equal(got["Fk_pop"].to_numpy(), got["fk"].to_numpy())


@pytest.mark.parametrize("missing", ["category", "never"])
def test_sample_risks(pdf, sdf, missing):
    local = idrisk.sample_risks(pdf, QIS, missing=missing, thresholds=(0.05, 0.2, 0.5))
    same_result(local, idrisk.sample_risks(sdf, QIS, missing=missing, thresholds=(0.05, 0.2, 0.5)))
    close(local.to_dict(), idrisk.sample_risks(sdf, QIS, missing=missing,
                                               thresholds=(0.05, 0.2, 0.5)).to_dict())


@pytest.mark.parametrize("as_spark", [False, True])
def test_sample_risks_with_a_population_table(spark, pdf, sdf, as_spark):
    """ARX's research-subset setting: the population (the extract and more records) counted on Spark."""
    pop = pd.concat([pdf, _extract(n=900, seed=11)], ignore_index=True)
    local = idrisk.sample_risks(pdf, QIS, population=pop, thresholds=(0.05, 0.2, 0.5))
    assert local.population_records == len(pop)
    got = idrisk.sample_risks(sdf, QIS, population=spark.createDataFrame(pop) if as_spark else pop,
                              thresholds=(0.05, 0.2, 0.5))
    close(local.to_dict(), got.to_dict())  # floats to 1e-12: the sums run over the classes in another order
    assert got.marketer.success_rate != got.prosecutor.success_rate  # the population counts were used
    # under missing="never" a key with a missing value is alone in the population too: refused on both
    with pytest.raises(DataValidationError, match="fewer records than the sample"):
        idrisk.sample_risks(pdf, QIS, population=pop, missing="never")
    with pytest.raises(DataValidationError, match="fewer records than the sample"):
        idrisk.sample_risks(sdf, QIS, population=pop, missing="never")
    # a population lacking sampled records is refused with the same message
    with pytest.raises(DataValidationError, match="fewer records than the sample"):
        idrisk.sample_risks(sdf, QIS, population=pop.iloc[len(pdf) // 2:])


@pytest.mark.parametrize("missing", ["category", "never"])
def test_qi_importance(pdf, sdf, missing):
    """Every subset's distinction and separation, from the distinct keys counted on Spark."""
    local = idrisk.qi_importance(pdf, QIS, missing=missing)
    got = idrisk.qi_importance(sdf, QIS, missing=missing)
    assert len(got) == 2 ** len(QIS) - 1
    pd.testing.assert_frame_equal(got, local, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("method", ["approx", "exact"])
@pytest.mark.parametrize("weights", [None, "w"])
def test_individual_and_global_risk(pdf, sdf, method, weights):
    kw = dict(weights=weights, method=method, missing="category")
    local = idrisk.individual_risk(pdf, QIS, **kw)
    got = per_record(idrisk.individual_risk(sdf, QIS, **kw), pdf, ["fk", "Fk_pop", "risk"], "row")
    np.testing.assert_array_equal(got["fk"].to_numpy(), local["fk"].to_numpy())
    np.testing.assert_allclose(got["Fk_pop"].to_numpy(), local["Fk"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["risk"].to_numpy(), local["risk"].to_numpy(), rtol=1e-12)
    for mgr in (0.01, 0.05, 0.2, 0.6):
        same_result(idrisk.global_risk(pdf, QIS, max_global_risk=mgr, **kw),
                    idrisk.global_risk(sdf, QIS, max_global_risk=mgr, **kw))


def test_global_threshold_levels_are_exercised(pdf, sdf):
    """The thresholds above cover the three outcomes: None, 0 and a risk level."""
    seen = {idrisk.global_risk(pdf, QIS, max_global_risk=m, missing="category").global_threshold
            for m in (0.01, 0.3, 0.6)}
    assert None in seen and 0.0 in seen and any(t not in (None, 0.0) for t in seen)


def test_individual_risk_never_rule_without_weights(pdf, sdf):
    local = idrisk.individual_risk(pdf, QIS, missing="never")
    got = per_record(idrisk.individual_risk(sdf, QIS, missing="never"), pdf, ["fk", "risk"], "row")
    np.testing.assert_array_equal(got["fk"].to_numpy(), local["fk"].to_numpy())
    np.testing.assert_allclose(got["risk"].to_numpy(), local["risk"].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("method", ["approx", "exact"])
def test_individual_risk_never_rule_with_weights(pdf, sdf, method):
    """A record with a missing key is a class of one whose Fk is its own weight."""
    kw = dict(weights="w", missing="never", method=method)
    local = idrisk.individual_risk(pdf, QIS, **kw)
    got = per_record(idrisk.individual_risk(sdf, QIS, **kw), pdf, ["fk", "Fk_pop", "risk"], "row")
    alone = pdf[QIS].isna().any(axis=1).to_numpy()
    assert alone.any() and (local["risk"].to_numpy()[alone] < 1).any()  # not the unweighted 1
    np.testing.assert_array_equal(got["fk"].to_numpy(), local["fk"].to_numpy())
    np.testing.assert_allclose(got["Fk_pop"].to_numpy(), local["Fk"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["risk"].to_numpy(), local["risk"].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("method", ["approx", "exact"])
def test_household_risk_never_rule_with_weights(pdf, sdf, method):
    """The household risk from the members' risks, those with a missing key among them (classes of
    one whose Fk is their own weight): per record and summed, as on pandas."""
    from pyspark.sql import functions as F

    kw = dict(weights="w", missing="never", method=method, household="hh")
    hpdf, hsdf = pdf.assign(hh=pdf["row"] // 3), sdf.withColumn("hh", F.floor(F.col("row") / 3))
    local = idrisk.individual_risk(hpdf, QIS, **kw)
    got = per_record(idrisk.individual_risk(hsdf, QIS, **kw), hpdf, ["risk", "household_risk"], "row")
    alone = hpdf[QIS].isna().any(axis=1).to_numpy()
    mixed = hpdf.assign(alone=alone).groupby("hh")["alone"].agg(["any", "all"])
    assert (mixed["any"] & ~mixed["all"]).any()  # households with members of both kinds
    np.testing.assert_allclose(got["risk"].to_numpy(), local["risk"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["household_risk"].to_numpy(), local["household_risk"].to_numpy(), rtol=1e-12)
    kw.pop("method")
    same_result(idrisk.global_risk(hpdf, QIS, method=method, **kw), idrisk.global_risk(hsdf, QIS, method=method, **kw))


def test_individual_risk_default_missing_warns_like_pandas(pdf, sdf):
    with pytest.warns(FutureWarning, match="default of missing changed"):
        idrisk.global_risk(sdf, QIS)


@pytest.mark.parametrize("max_size", [None, 2, 3])
def test_combination_sweep(pdf, sdf, max_size):
    local = idrisk.combination_sweep(pdf, QIS, max_size=max_size, k=(2, 5))
    res = idrisk.combination_sweep(sdf, QIS, max_size=max_size, k=(2, 5))
    pd.testing.assert_frame_equal(res, local)


def test_suda_max_seconds(pdf, sdf, monkeypatch):
    """max_seconds bounds the SUDA2 search on the driver as on pandas: a generous limit changes
    nothing, and a clock that passes the limit stops it with the same error."""
    import idrisk.metrics._suda as S

    same_result(idrisk.suda(pdf, QIS, max_size=3), idrisk.suda(sdf, QIS, max_size=3, max_seconds=3600))

    class Clock:  # one second at every reading
        def __init__(self):
            self.t = 0.0

        def monotonic(self):
            self.t += 1.0
            return self.t

    monkeypatch.setattr(S, "time", Clock())
    with pytest.raises(idrisk.exceptions.ResourceLimitError, match="stopped at max_seconds=1.5"):
        idrisk.suda(sdf, QIS, max_seconds=1.5)


@pytest.mark.parametrize("kw", [{}, {"max_size": 3}, {"sampling_fraction": 0.1, "score": "ihsn"}])
def test_suda(pdf, sdf, kw):
    local = idrisk.suda(pdf, QIS, **kw)
    res = idrisk.suda(sdf, QIS, **kw)
    same_result(local, res)
    assert local.n_sample_uniques > 0 and local.n_in_pairs > 0
    pd.testing.assert_series_equal(res.attribute_contributions, local.attribute_contributions,
                                   rtol=1e-12)
    lv, rv = local.attribute_level_contributions, res.attribute_level_contributions
    assert lv["variable"].tolist() == rv["variable"].tolist()
    assert lv["value"].tolist() == rv["value"].tolist()
    assert [type(v) for v in lv["value"]] == [type(v) for v in rv["value"]]
    np.testing.assert_allclose(rv["contribution"], lv["contribution"], rtol=1e-12)
    cols = list(local.scores.columns)
    got = per_record(res.scores, pdf, cols, "row")
    for c in cols:
        exp = local.scores[c].to_numpy(dtype=np.float64, na_value=np.nan)
        np.testing.assert_allclose(got[c].to_numpy(dtype=np.float64, na_value=np.nan), exp,
                                   rtol=1e-12, err_msg=c)


@pytest.mark.parametrize("kw", [{}, {"c": 3, "sensitive_na": "category"}, {"missing_code": "E"},
                                {"c": 1.5}])
def test_l_diversity(pdf, sdf, kw):
    sens = ["sen", "eth"]
    qis = ["sex", "yob", "la", "fsm"]
    local = idrisk.l_diversity(pdf, qis, sens, **kw)
    res = idrisk.l_diversity(sdf, qis, sens, **kw)
    same_result(local, res)
    cols = list(local.per_record.columns)
    got = per_record(res.per_record, pdf, cols, "row")
    for c in cols:
        np.testing.assert_allclose(got[c].to_numpy(dtype=float), local.per_record[c].to_numpy(dtype=float),
                                   rtol=1e-12, err_msg=c)


def test_l_diversity_case_exercises_the_rules(pdf):
    """The options compared above change the figures on this extract, so each rule is used."""
    qis = ["sex", "yob", "la", "fsm"]
    base = idrisk.l_diversity(pdf, qis, ["sen", "eth"]).per_record
    na_cat = idrisk.l_diversity(pdf, qis, ["sen", "eth"], sensitive_na="category").per_record
    mcode = idrisk.l_diversity(pdf, qis, ["sen", "eth"], missing_code="E").per_record
    assert (base["eth_distinct"] != na_cat["eth_distinct"]).any()
    assert (base["sen_recursive"] != mcode["sen_recursive"]).any()
    assert base["sen_distinct"].min() == 1


@pytest.mark.parametrize("kw", [{}, {"distance": "ordered"}, {"distance": "ordered", "order": ["N", "K", "E"]}])
@pytest.mark.parametrize("sens", ["sen", "eth", "yob"])
def test_t_closeness(pdf, sdf, kw, sens):
    qis = ["sex", "la", "fsm"] if sens == "yob" else ["sex", "yob", "la", "fsm"]
    if kw.get("distance") == "ordered" and pdf[sens].isna().any():
        with pytest.raises(DataValidationError, match="missing value"):
            idrisk.t_closeness(sdf, qis, sens, **kw)
        return
    if "order" in kw and sens != "sen":
        return
    local = idrisk.t_closeness(pdf, qis, sens, **kw)
    res = idrisk.t_closeness(sdf, qis, sens, **kw)
    same_result(local, res)
    assert local.t > 0
    got = per_record(res.class_id, pdf, ["tcloseness_distance"], "row")
    expected = local.per_class["distance"].to_numpy()[local.class_id.to_numpy()]
    np.testing.assert_allclose(got["tcloseness_distance"].to_numpy(), expected, rtol=1e-12)
    np.testing.assert_array_equal(np.sort(res.per_class["size"].to_numpy()),
                                  np.sort(local.per_class["size"].to_numpy()))


def test_pyspark_is_only_imported_for_spark_frames():
    import subprocess
    import sys

    code = ("import sys, pandas as pd, idrisk; idrisk.k_anonymity(pd.DataFrame({'a': [1, 1]}), ['a']);"
            "assert 'pyspark' not in sys.modules, 'pyspark imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unsupported_metric_and_convention_are_refused(sdf):
    from idrisk.metrics._classes import engine_for

    with pytest.raises(DataValidationError, match="does not accept a pyspark DataFrame yet"):
        engine_for(sdf, "a_metric_spark_lacks")
    with pytest.raises(InvalidParameterError, match="wildcard"):
        idrisk.qi_importance(sdf, QIS, missing="wildcard")
    with pytest.raises(InvalidParameterError, match="does not partition"):
        idrisk.l_diversity(sdf, QIS, "sen", missing="wildcard")
    with pytest.raises(InvalidParameterError, match="wildcard"):  # no partition into classes
        idrisk.sample_risks(sdf, QIS, missing="wildcard")
    with pytest.raises(InvalidParameterError, match="name of a column"):
        idrisk.k_anonymity(sdf, QIS, weights=np.ones(3))


def test_absent_columns_reported_at_once(sdf):
    with pytest.raises(DataValidationError, match="nope, nada"):
        idrisk.k_anonymity(sdf, ["sex", "nope", "nada"])


def test_bad_weights_are_refused(spark):
    df = spark.createDataFrame(pd.DataFrame({"a": [1, 1, 2], "w": [1.0, -2.0, np.nan]}))
    with pytest.raises(DataValidationError, match="1 missing, 1 negative"):
        idrisk.k_anonymity(df, ["a"], weights="w")


def test_the_intruder_needs_the_truth_by_id_on_a_spark_table(sdf, pdf):
    """A Spark table has no row positions: the intruder's truth must be by id (the Spark path
    itself: tests/spark/test_spark_intruder_table.py; ``assess``: test_spark_assess.py)."""
    with pytest.raises(InvalidParameterError, match="id_column"):
        idrisk.simulate_intruder(sdf, pdf, idrisk.IntruderScenario(name="x", quasi_identifiers=QIS))


def test_pandas_on_spark_frame_is_refused():
    """pyspark.pandas cannot be imported with pandas 3: a stand-in of its frame type."""
    PandasOnSpark = type("DataFrame", (), {"__module__": "pyspark.pandas.frame"})
    with pytest.raises(InvalidParameterError, match="to_spark"):
        idrisk.k_anonymity(PandasOnSpark(), QIS)


def test_empty_table_is_refused(sdf):
    empty = sdf.where("row < 0")
    for call in (lambda: idrisk.k_anonymity(empty, QIS), lambda: idrisk.l_diversity(empty, QIS, "sen"),
                 lambda: idrisk.suda(empty, QIS)):
        with pytest.raises(DataValidationError, match="0 rows"):
            call()


def test_global_risk_never_rule_with_weights(pdf, sdf):
    """Records with a missing key are classes of one, each with its own Benedetti-Franconi risk."""
    kw = dict(weights="w", missing="never")
    same_result(idrisk.global_risk(pdf, QIS, **kw), idrisk.global_risk(sdf, QIS, **kw))


@pytest.mark.parametrize("kw", [{"sampling_fraction": 0.05}, {"population_size": 9000}])
def test_unique_match_probability(pdf, sdf, kw):
    """The Skinner-Elliot probability from the sample cells of size 1 and 2 counted on Spark."""
    local = idrisk.unique_match_probability(pdf, ["sex", "yob", "la"], **kw)
    assert 0 < local < 1
    assert math.isclose(idrisk.unique_match_probability(sdf, ["sex", "yob", "la"], **kw), local, rel_tol=1e-12)


@pytest.mark.parametrize("missing", ["category", "wildcard"])
def test_what_if(pdf, sdf, missing):
    """idrisk.what_if of a Spark table (its distinct rows counted on Spark) as of the pandas frame."""
    local = idrisk.what_if(pdf, QIS, k=5, missing=missing)
    assert local.candidates and local.before.at_risk > 0
    same_result(local, idrisk.what_if(sdf, QIS, k=5, missing=missing))
