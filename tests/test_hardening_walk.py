"""A walk over the public API: every conventional parameter of every public function is given
a wrong type and an out-of-range value, and the answer is an idrisk error naming it, never a
raw TypeError/ValueError from pandas or numpy (the idea of scikit-learn's
``test_public_functions.py``)."""

from __future__ import annotations

import inspect
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import idrisk
import idrisk.datasets as ds
import idrisk.intruder as it
from idrisk.exceptions import IdRiskError

N = 60
_rng = np.random.default_rng(0)
DF = pd.DataFrame({"a": _rng.choice(list("xyz"), N), "b": _rng.integers(0, 3, N), "s": _rng.choice(list("pq"), N),
                   "w": _rng.uniform(5, 10, N)})
#: a valid value of each required parameter
BASE = {"data": DF, "quasi_identifiers": ["a", "b"], "sensitive": "s", "columns": ["a", "b"]}
#: per function: valid keywords it needs besides BASE
EXTRA = {"population_uniqueness": {"population_size": 1000}, "unique_match_probability": {"sampling_fraction": 0.1}}
#: wrong types and out-of-range values, by parameter name (docs/conventions.md names first)
BAD = {
    "data": [5, pd.DataFrame(), "not a frame"],
    "quasi_identifiers": [5, "nope", [], [["a"]], ["a", "a"]],
    "columns": [5, "nope", []],
    "sensitive": ["nope", 5, []],
    "weights": ["nope", [1j] * N, [0] * N, [-1.0] * N, [1.0] * (N - 1), [np.nan] * N, [1e308] * N, ["1"] * N,
                pd.Series(np.ones(N), index=np.arange(N) + 1000)],
    "k": [0, "x", -1, 2.5, []],
    "max_size": [0, "x", -1],
    "missing": ["bogus", 5],
    "seed": [-1, "x", 1.5],
    "sampling_fraction": [0, 2, "x", float("nan")],
    "population_size": [0, "x", -5],
    "alpha": [-1, "x"], "qual": [0, "x"], "c": [0, "x"], "method": ["x"], "distance": ["x"], "score": ["x"],
    "thresholds": [[2], "x"], "order": [5], "missing_code": [[1]], "household": ["nope"],
    "max_global_risk": [-1, "x"], "sensitive_na": ["x"], "geography": [5, "la"], "groupings": [5],
    "drivers": [5], "profile": ["x", 5], "n1": [-1, "x"], "n2": [-1, "x"], "population": [5],
    "warn_identifiers": ["x"], "max_seconds": [0, "x", -1, float("nan")],
}
FUNCTIONS = ["combination_sweep", "encode", "frequencies", "global_risk", "individual_risk", "k_anonymity",
             "l_diversity", "population_uniqueness", "qi_importance", "sample_risks", "suda", "t_closeness",
             "unique_match_probability", "what_if"]
#: public functions walked elsewhere: the configuration (tests/test_hardening_config.py) and below
ELSEWHERE = {"assess", "load_config", "simulate_intruder"}
#: known gaps, each a strict xfail: it fails the suite once fixed, so the entry must then go
GAPS: dict = {}


def _cases():
    for name in FUNCTIONS:
        sig = inspect.signature(getattr(idrisk, name))
        for p in sig.parameters:
            for bad in BAD.get(p, []):
                gap = GAPS.get((name, p, bad)) if isinstance(bad, str) else None
                marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
                yield pytest.param(name, p, bad, marks=marks, id=f"{name}-{p}-{type(bad).__name__}-{str(bad)[:12]}")


def _base(name):
    sig = inspect.signature(getattr(idrisk, name))
    kw = {p: BASE[p] for p in sig.parameters if p in BASE and (
        sig.parameters[p].default is inspect.Parameter.empty or p in ("data", "quasi_identifiers"))}
    return {**kw, **EXTRA.get(name, {})}


