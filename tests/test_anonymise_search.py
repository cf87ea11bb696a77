"""Search correctness against a naive exhaustive enumeration, the contract, and bad input.

The naive reference recomputes each node with pandas from the record-level table (no shared
code with the engine): generalise, group, suppress every record of every failing class,
ARX's Loss by its definition (docs/methods.md#anonymisation).
"""

import itertools
import json
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idrisk
from idrisk.anonymise import bands, prefixes
from idrisk.anonymise.api import _problem
from idrisk.anonymise.search import optimal_node
from idrisk.exceptions import DataValidationError, InvalidParameterError


def _naive_node(data, qis, tables, node, k, limit, ldiv):
    gen = pd.DataFrame({q: data[q].astype(str).map(dict(zip(tables[q][0], tables[q][lv])))
                        for q, lv in zip(qis, node)})
    grp = gen.groupby(qis, sort=False)
    size = grp[qis[0]].transform("size")
    fail = size < k
    for col, l in (ldiv or {}).items():
        fail |= data[col].groupby([gen[q] for q in qis], sort=False).transform("nunique") < l
    s = int(fail.sum())
    n = len(data)
    per = []
    for q, lv in zip(qis, node):
        d = len(tables[q][0])
        share = {v: c / d for v, c in pd.Series(tables[q][lv]).value_counts().items()}
        tot = sum(1.0 if f else share[v] for v, f in zip(gen[q], fail))
        per.append(0.0 if d == 1 else math.floor(max(0.0, (tot - n / d) / (n - n / d)) * 1e10) / 1e10)
    loss = math.prod((1 + v) ** (1 / len(per)) for v in per) - 1
    return s <= limit, s, loss, gen, fail


