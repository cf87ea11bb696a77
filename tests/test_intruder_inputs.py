"""Simulated intruder: scenarios and presets, auxiliary data, bad input, stability across seeds."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import naive_intruder as naive

from idrisk.exceptions import DataQualityWarning, DataValidationError, InvalidParameterError
from idrisk.intruder import (
    TRUTH_COLUMN,
    IntruderScenario,
    load_scenarios,
    make_auxiliary,
    run_scenarios,
    simulate_intruder,
)


@pytest.fixture(scope="module")
def pupils():
    """6,000 pupils of the synthetic population (idrisk.datasets), every year group."""
    from idrisk.datasets import make_population

    return make_population(6000, seed=3)


# --------------------------------------------------------------------------- scenarios


def test_defaults_describe_error_free_intruder_targeting_everyone():
    sc = IntruderScenario(name="d", quasi_identifiers=["a", "b"])
    assert sc.targets == "all" and sc.response_knowledge is True
    assert sc.error_rate == {"a": 0.0, "b": 0.0} and sc.missing_rate == {"a": 0.0, "b": 0.0}
    assert sc.coarsening == {} and sc.time_lag_years == 0.0
    assert sc.claim_threshold == 0.5 and sc.high_confidence_threshold == 0.9
    # multi-pass over the held values: one pass per variable left out
    assert sc.blocking == [["b"], ["a"]] and sc.block_on_held is True
    assert IntruderScenario(name="d", quasi_identifiers=["a", "b"], blocking=[["a"]]).block_on_held is False
    assert {c.kind for c in sc.comparisons.values()} == {"exact"}
    json.dumps(sc.to_dict())


@pytest.mark.parametrize("kwargs, match", [
    ({"quasi_identifiers": []}, "non-empty"),
    ({"quasi_identifiers": "abc"}, "non-empty list"),
    ({"error_rate": 1.5}, r"error_rate must be in \[0.0, 1.0\]"),
    ({"error_rate": {"zzz": 0.1}}, "does not know: zzz"),
    ({"blocking": [["a", "q"]]}, "does not know: q"),
    ({"comparisons": {"a": "fuzzy"}}, "must be one of exact"),
    ({"coarsening": {"a": "decade"}}, "coarsening for 'a'"),
    ({"targets": 0}, "at least 1"),
    ({"targets": "some"}, "targets must be"),
    ({"claim_threshold": -0.1}, "claim_threshold"),
    ({"membership_prior": 0.0}, "membership_prior must be above 0"),
])
def test_scenario_rejects_bad_fields(kwargs, match):
    base = {"name": "x", "quasi_identifiers": ["a", "b"]}
    base.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match):
        IntruderScenario(**base)


def test_known_variables_is_a_deprecated_name_of_quasi_identifiers(tmp_path):
    """The old keyword, TOML key and attribute keep working for one release, with a warning."""
    with pytest.warns(DeprecationWarning, match="known_variables"):
        old = IntruderScenario(name="x", known_variables=["a", "b"])
    assert old == IntruderScenario(name="x", quasi_identifiers=["a", "b"])
    with pytest.warns(DeprecationWarning, match="known_variables"):
        assert old.known_variables == ("a", "b")
    f = tmp_path / "old.toml"
    f.write_text('[[scenario]]\nname = "mine"\nknown_variables = ["sex", "urn"]\n')
    with pytest.warns(DeprecationWarning, match="known_variables"):
        (s,) = load_scenarios(f)
    assert s.quasi_identifiers == ("sex", "urn")
    with pytest.warns(DeprecationWarning), pytest.raises(InvalidParameterError, match="not also"):
        IntruderScenario(name="x", quasi_identifiers=["a"], known_variables=["a"])


def test_presets_load_by_file_and_by_name(tmp_path):
    allp = load_scenarios("pupil")
    assert [s.name for s in allp] == ["nosy_neighbour", "journalist_fishing", "targeted_detailed", "bulk_linkage"]
    assert load_scenarios("bulk_linkage")[0].response_knowledge is False
    assert load_scenarios("nosy_neighbour")[0].comparisons["date_of_birth"].kind == "month"
    f = tmp_path / "s.toml"
    f.write_text('[[scenario]]\nname = "mine"\nquasi_identifiers = ["sex", "urn"]\ntargets = 10\n')
    (s,) = load_scenarios(f)
    assert s.name == "mine" and s.targets == 10 and s.quasi_identifiers == ("sex", "urn")
    with pytest.raises(InvalidParameterError, match="no preset named"):
        load_scenarios("nosy")
    f.write_text('[[scenario]]\nname = "bad"\nquasi_identifiers = ["a"]\ncolour = "red"\n')
    with pytest.raises(InvalidParameterError, match="unknown fields: colour"):
        load_scenarios(str(f))


# --------------------------------------------------------------------------- auxiliary data


def test_make_auxiliary_is_deterministic_and_keeps_input(pupils):
    sc = load_scenarios("nosy_neighbour")[0]
    before = pupils.copy()
    a1 = make_auxiliary(pupils, sc, seed=5)
    a2 = make_auxiliary(pupils, sc, seed=5)
    a3 = make_auxiliary(pupils, sc, seed=6)
    pd.testing.assert_frame_equal(pupils, before)
    pd.testing.assert_frame_equal(a1, a2)
    assert not a1.equals(a3)
    assert list(a1.columns) == list(sc.quasi_identifiers) + [TRUTH_COLUMN]
    assert len(a1) == sc.targets and a1[TRUTH_COLUMN].is_unique
    # row order is shuffled: it must not reveal the truth
    assert not a1[TRUTH_COLUMN].is_monotonic_increasing


def test_zero_divergence_auxiliary_equals_extract_rows(pupils):
    sc = IntruderScenario(name="z", quasi_identifiers=["urn", "sex", "date_of_birth"], targets=200)
    aux = make_auxiliary(pupils, sc, seed=0)
    src = pupils.iloc[aux[TRUTH_COLUMN].to_numpy()][["urn", "sex", "date_of_birth"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(aux[["urn", "sex", "date_of_birth"]], src, check_dtype=False)


def test_divergence_rates_and_coarsening(pupils):
    n = len(pupils)
    sc = IntruderScenario(name="d", quasi_identifiers=["ethnicity_major", "sen_provision", "date_of_birth",
                                                     "postcode_district"],
                          error_rate={"ethnicity_major": 0.2}, missing_rate={"sen_provision": 0.3},
                          coarsening={"date_of_birth": "month", "postcode_district": "prefix:2"})
    aux = make_auxiliary(pupils, sc, seed=1)
    src = pupils.iloc[aux[TRUTH_COLUMN].to_numpy()].reset_index(drop=True)
    changed = (aux["ethnicity_major"].astype(object) != src["ethnicity_major"].astype(object)).mean()
    # binomial(6000, 0.2): sd 0.0052; a few draws can land on the same value only if the
    # column were nearly constant (it is not), so the realised rate is the error rate
    assert abs(changed - 0.2) < 0.025
    assert abs(aux["sen_provision"].isna().mean() - 0.3) < 0.03
    assert (aux["date_of_birth"].dt.day == 1).all()
    assert (aux["date_of_birth"].dt.to_period("M") == src["date_of_birth"].dt.to_period("M")).all()
    # districts are 3-4 characters ("AT1", "AT12"): the 2-character prefix is the area
    assert (src["postcode_district"].astype(str).str.len() > 2).all()
    assert (aux["postcode_district"] == src["postcode_district"].astype(str).str[:2]).all()
    assert aux["ethnicity_major"].notna().all() and n == len(aux)


def test_time_lag_changes_values_at_the_compound_rate(pupils):
    sc = IntruderScenario(name="t", quasi_identifiers=["urn"], change_rate={"urn": 0.1}, time_lag_years=2.0)
    aux = make_auxiliary(pupils, sc, seed=2)
    src = pupils.iloc[aux[TRUTH_COLUMN].to_numpy()].reset_index(drop=True)
    changed = (aux["urn"].to_numpy() != src["urn"].to_numpy()).mean()
    assert abs(changed - (1 - 0.9 ** 2)) < 0.025  # 0.19


def test_named_targets(pupils):
    labels = list(pupils.index[[5, 17, 400]])
    sc = IntruderScenario(name="n", quasi_identifiers=["urn", "sex"], targets=labels)
    aux = make_auxiliary(pupils, sc, seed=0)
    assert sorted(aux[TRUTH_COLUMN]) == [5, 17, 400]
    with pytest.raises(DataValidationError, match="not index labels"):
        make_auxiliary(pupils, IntruderScenario(name="n", quasi_identifiers=["urn"], targets=[-99]))


# --------------------------------------------------------------------------- bad input


def test_auxiliary_without_scenario_columns(pupils):
    sc = IntruderScenario(name="s", quasi_identifiers=["urn", "sex", "year_group"])
    aux = make_auxiliary(pupils, sc).drop(columns=["sex", "year_group"])
    with pytest.raises(DataValidationError, match="lack the scenario 's'.s quasi-identifiers: sex, year_group"):
        simulate_intruder(pupils, aux, sc)


def test_mismatched_types_between_extract_and_auxiliary(pupils):
    sc = IntruderScenario(name="s", quasi_identifiers=["urn", "sex", "date_of_birth"])
    aux = make_auxiliary(pupils, sc)
    aux["urn"] = aux["urn"].astype(str)
    aux["date_of_birth"] = aux["date_of_birth"].dt.strftime("%Y-%m-%d")
    with pytest.raises(DataValidationError) as exc:
        simulate_intruder(pupils, aux, sc)
    msg = str(exc.value)
    assert "`urn` is number in the extract but text in the auxiliary data" in msg
    assert "`date_of_birth` is date in the extract but text" in msg


def test_comparison_kind_must_suit_the_column(pupils):
    sc = IntruderScenario(name="s", quasi_identifiers=["urn", "sex"], comparisons={"sex": "month"})
    aux = make_auxiliary(pupils, sc)
    with pytest.raises(DataValidationError, match="`sex` is text but its comparison 'month' needs date"):
        simulate_intruder(pupils, aux, sc)


def test_empty_blocks_and_no_candidate_pairs(pupils):
    sc = IntruderScenario(name="s", quasi_identifiers=["urn", "sex"], blocking=[["urn"], ["sex"]])
    aux = make_auxiliary(pupils, sc, seed=0)
    dead = aux.copy()
    dead["sex"] = None
    # one pass is empty: a warning, the other pass still links
    with pytest.warns(DataQualityWarning, match=r"blocking pass\(es\) \[sex\] added no candidate pairs"):
        r = simulate_intruder(pupils, dead, sc)
    assert r.pairs_per_pass[1] == 0 and r.pairs_per_pass[0] == r.n_candidate_pairs > 0
    assert r.targets_with_true_candidate == r.n_targets
    dead["urn"] = np.nan
    with pytest.raises(DataValidationError, match="blocking cannot form any block: `sex` is missing in every "
                                                  "auxiliary record; `urn` is missing"):
        simulate_intruder(pupils, dead, sc)
    none = aux.copy()
    none["urn"] = none["urn"] + 10_000_000  # no school in common
    with pytest.raises(DataValidationError, match="no candidate pairs"):
        simulate_intruder(pupils, none, IntruderScenario(name="s", quasi_identifiers=["urn", "sex"],
                                                         blocking=[["urn"]]))


def test_missing_truth_and_bad_arguments(pupils):
    sc = IntruderScenario(name="s", quasi_identifiers=["urn", "sex"])
    aux = make_auxiliary(pupils, sc)
    with pytest.raises(DataValidationError, match="no ground-truth column"):
        simulate_intruder(pupils, aux.drop(columns=[TRUTH_COLUMN]), sc)
    bad = aux.copy()
    bad[TRUTH_COLUMN] = bad[TRUTH_COLUMN] + len(pupils)
    with pytest.raises(DataValidationError, match="outside the extract"):
        simulate_intruder(pupils, bad, sc)
    with pytest.raises(InvalidParameterError, match="IntruderScenario"):
        simulate_intruder(pupils, aux, {"name": "s"})
    with pytest.raises(InvalidParameterError, match="seed"):
        simulate_intruder(pupils, aux, sc, seed=-1)
    with pytest.raises(DataValidationError, match="more than max_pairs=10"):
        simulate_intruder(pupils, aux, IntruderScenario(name="s", quasi_identifiers=["urn", "sex"],
                                                        blocking=[["sex"]]), max_pairs=10)
    with pytest.raises(DataValidationError, match="empty"):
        simulate_intruder(pupils.iloc[:0], aux, sc)


# --------------------------------------------------------------------------- results


def test_result_is_aggregate_and_json(pupils):
    sc = load_scenarios("nosy_neighbour")[0]
    aux = make_auxiliary(pupils, sc, seed=0)
    before = aux.copy()
    r = simulate_intruder(pupils, aux, sc, seed=0)
    pd.testing.assert_frame_equal(aux, before)
    d = r.to_dict()
    text = json.dumps(d)
    # no record-level content: no list longer than the number of bands / passes / fields
    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            assert len(x) <= 10
            for v in x:
                walk(v)
    walk(d)
    for v in pupils["postcode_district"].unique():  # no postcode value leaks
        assert not re.search(rf"\b{v}\b", text), v
    assert 0 <= r.correct_claims <= r.claims <= r.n_targets
    assert r.high_confidence_correct <= r.high_confidence_claims <= r.claims
    assert r.by_confidence["claims"].sum() == r.claims
    assert r.by_confidence["correct"].sum() == r.correct_claims
    assert r.unique_matches_correct <= r.unique_matches
    assert 0 <= r.brier_score <= 1
    assert r.targets_with_true_candidate <= r.n_targets


def test_claims_are_scored_against_truth_by_hand():
    """Three targets: one unique (correct), one tie of two, one with a wrong value.

    Blocking on ``k`` alone; the probabilities are normalised over *every* extract record
    (docs/methods.md#joint-frequencies), so a record blocking missed still counts. By hand with
    the plain reference (tests/naive_intruder.py): the fitted m is the EM's fixed point, and P
    follows from the record factors.
    """
    ext = pd.DataFrame({"k": ["a", "b", "b", "c"], "x": [1, 2, 2, 3]})
    aux = pd.DataFrame({"k": ["a", "b", "c"], "x": [1, 2, 9], TRUTH_COLUMN: [0, 2, 3]})
    sc = IntruderScenario(name="h", quasi_identifiers=["k", "x"], blocking=[["k"]])
    r = simulate_intruder(ext, aux, sc, seed=0)
    m = np.array([r.em["m"]["k"], r.em["m"]["x"]])
    rows = list(zip(ext["k"], ext["x"]))
    targets = list(zip(aux["k"], aux["x"]))
    # shares of all extract records; 9 is not in the extract (never agrees: 1 / (2 n))
    shares = [{"a": 0.25, "b": 0.5, "c": 0.25}, {1: 0.25, 2: 0.5, 3: 0.25, 9: 0.125}]
    scales = [{a: naive.disagreement_scale(list(ext[v]), a) for a in shares[i]} for i, v in enumerate(["k", "x"])]
    assert scales[0]["a"] == pytest.approx((2 / 0.5 + 1 / 0.75) / 3)  # records b, b, c
    # m is the EM's fixed point: the posterior expected agreement of each target's own record
    # (k: 1, kept since no target contradicts it; x: the one wrong value of three)
    post = [naive.joint_posterior(rows, t, m, shares, scales) for t in targets]
    agree_x = np.mean([sum(q for q, row in zip(pp, rows) if row[1] == t[1]) for pp, t in zip(post, targets)])
    assert m[0] == pytest.approx(1.0, abs=1e-12) and m[1] == pytest.approx(agree_x, abs=1e-6)
    p = np.array([naive.joint_posterior(rows, t, m, shares, scales)[e] for t, e in zip(targets, [0, 1, 3])])
    # x = 9 exists nowhere: the value is wrong and k = c points at one record only
    assert m[1] < 1 and p[2] == pytest.approx(1.0, abs=1e-6)
    claimed = p >= 0.5 - 1e-12  # the claim rule's tolerance (the tie of two sits at 1/2)
    assert r.claims == int(claimed.sum())
    assert r.expected_correct == pytest.approx(float(p[claimed].sum()), rel=1e-6)
    assert r.unique_matches == 1 and r.unique_matches_correct == 1  # only 'a' agrees on all
    # the exact-match intruder claims 'a' (one record), not 'b' (two) nor 'c' (none has 9)
    assert (r.exact_match_claims, r.exact_match_correct) == naive.exact_match_claims(rows, targets, [0, 2, 3]) \
        == (1, 1)


# --------------------------------------------------------------------------- run_scenarios


def test_run_scenarios_stable_across_seeds():
    """The documented nosy-neighbour preset on the synthetic population (idrisk.datasets):
    runs with fresh seeds fall inside the reported 99% prediction interval."""
    from idrisk.datasets import make_population

    pop = make_population(10_000, seed=11)
    ext = pop.sample(frac=0.5, random_state=1).sort_index()
    sc = load_scenarios("nosy_neighbour")[0]
    res = run_scenarios(ext, pop, sc, seed=0, n_repeats=20, level=0.99)
    json.dumps(res.to_dict())
    assert len(res.runs) == 20 and res.runs["seed"].nunique() == 20
    summ = res.summary.set_index("metric")
    fresh = run_scenarios(ext, pop, sc, seed=123, n_repeats=3).runs
    for metric in ("claims", "correct_claims", "precision", "reidentification_rate"):
        lo, hi = summ.loc[metric, "lower"], summ.loc[metric, "upper"]
        assert lo <= summ.loc[metric, "mean"] <= hi
        assert ((fresh[metric] >= lo) & (fresh[metric] <= hi)).all(), (metric, lo, hi, fresh[metric].tolist())
    # the interval is informative: narrower than the metric's range
    assert summ.loc["precision", "upper"] - summ.loc["precision", "lower"] < 0.5


def test_run_scenarios_all_presets_and_membership(pupils):
    ext = pupils.sample(frac=0.4, random_state=0)
    res = run_scenarios(ext, pupils, "pupil", seed=1, n_repeats=1)
    assert list(res.runs["scenario"]) == ["nosy_neighbour", "journalist_fishing", "targeted_detailed", "bulk_linkage"]
    runs = res.runs.set_index("scenario")
    # with response knowledge, targets are members; without, drawn from the population
    assert runs.loc["nosy_neighbour", "n_targets_in_extract"] == runs.loc["nosy_neighbour", "n_targets"]
    assert runs.loc["bulk_linkage", "n_targets_in_extract"] < runs.loc["bulk_linkage", "n_targets"]
    # Skinner-Elliot theta at pi = 0.4 from the extract's classes on the known variables
    for sc in load_scenarios("pupil"):
        sizes = ext.groupby(list(sc.quasi_identifiers), dropna=False, observed=True).size()
        n1, n2 = int((sizes == 1).sum()), int((sizes == 2).sum())
        theta = 0.4 * n1 / (0.4 * n1 + 2 * 0.6 * n2) if n1 else np.nan
        assert runs.loc[sc.name, "skinner_elliot_theta"] == pytest.approx(theta, nan_ok=True)
    assert runs.loc["journalist_fishing", "skinner_elliot_theta"] < 1
    with pytest.raises(DataValidationError, match="not found in the population"):
        run_scenarios(ext.assign(pupil_id="X" + ext["pupil_id"]), pupils, "pupil")