def test_every_public_function_is_walked():
    public = {n for n in idrisk.__all__ if inspect.isfunction(getattr(idrisk, n))}
    assert public == set(FUNCTIONS) | ELSEWHERE


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_valid_call_works(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(idrisk, name)(**_base(name))


@pytest.mark.parametrize("name, param, bad", list(_cases()))
def test_a_bad_parameter_is_an_idrisk_error(name, param, bad):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(IdRiskError):
            getattr(idrisk, name)(**{**_base(name), param: bad})


@pytest.fixture(scope="module")
def pupils():
    pop = ds.make_population(2000, seed=1)
    sc = it.IntruderScenario(name="gate", quasi_identifiers=["urn", "sex", "birth_year", "birth_month"], targets=50)
    return pop, ds.extract(pop, "ks4").data, sc


def test_the_valid_intruder_and_datasets_calls_work(pupils):
    pop, ex, sc = pupils
    aux = it.make_auxiliary(ex, sc, seed=1)
    assert len(aux) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert it.simulate_intruder(ex, aux, sc, seed=1) is not None
        assert it.run_scenarios(ex, pop, [sc], n_repeats=2, seed=1) is not None
    assert len(ds.nosy_neighbour(pop, 5, seed=1)) == 5 and len(ds.social_media_profiles(pop, 5, seed=1)) > 0
    assert len(ds.school_tables(pop)) > 0 and ds.visible_columns(ex)


INTRUDER_AND_DATASETS = {
    "make_population n=0": lambda pop, ex, sc: ds.make_population(0),
    "make_population n=x": lambda pop, ex, sc: ds.make_population("x"),
    "make_population seed=-1": lambda pop, ex, sc: ds.make_population(10, seed=-1),
    "make_schools n=0": lambda pop, ex, sc: ds.make_schools(0),
    "make_schools seed=-1": lambda pop, ex, sc: ds.make_schools(3, seed=-1),
    "make_geography n=0": lambda pop, ex, sc: ds.make_geography(0),
    "extract kind": lambda pop, ex, sc: ds.extract(pop, "x"),
    "extract population": lambda pop, ex, sc: ds.extract(5, "ks4"),
    "nosy_neighbour n_targets=-1": lambda pop, ex, sc: ds.nosy_neighbour(pop, -1),
    "nosy_neighbour seed=-1": lambda pop, ex, sc: ds.nosy_neighbour(pop, 5, seed=-1),
    "nosy_neighbour error_rate=2": lambda pop, ex, sc: ds.nosy_neighbour(pop, 5, error_rate=2),
    "social_media_profiles n=-1": lambda pop, ex, sc: ds.social_media_profiles(pop, -1),
    "social_media_profiles seed=-1": lambda pop, ex, sc: ds.social_media_profiles(pop, 5, seed=-1),
    "school_tables min_cohort=-1": lambda pop, ex, sc: ds.school_tables(pop, min_cohort=-1),
    "school_tables population": lambda pop, ex, sc: ds.school_tables(5),
    "visible_columns frame": lambda pop, ex, sc: ds.visible_columns(5),
    "load_public name": lambda pop, ex, sc: ds.load_public("nope"),
    "load_public 5": lambda pop, ex, sc: ds.load_public(5),
    "write_population n=0": lambda pop, ex, sc: ds.write_population("never-written.parquet", 0),
    "make_auxiliary seed=-1": lambda pop, ex, sc: it.make_auxiliary(ex, sc, seed=-1),
    "make_auxiliary scenario": lambda pop, ex, sc: it.make_auxiliary(ex, 5),
    "make_auxiliary extract": lambda pop, ex, sc: it.make_auxiliary(5, sc),
    "load_scenarios 5": lambda pop, ex, sc: it.load_scenarios(5),
    "load_scenarios name": lambda pop, ex, sc: it.load_scenarios("nope"),
    "simulate_intruder seed=-1": lambda pop, ex, sc: it.simulate_intruder(ex, it.make_auxiliary(ex, sc), sc, seed=-1),
    "simulate_intruder sampling_fraction=2": lambda pop, ex, sc: it.simulate_intruder(
        ex, it.make_auxiliary(ex, sc), sc, sampling_fraction=2),
    "simulate_intruder max_pairs=0": lambda pop, ex, sc: it.simulate_intruder(ex, it.make_auxiliary(ex, sc), sc,
                                                                              max_pairs=0),
    "simulate_intruder memory_budget=0": lambda pop, ex, sc: it.simulate_intruder(
        ex, it.make_auxiliary(ex, sc), sc, memory_budget=0),
    "simulate_intruder memory_budget=x": lambda pop, ex, sc: it.simulate_intruder(
        ex, it.make_auxiliary(ex, sc), sc, memory_budget="x"),
    "simulate_intruder memory_budget=1": lambda pop, ex, sc: it.simulate_intruder(
        ex, it.make_auxiliary(ex, sc), sc, memory_budget=1),
    "run_scenarios memory_budget=-1": lambda pop, ex, sc: it.run_scenarios(ex, pop, [sc], memory_budget=-1),
    "run_scenarios max_pairs=0": lambda pop, ex, sc: it.run_scenarios(ex, pop, [sc], max_pairs=0),
    "simulate_intruder engine": lambda pop, ex, sc: it.simulate_intruder(ex, it.make_auxiliary(ex, sc), sc,
                                                                         engine="x"),
    "run_scenarios n_repeats=0": lambda pop, ex, sc: it.run_scenarios(ex, pop, [sc], n_repeats=0),
    "run_scenarios level=2": lambda pop, ex, sc: it.run_scenarios(ex, pop, [sc], level=2),
    "run_scenarios seed=-1": lambda pop, ex, sc: it.run_scenarios(ex, pop, [sc], seed=-1),
    "load_config 5": lambda pop, ex, sc: idrisk.load_config(5),
}


@pytest.mark.parametrize("call", [v if isinstance(v, type(pytest.param(0))) else pytest.param(v, id=k)
                                  for k, v in INTRUDER_AND_DATASETS.items()])
def test_intruder_and_datasets_parameters(pupils, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(IdRiskError):
            call(*pupils)


@pytest.mark.parametrize("kw, message", [
    ({"progress": "yes"}, "assess: progress must be true or false or absent (None); got str"),
    ({"quasi_identifiers": 5}, "assess: quasi_identifiers must be a non-empty list of column names (strings) "
                               "or absent (None); got int 5"),
    ({"quasi_identifiers": []}, "assess: quasi_identifiers must be a non-empty list"),
    ({"scenarios": 5}, "config [[scenario]]: an assessment needs at least one scenario"),
    ({"thresholds": 5}, "config [thresholds]: thresholds must be a table"),
])
def test_assess_keywords(kw, message):
    kw = {"quasi_identifiers": ["a"], **kw} if "scenarios" not in kw else kw
    with pytest.raises(IdRiskError, match="^" + re.escape(message)):
        idrisk.assess(DF, **kw)