@st.composite
def problems(draw, max_m=3):
    n = draw(st.integers(1, 30))
    m = draw(st.integers(1, max_m))
    qis = [f"q{j}" for j in range(m)]
    data, tables = {}, {}
    for q in qis:
        card = draw(st.integers(1, 6))
        data[q] = draw(st.lists(st.integers(0, card - 1), min_size=n, max_size=n))
        levels = [[str(v) for v in range(card)]]
        cur = list(range(card))
        for _ in range(draw(st.integers(0, 2))):
            r = draw(st.integers(2, 3))
            cur = [c // r for c in cur]
            levels.append([f"L{len(levels)}_{c}" for c in cur])
        levels.append(["*"] * card)
        tables[q] = levels
    data["s"] = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    k = draw(st.integers(1, 4))
    supp = draw(st.sampled_from([0.0, 0.1, 0.3, 1.0]))
    ldiv = draw(st.sampled_from([None, {"s": 2}]))
    return pd.DataFrame(data), qis, tables, k, supp, ldiv


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_search_equals_naive_exhaustive_enumeration(case):
    _check_search_against_enumeration(case)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(problems(max_m=4))
def test_search_with_triple_bounds_equals_naive_exhaustive_enumeration(monkeypatch, case):
    """Four quasi-identifiers: the search also skips nodes by the projections on triples
    (computed whatever the number of candidates)."""
    from idrisk.anonymise import search

    monkeypatch.setattr(search, "TRIPLE_CANDIDATES", 0)
    _check_search_against_enumeration(case)


def _check_search_against_enumeration(case):
    data, qis, tables, k, supp, ldiv = case
    limit = math.floor(supp * len(data))
    hier = {q: [list(r) for r in zip(*tables[q])] for q in qis}
    best = None
    for node in itertools.product(*[range(len(tables[q])) for q in qis]):
        ok, s, loss, _, _ = _naive_node(data, qis, tables, node, k, limit, ldiv)
        if ok and (best is None or (loss, sum(node), node) < best):
            best = (loss, sum(node), node)
    if best is None:
        with pytest.raises(DataValidationError, match="no generalisation meets the conditions"):
            idrisk.anonymise(data, qis, hierarchies=hier, k=k, suppression_limit=supp, l_diversity=ldiv)
        return
    r = idrisk.anonymise(data, qis, hierarchies=hier, k=k, suppression_limit=supp, l_diversity=ldiv)
    node = tuple(r.levels[q] for q in qis)
    # the best-first search used past the lattice-size limit agrees
    problem, _ = _problem(data, qis, hier, k, supp, ldiv or {})
    other = optimal_node(problem, lattice_limit=0)
    assert other.exact and other.node == node
    # one step of the 10-decimal floor: the naive floors a float sum, the engine an exact integer one
    assert r.loss["loss"] == pytest.approx(best[0], rel=1e-9, abs=2e-10)
    # near-ties: the naive sums shares as floats, so its 10-decimal floor can fall one step apart
    assert node == best[2] or abs(best[0] - r.loss["loss"]) <= 1e-9 * max(1.0, best[0])
    # the transformed extract meets every condition, recomputed from scratch
    ok, s, _, gen, fail = _naive_node(data, qis, tables, node, k, limit, ldiv)
    assert ok and s == r.suppressed_records
    kept = r.data.loc[~r.suppressed]
    if len(kept):
        assert kept.groupby(qis).size().min() >= k
        if ldiv:
            assert kept.groupby(qis)["s"].nunique().min() >= 2
    assert r.data.loc[r.suppressed, qis].isna().all().all()
    assert (r.data.loc[~r.suppressed, qis].astype(str).to_numpy() == gen.loc[~fail].to_numpy()).all()


@pytest.fixture()
def small():
    return pd.DataFrame({"age": [21, 22, 23, 24, 35, 36, 37, 38, 51, 52],
                         "pc": ["AB1", "AB1", "AB2", "AB2", "CD1", "CD1", "CD2", "CD3", "EF1", "EF9"],
                         "dx": ["a", "b", "a", "c", "a", "b", "c", "d", "a", "b"]})


def test_contract_and_recipe_replay(small):
    h = {"age": bands(5, 10, 20), "pc": prefixes(2)}
    r = idrisk.anonymise(small, ["age", "pc"], hierarchies=h, k=2, suppression_limit=0.2)
    assert set(r.loss) == {"loss", "entropy", "precision", "discernibility", "aecs"}
    assert set(r.levels) == {"age", "pc"} and r.suppressed_records <= 2
    d = r.to_dict()
    assert "data" not in d and "suppressed" not in d
    json.dumps(d)
    again = idrisk.anonymise.apply_recipe(small, r.recipe)
    assert again.recipe == r.recipe
    assert again.data.equals(r.data) and again.levels == r.levels
    assert r.data["dx"].equals(small["dx"])  # non-QI columns untouched


def test_pinned_levels_are_checked(small):
    h = {"age": bands(10), "pc": prefixes(2)}
    with pytest.raises(InvalidParameterError, match=r"level of 'age' must be an integer in \[0, 2\]"):
        idrisk.anonymise(small, ["age", "pc"], hierarchies=h, levels={"age": 5, "pc": 0})


@pytest.mark.parametrize("kwargs, message", [
    ({"suppression_limit": 1.5}, r"suppression_limit must be in \[0.0, 1.0\]"),
    ({"suppression_limit": -0.1}, r"suppression_limit must be in"),
    ({"k": 0}, "k must be at least 1"),
    ({"metric": "utility"}, "metric must be one of"),
    ({"l_diversity": {"age": 2}}, "sensitive columns cannot be quasi-identifiers"),
    ({"l_diversity": {"dx": 0}}, "must be at least 1"),
    ({"hierarchies": {"age": bands(10)}}, "none for: pc"),
    ({"max_evaluations": 0}, "max_evaluations must be at least 1"),
])
def test_bad_parameters(small, kwargs, message):
    args = {"hierarchies": {"age": bands(10), "pc": prefixes(2)}, **kwargs}
    with pytest.raises(InvalidParameterError, match=message):
        idrisk.anonymise(small, ["age", "pc"], **args)


def test_conditions_no_node_meets(small):
    with pytest.raises(DataValidationError) as e:
        idrisk.anonymise(small, ["age", "pc"], hierarchies={"age": bands(10), "pc": prefixes(2)}, k=11)
    msg = str(e.value)
    # every node suppresses all 10 records: the least generalised is the closest
    assert ("closest node (age=0, pc=0) would suppress 10 records (10 classes smaller than k=11; the data have "
            "only 10 records)") in msg
    # the top node is anonymous whenever its single class passes: k=5 with 10 records is met there
    r = idrisk.anonymise(small, ["age", "pc"], hierarchies={"age": bands(10), "pc": prefixes(2)}, k=5,
                         suppression_limit=0.1)
    assert r.levels == {"age": 2, "pc": 2} and r.suppressed_records == 0  # every class below has < 5
    with pytest.raises(DataValidationError, match="further classes with too few distinct sensitive values"):
        idrisk.anonymise(small, ["age", "pc"], hierarchies={"age": bands(10), "pc": prefixes(2)}, k=1,
                         l_diversity={"dx": 5})


@pytest.mark.filterwarnings("ignore::idrisk.exceptions.DataQualityWarning")  # pinned nodes over the limit
def test_metric_choice_is_exhaustive_and_exact(small):
    h = {"age": bands(5, 10, 20), "pc": prefixes(2)}
    r = idrisk.anonymise(small, ["age", "pc"], hierarchies=h, k=2, metric="discernibility")
    assert r.metric == "discernibility" and r.exact
    # every node's discernibility at least the chosen one's (pinned runs)
    for a in range(4):
        for p in range(3):
            o = idrisk.anonymise(small, ["age", "pc"], hierarchies=h, k=2, levels={"age": a, "pc": p})
            if o.suppressed_records == 0:
                assert o.loss["discernibility"] >= r.loss["discernibility"]


def test_callable_module():
    assert callable(idrisk.anonymise) and idrisk.anonymise.bands is bands
    assert idrisk.AnonymiseResult is idrisk.anonymise.AnonymiseResult


@pytest.mark.parametrize("param, bad", [
    ("data", None), ("data", [1, 2]), ("quasi_identifiers", 5), ("quasi_identifiers", ["nope"]),
    ("quasi_identifiers", []), ("hierarchies", None), ("hierarchies", {"age": 3, "pc": prefixes(1)}),
    ("hierarchies", {"age": "/no/such/file.csv", "pc": prefixes(1)}), ("k", "x"), ("k", True), ("k", 2.5),
    ("suppression_limit", "a"), ("suppression_limit", float("nan")), ("suppression_limit", None),
    ("l_diversity", [1]), ("l_diversity", {"nope": 2}), ("metric", None), ("levels", {"age": "x", "pc": 0}),
    ("levels", {"pc": 0}), ("max_evaluations", -1),
])
def test_every_bad_argument_is_an_idrisk_error(small, param, bad):
    from idrisk.exceptions import IdRiskError

    args = {"data": small, "quasi_identifiers": ["age", "pc"],
            "hierarchies": {"age": bands(10), "pc": prefixes(2)}, param: bad}
    with pytest.raises(IdRiskError):
        idrisk.anonymise(args.pop("data"), args.pop("quasi_identifiers"), **args)


def test_recipe_replays_on_another_extract_and_refuses_bad_text(small):
    h = {"age": bands(5, 10, 20), "pc": prefixes(2)}
    r = idrisk.anonymise(small, ["age", "pc"], hierarchies=h, k=2, suppression_limit=0.2)
    other = small.assign(age=small["age"] + 1)  # next year's extract: new values, same ladders
    again = idrisk.anonymise.apply_recipe(other, r.recipe)
    assert again.levels == r.levels and again.recipe != "" and again.k == 2
    kept = again.data.loc[~again.suppressed]
    assert kept.groupby(["age", "pc"], observed=True).size().min() >= 2
    # pinned levels that break the limit on other data say so
    with pytest.warns(idrisk.DataQualityWarning, match="more than the suppression limit of 0"):
        idrisk.anonymise(small, ["age", "pc"], hierarchies=h, k=2, levels={"age": 0, "pc": 0})
    with pytest.raises(InvalidParameterError, match="not valid TOML"):
        idrisk.anonymise.apply_recipe(small, "[anonymise\nk = ")
    with pytest.raises(InvalidParameterError, match="lacks 'anonymise'"):
        idrisk.anonymise.apply_recipe(small, "x = 1\n")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(problems())
def test_kernel_paths_agree_with_the_naive_node(monkeypatch, case):
    """Every node evaluated six ways (one thread or both, the direct-address table for small key
    spaces or the hash table only, distinct sensitive values by bit masks or by numbered pairs,
    partial keys shared between consecutive nodes or not):
    the same outputs, and the suppressed records and classes of the naive pandas reference."""
    from idrisk._kernels import anonymise as kernel

    data, qis, tables, k, supp, ldiv = case
    hier = {q: [list(r) for r in zip(*tables[q])] for q in qis}
    problem, _ = _problem(data, qis, hier, k, supp, ldiv or {})
    nodes = list(itertools.product(*[range(len(tables[q])) for q in qis]))
    arr = pd.DataFrame(nodes).to_numpy()
    outs = []
    # one thread / both; direct table / hash table only; distinct sensitive values by bit masks /
    # by numbering (class, value) pairs; partial keys shared between nodes / every column folded
    for parallel_min, direct, mask_max, share in (
            (10**18, kernel.direct_length, 64, 1 << 40), (10**18, lambda u: 0, 64, 1 << 40),
            (0, lambda u: 0, 0, 1 << 40), (0, kernel.direct_length, 0, 0), (10**18, kernel.direct_length, 0, 0),
            (10**18, lambda u: 0, 64, 0)):
        monkeypatch.setattr(kernel, "_PARALLEL_MIN_WORK", parallel_min)
        monkeypatch.setattr(kernel, "direct_length", direct)
        monkeypatch.setattr(kernel, "_MASK_MAX", mask_max)
        monkeypatch.setattr(kernel, "_SHARE_BYTES", share)
        ev = problem.evaluate(arr)
        outs.append((ev.suppressed, ev.n_classes, ev.sumsq, ev.supshare, ev.supent))
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            assert (a == b).all()
    limit = math.floor(supp * len(data))
    for i, node in enumerate(nodes):
        _, s, _, gen, fail = _naive_node(data, qis, tables, node, k, limit, ldiv)
        assert outs[0][0][i] == s
        assert outs[0][1][i] == gen.loc[~fail].drop_duplicates().shape[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.data())
def test_coarsened_table_gives_the_same_nodes(case, draw):
    """The table coarsened at a node (the distinct rows of its generalisation, sensitive codes
    kept) evaluates every node at or above it as the full table does; its rows are the distinct
    generalised rows of a plain pandas reference, with their record counts."""
    data, qis, tables, k, supp, ldiv = case
    hier = {q: [list(r) for r in zip(*tables[q])] for q in qis}
    problem, _ = _problem(data, qis, hier, k, supp, ldiv or {})
    base = tuple(draw.draw(st.integers(0, len(tables[q]) - 1)) for q in qis)
    above = [n for n in itertools.product(*[range(len(tables[q])) for q in qis])
             if all(a >= b for a, b in zip(n, base))]
    coarse = problem.coarsen(base)
    arr = pd.DataFrame(above).to_numpy()
    full, small = problem.evaluate(arr), coarse.evaluate(arr)
    for f in ("suppressed", "n_classes", "sumsq", "supshare"):
        assert (getattr(full, f) == getattr(small, f)).all(), f
    assert small.supent == pytest.approx(full.supent, rel=1e-12, abs=1e-12)
    gen = pd.DataFrame({q: data[q].astype(str).map(dict(zip(tables[q][0], tables[q][lv])))
                        for q, lv in zip(qis, base)})
    if ldiv:
        gen["s"] = data["s"]
    ref = gen.value_counts(sort=False)
    assert sorted(coarse.counts.tolist()) == sorted(ref.tolist()) and coarse.counts.sum() == len(data)
    assert coarse.rows.shape[1] == len(ref) == len(coarse.counts)


@pytest.mark.parametrize("share", [0, 1 << 40])
def test_key_space_past_two_to_the_62_is_renumbered(monkeypatch, share):
    """Eight columns of 300 values: the folded key would pass 2**62, so the partial key is
    renumbered on the way; classes and suppressed records equal pandas' grouping."""
    import numpy as np

    from idrisk._kernels import anonymise as kernel

    monkeypatch.setattr(kernel, "_SHARE_BYTES", share)
    rng = np.random.default_rng(7)
    qis = [f"q{j}" for j in range(8)]
    data = pd.DataFrame({q: rng.integers(0, 300, 3000) for q in qis})
    data.iloc[:1500, :] = data.iloc[1500:, :].to_numpy()  # every record has a twin
    hier = {q: [[str(v), str(v // 10), "*"] for v in range(300)] for q in qis}
    problem, _ = _problem(data, qis, hier, 2, 0.0, {})
    nodes = np.array([[0] * 8, [1] * 8, [0] * 7 + [1], [0, 1] * 4, [2] * 8], dtype=np.int64)
    ev = problem.evaluate(nodes)
    for i, node in enumerate(nodes):
        gen = pd.DataFrame({q: data[q] // (10 if lv == 1 else 1) if lv < 2 else data[q] * 0
                            for q, lv in zip(qis, node)})
        size = gen.groupby(qis)[qis[0]].transform("size")
        assert ev.suppressed[i] == int((size < 2).sum())
        assert ev.n_classes[i] == gen[size >= 2].drop_duplicates().shape[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(problems(max_m=4), st.booleans(), st.booleans(), st.sampled_from([None, 1, 2]))
def test_projection_bounds_equal_the_naive_projection(monkeypatch, case, hashed, threaded, budget):
    """Records suppressed at every node of every projection onto one, two or three
    quasi-identifiers (distinct rows numbered through the direct table or the hash table, on one
    thread or two) equal the naive node on those columns alone, or are 0 for the nodes past a
    subset's budget of rows (``budget`` times the distinct rows); the bound the search uses is
    at most each node's suppressed records."""
    import numpy as np

    from idrisk._kernels import anonymise as kernel
    from idrisk.anonymise.bounds import PairBound, all_nodes

    data, qis, tables, k, supp, ldiv = case
    if hashed:
        monkeypatch.setattr(kernel, "direct_length", lambda u: 0)
    monkeypatch.setattr(kernel, "_PARALLEL_MIN_WORK", 0 if threaded else 10**18)
    hier = {q: [list(r) for r in zip(*tables[q])] for q in qis}
    p, _ = _problem(data, qis, hier, k, supp, ldiv or {})
    limit = math.floor(supp * len(data))
    subsets = [c for t in (1, 2, 3) for c in itertools.combinations(range(len(qis)), t)]
    budgets = None if budget is None else [budget * p.rows.shape[1]] * len(subsets)
    flat, offsets = kernel.projection_suppressed(subsets, p.rows, p.counts, p.sens, p.scards, p.lreq, np.int64(p.k),
                                                 p.maps, p.moff, p.cards, p.heights, budgets)
    for q, cols in enumerate(subsets):
        sub = [qis[c] for c in cols]
        for i, node in enumerate(itertools.product(*[range(len(tables[c])) for c in sub])):
            naive = _naive_node(data, sub, tables, node, k, limit, ldiv)[1]
            assert flat[offsets[q] + i] == naive or (budget is not None and flat[offsets[q] + i] == 0)
            if budget is None or i == 0:  # the first node is always within the budget
                assert flat[offsets[q] + i] == naive
    nodes = all_nodes(p.heights)
    bound = np.maximum(PairBound(p).suppressed(nodes), PairBound(p, 3).suppressed(nodes))
    for node, b in zip(nodes.tolist(), bound):
        assert b <= _naive_node(data, qis, tables, node, k, limit, ldiv)[1]
