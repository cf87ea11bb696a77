"""``idrisk.anonymise``: optimal full-domain generalisation with record suppression.

Definitions and the search: ``docs/methods.md#anonymisation``; ARX (Prasser and Kohlmayer,
"Putting statistical disclosure control into practice: the ARX data anonymization tool", 2015);
Flash (Kohlmayer et al., "Flash: efficient, stable and optimal k-anonymity", 2012).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from math import floor

import numpy as np
import pandas as pd

from .._results import RECORD_LEVEL, Result
from .._validation import as_frame, check_columns, check_fraction, check_positive_int
from ..exceptions import DataQualityWarning, DataValidationError, InvalidParameterError
from .conditions import risk_cap_k, special_uniques_at, special_uniques_of_rows
from .hierarchy import map_values, resolve_hierarchy
from .lattice import METRICS, prepare
from .local import local_suppression as _local_suppression
from .recipe import dump_recipe, load_recipe
from .search import optimal_node
from .spark_table import distinct_rows, is_spark_frame, table_extract, table_validity, validity_tables

__all__ = ["anonymise", "apply_recipe", "AnonymiseResult"]


@dataclass(frozen=True)
class AnonymiseResult(Result):
    """The chosen transformation, its cost and the transformed extract.

    ``levels`` maps each quasi-identifier to its hierarchy level; ``loss`` holds ARX's five
    measures at that node (``loss``, ``entropy``, ``precision``, ``discernibility``, ``aecs``);
    ``data`` is the transformed extract (suppressed quasi-identifier cells missing) and
    ``suppressed`` flags the records whose every quasi-identifier cell is suppressed (both
    record-level, left out of ``to_dict``). ``k`` is the class size enforced: the larger of the
    ``k`` asked and the one the risk cap ``max_risk`` implies (``k_asked`` is the former).
    ``suppressed_cells`` counts the cells made missing per quasi-identifier; ``missing`` names how
    the risk measures must read them (``"wildcard"``: a suppressed cell matches any value, under
    which every record has ``f_k >= k``). ``special_uniques`` counts, when ``msu_size`` is given,
    the records of the extract unique with an MSU of at most ``msu_size`` columns (SUDA's
    convention: a missing cell is in no MSU); ``rejected_nodes`` lists the nodes of lower
    measure refused because of them or because verification failed. ``verification`` (with
    ``verify``) gives the route of the transformed extract, its indicators, and every node
    tried in turn with its route and the intruder's correct claims; ``assessment`` is the
    :class:`~idrisk.assessment.AssessmentResult` of the chosen extract.
    """

    quasi_identifiers: tuple
    levels: dict
    k: int
    l_diversity: dict
    suppression_limit: float
    suppression_limit_records: int
    suppressed_records: int
    n_classes: int
    min_class_size: int
    avg_class_size: float
    loss: dict
    loss_per_attribute: dict
    metric: str
    nodes_evaluated: int
    lattice_size: int
    exact: bool
    recipe: str = field(metadata=RECORD_LEVEL, repr=False)  # holds the hierarchy tables: values of the data
    k_asked: int = 0
    max_risk: float | None = None
    msu_size: int | None = None
    special_uniques: int | None = None
    rejected_nodes: tuple = ()
    local_suppression: bool = False
    suppressed_cells: dict = field(default_factory=dict)
    missing: str = "wildcard"
    verification: dict | None = None
    validity: dict | None = None
    data: pd.DataFrame = field(default=None, metadata=RECORD_LEVEL, repr=False)
    suppressed: pd.Series = field(default=None, metadata=RECORD_LEVEL, repr=False)
    trace: tuple = field(default=(), metadata=RECORD_LEVEL, repr=False)
    assessment: object = field(default=None, metadata=RECORD_LEVEL, repr=False)

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict` (sorted keys; no record-level value)."""
        import json

        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def _check_l(frame, l_diversity, qis) -> dict:
    if l_diversity is None:
        return {}
    if not isinstance(l_diversity, Mapping):
        raise InvalidParameterError("l_diversity must map a sensitive column to its distinct l, "
                                    f"got {type(l_diversity).__name__}")
    check_columns(frame, list(l_diversity), role="sensitive")
    both = [str(c) for c in l_diversity if c in qis]
    if both:
        raise InvalidParameterError(f"sensitive columns cannot be quasi-identifiers: {', '.join(both)}")
    return {c: check_positive_int(v, name=f"l_diversity[{c!r}]") for c, v in l_diversity.items()}


def _check(frame, quasi_identifiers, hierarchies, k, suppression_limit, l_diversity, metric):
    qis = check_columns(frame, quasi_identifiers)
    if len(frame) == 0:
        raise DataValidationError("the data have no rows")
    if not isinstance(hierarchies, Mapping):
        raise InvalidParameterError(f"hierarchies must map each quasi-identifier to its hierarchy, "
                                    f"got {type(hierarchies).__name__}")
    lacking = [str(q) for q in qis if q not in hierarchies]
    extra = [str(c) for c in hierarchies if c not in qis]
    if lacking or extra:
        raise InvalidParameterError(
            "hierarchies must name each quasi-identifier once"
            + (f"; none for: {', '.join(lacking)}" if lacking else "")
            + (f"; not quasi-identifiers: {', '.join(extra)}" if extra else ""))
    k = check_positive_int(k, name="k")
    s = check_fraction(suppression_limit, name="suppression_limit")
    ld = _check_l(frame, l_diversity, qis)
    if metric not in METRICS:
        raise InvalidParameterError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    return qis, k, s, ld


def _problem(frame, qis, hierarchies, k, s, ld, counts=None):
    """The search problem of ``frame``'s records (with ``counts``: each row stands for that many)."""
    hs = [resolve_hierarchy(hierarchies[q], frame[q], q) for q in qis]
    rows = [map_values(h, frame[q]) for h, q in zip(hs, qis)]
    sens = [pd.factorize(frame[c], use_na_sentinel=False)[0].astype(np.int32) for c in ld]
    n = len(frame) if counts is None else int(np.sum(counts))
    limit = floor(s * n)  # as ARX: floor of the double product
    return prepare(qis, hs, rows, sens, list(ld.values()), k, limit, weights=counts), hs


def _pinned(problem, levels: Mapping):
    node = []
    for q, h in zip(problem.qis, problem.hierarchies):
        lv = levels.get(q)
        if isinstance(lv, bool) or not isinstance(lv, (int, np.integer)) or not 0 <= lv <= h.height:
            raise InvalidParameterError(f"level of {q!r} must be an integer in [0, {h.height}], got {lv!r}")
        node.append(int(lv))
    return tuple(node)


def _infeasible(problem, closest, k, ld) -> DataValidationError:
    cid, sizes, fail = problem.classes(closest)
    small = int((sizes < k).sum())
    levels = ", ".join(f"{q}={v}" for q, v in zip(problem.qis, closest))
    why = [f"{small} classes smaller than k={k}"] if small else []
    if ld:
        why.append(f"{int(fail.sum()) - small} further classes with too few distinct sensitive values")
    s = int(sizes[fail].sum())
    if problem.n < k:
        why.append(f"the data have only {problem.n} records")
    return DataValidationError(
        f"no generalisation meets the conditions within the suppression limit of {problem.limit} records: "
        f"the closest node ({levels}) would suppress {s} records ({'; '.join(why) or 'no failing class'})")


def _transform(frame, problem, hs, node, suppress: bool = True):
    """The transformed extract (generalised columns categorical, suppressed cells missing), the
    suppressed flags, the sizes of the kept classes."""
    cid, sizes, fail = problem.classes(node)
    rec_fail = fail[cid][problem.inverse]
    out = frame.copy()
    for j, (q, h) in enumerate(zip(problem.qis, hs)):
        lo = problem.moff[j, node[j]]
        labels = np.unique(np.array(h.levels[node[j]], dtype=object).astype(str))  # the order of the codes
        codes = problem.maps[lo:lo + h.size][problem.rows[j]][problem.inverse]
        if suppress:
            codes[rec_fail] = -1
        out[q] = pd.Series(pd.Categorical.from_codes(codes, categories=labels), index=frame.index)
    kept = sizes[~fail]
    return out, pd.Series(rec_fail, index=frame.index, name="suppressed"), kept


def _finish_locally(frame, problem, hs, node, k, importance):
    """Local suppression in place of record suppression: the node's generalised extract with
    the fewest cells made missing (wildcard rule), categorical columns kept."""
    full, _, _ = _transform(frame, problem, hs, node, suppress=False)
    ls = _local_suppression(full, list(problem.qis), k=k, importance=importance)
    out = ls.data
    for q in problem.qis:
        out[q] = pd.Categorical(out[q], categories=full[q].cat.categories)
    supp = out[list(problem.qis)].isna().all(axis=1) & ~frame[list(problem.qis)].isna().all(axis=1)
    return out, supp.rename("suppressed"), ls


def _measures(problem, node):
    ev = problem.evaluate(np.array([node], dtype=np.int64))
    metrics = {name: float(v[0]) for name, v in ev.metrics().items()}
    per = ev.loss_per_attribute()[0]
    return metrics, {q: float(v) for q, v in zip(problem.qis, per)}


def _search(problem, metric, max_evaluations, msu_size, k, ld, exclude=()):
    """The optimal node, refusing special uniques of size <= ``msu_size`` (checked with k = 1
    only: see ``conditions``) and the nodes in ``exclude``."""
    exclude = set(exclude)
    check_msu = msu_size is not None and k < 2

    def accept(node):
        if node in exclude:
            return False
        return not check_msu or special_uniques_at(problem, node, msu_size) == 0

    use = accept if exclude or check_msu else None
    found = optimal_node(problem, metric=metric, max_evaluations=max_evaluations, accept=use)
    if found.node is None:
        if found.closest is None or found.closest_suppressed <= problem.limit:
            raise DataValidationError(
                "no generalisation meets the conditions: every node that meets k and l"
                + (f" has special uniques of size <= {msu_size}" if check_msu else "")
                + (" or was refused" if exclude else ""))
        raise _infeasible(problem, found.closest, k, ld)
    return found


def _conditions(k, max_risk, msu_size, local_suppression, ld):
    k_eff = k if max_risk is None else max(k, risk_cap_k(max_risk))
    if msu_size is not None:
        msu_size = check_positive_int(msu_size, name="msu_size")
    if not isinstance(local_suppression, bool):
        raise InvalidParameterError(f"local_suppression must be True or False, got {local_suppression!r}")
    if local_suppression and ld:
        raise InvalidParameterError("local suppression reaches k under the wildcard rule only: "
                                    "with l_diversity use record suppression")
    return k_eff, msu_size


def anonymise(data, quasi_identifiers, *, hierarchies, k: int = 2, suppression_limit: float = 0.0,
              l_diversity: Mapping | None = None, metric: str = "loss", levels: Mapping | None = None,
              max_evaluations: int = 200_000, max_risk: float | None = None, msu_size: int | None = None,
              local_suppression: bool = False, importance: Mapping | None = None, verify=None,
              max_verifications: int = 10, validity: Mapping | None = None) -> AnonymiseResult:
    """The anonymous full-domain generalisation of least information loss, as ARX finds it.

    Parameters
    ----------
    data : the record-level frame.
    quasi_identifiers : the columns to generalise.
    hierarchies : column -> hierarchy: a table (DataFrame, rows, or the path of an ARX-format
        CSV, ``;``-separated, no header), a ``{value: parent}`` map, or a ladder
        (:func:`idrisk.anonymise.bands`, :func:`~idrisk.anonymise.dates`,
        :func:`~idrisk.anonymise.prefixes`).
    k : the smallest class size kept.
    suppression_limit : share of records (``[0, 1]``) that may be suppressed, whole classes.
    l_diversity : sensitive column -> distinct l every kept class must have.
    metric : the measure minimised (``"loss"``, ARX's default, or one of ``entropy``,
        ``precision``, ``discernibility``, ``aecs``).
    levels : pin the node instead of searching (how a recipe replays).
    max_evaluations : past 100,000 lattice nodes, the nodes evaluated before the search stops
        with the best anonymous node so far (``exact`` is then False); below, the search is exact.
    max_risk : a cap on the highest individual risk; on unweighted data that is ``1 / f_k`` of the
        smallest class, so the cap is enforced as the class size ``k_r``, the smallest integer
        with ``1 / k_r <= max_risk`` (``k`` becomes ``max(k, k_r)``).
    msu_size : no record may be unique with a minimal sample unique of at most this many columns
        (a route's special-unique condition; see :mod:`idrisk.anonymise.conditions`).
    local_suppression : finish with local (cell) suppression instead of record suppression:
        the failing records of the chosen node keep their generalised values except the fewest
        cells (least important columns first, ``importance`` as in
        :func:`idrisk.anonymise.local_suppression`) that give every record ``f_k >= k`` under the
        wildcard rule. ``loss`` keeps ARX's measures of the node with record suppression.
    verify : assess each chosen extract with :func:`idrisk.assess` (True: one scenario on the
        quasi-identifiers; or an assessment configuration); while an intruder still makes
        confident correct claims, the search moves on to the next node (at most
        ``max_verifications`` nodes; see :mod:`idrisk.anonymise.verify`).
    validity : the keywords of :func:`idrisk.anonymise.analysis_validity` (``outcomes``,
        ``predictors``, ``tables``, ``folds``, ``seed``): models and tables compared on the
        original and the transformed extract, in the result's ``validity``.

    Missing values created by suppression are read under the wildcard rule (``missing`` in the
    result): a suppressed cell matches any value, so a record suppressed whole matches every
    record. Raises :class:`~idrisk.exceptions.DataValidationError` when no node meets the
    conditions, naming the closest node and what blocks it. See ``docs/methods.md#anonymisation``.
    """
    if is_spark_frame(data):
        return _anonymise_table(data, quasi_identifiers, hierarchies, k, suppression_limit, l_diversity, metric,
                                levels, max_evaluations, max_risk, msu_size, local_suppression, importance, verify,
                                max_verifications, _check_validity(validity))
    frame = as_frame(data)
    qis, k_asked, s, ld = _check(frame, quasi_identifiers, hierarchies, k, suppression_limit, l_diversity, metric)
    max_evaluations = check_positive_int(max_evaluations, name="max_evaluations")
    k, msu_size = _conditions(k_asked, max_risk, msu_size, local_suppression, ld)
    problem, hs = _problem(frame, qis, hierarchies, k, s, ld)
    size = int(np.prod([h.height + 1 for h in hs], dtype=np.float64))
    verification = None
    if levels is not None:
        node = _pinned(problem, levels)
        evaluated, exact, rejected, trace = 1, True, (), ()
    else:
        search = (lambda exclude: _search(problem, metric, max_evaluations, msu_size, k, ld, exclude))
        if verify is None:
            found = search(())
        else:
            found, verification = _verified_search(
                problem, search, verify, ld,
                lambda nd: _extract(frame, problem, hs, nd, local_suppression, importance), max_verifications)
        node, evaluated, exact, rejected, trace = found.node, found.evaluated, found.exact, found.rejected, found.trace
    res = _result(frame, problem, hs, node, s, ld, metric, k_asked, max_risk, msu_size, local_suppression,
                  importance, evaluated, size, exact, rejected, trace, pinned=levels is not None)
    if verification is not None:
        res = dataclasses.replace(res, verification=verification[0], assessment=verification[1])
    if _check_validity(validity) is not None:
        from .validity import analysis_validity

        res = dataclasses.replace(res, validity=analysis_validity(frame, res.data, **dict(validity)))
    return res


def _anonymise_table(data, quasi_identifiers, hierarchies, k, suppression_limit, l_diversity, metric, levels,
                     max_evaluations, max_risk, msu_size, local, importance, verify, max_verifications,
                     validity) -> AnonymiseResult:
    """:func:`anonymise` of a Spark table: the search on its distinct rows, the result as Spark
    expressions (:mod:`idrisk.anonymise.spark_table`); ``data`` is then a Spark DataFrame and
    ``suppressed`` is None (a Spark table has no row order to align flags with)."""
    tables = None if validity is None else validity_tables(validity)
    qlist = [quasi_identifiers] if isinstance(quasi_identifiers, str) else list(quasi_identifiers)
    sens = list(l_diversity) if isinstance(l_diversity, Mapping) else []
    rows = distinct_rows(data, list(dict.fromkeys([*qlist, *sens])))
    keys, counts = rows.frame, rows.counts
    qis, k_asked, s, ld = _check(keys, quasi_identifiers, hierarchies, k, suppression_limit, l_diversity, metric)
    max_evaluations = check_positive_int(max_evaluations, name="max_evaluations")
    k, msu_size = _conditions(k_asked, max_risk, msu_size, local, ld)
    problem, hs = _problem(keys, qis, hierarchies, k, s, ld, counts)
    table_at = (lambda node: table_extract(data, rows, _labels_at(problem, hs, node), _failing_rows(problem, node),
                                           local=local, k=k, importance=importance))
    verification = None
    if levels is not None:
        node, evaluated, exact, rejected, trace = _pinned(problem, levels), 1, True, (), ()
    else:
        search = (lambda exclude: _search(problem, metric, max_evaluations, msu_size, k, ld, exclude))
        if verify is None:
            found = search(())
        else:
            found, verification = _verified_search(problem, search, verify, ld, lambda nd: table_at(nd).data,
                                                   max_verifications)
        node, evaluated, exact, rejected, trace = found.node, found.evaluated, found.exact, found.rejected, found.trace
    ext, n_fail = table_at(node), int(counts[_failing_rows(problem, node)].sum())
    if levels is not None and n_fail > problem.limit:
        warnings.warn(f"the given levels suppress {n_fail} records, more than the suppression limit of "
                      f"{problem.limit}: this extract does not meet the conditions at these levels",
                      DataQualityWarning, stacklevel=4)
    su = None if msu_size is None else special_uniques_of_rows(ext.generalised(), counts, msu_size)
    _, sizes, fail = problem.classes(node)
    kept = sizes[~fail]
    metrics, per = _measures(problem, node)
    recipe = dump_recipe(qis, dict(zip(qis, node)), k, s, ld, {q: h.source for q, h in zip(qis, hs)},
                         local_suppression=local)
    res = AnonymiseResult(
        tuple(qis), dict(zip(qis, node)), k, ld, s, problem.limit, ext.records, len(kept),
        int(kept.min()) if len(kept) else 0, int(kept.sum()) / len(kept) if len(kept) else float("nan"),
        metrics, per, metric, evaluated, int(np.prod([h.height + 1 for h in hs], dtype=np.float64)), exact, recipe,
        k_asked, None if max_risk is None else float(max_risk), msu_size, su, tuple(rejected), local,
        ext.cells, "wildcard", data=ext.data, suppressed=None, trace=trace)
    if verification is not None:
        res = dataclasses.replace(res, verification=verification[0], assessment=verification[1])
    if tables is not None:
        res = dataclasses.replace(res, validity=table_validity(data, rows, ext, tables))
    return res


def _failing_rows(problem, node) -> np.ndarray:
    """Whether each of the problem's rows is in a class that fails at ``node``."""
    cid, _, fail = problem.classes(node)
    return fail[cid][problem.inverse]


def _labels_at(problem, hs, node) -> dict:
    """Per quasi-identifier, the generalised value (text) of each of the problem's rows at ``node``."""
    labels = {}
    for j, (q, h) in enumerate(zip(problem.qis, hs)):
        lo = problem.moff[j, node[j]]
        names = np.unique(np.array(h.levels[node[j]], dtype=object).astype(str))
        labels[q] = names[problem.maps[lo:lo + h.size][problem.rows[j]][problem.inverse]]
    return labels


def _extract(frame, problem, hs, node, local, importance):
    if local:
        return _finish_locally(frame, problem, hs, node, problem.k, importance)[0]
    return _transform(frame, problem, hs, node)[0]


def _check_validity(validity):
    if validity is not None and not isinstance(validity, Mapping):
        raise InvalidParameterError(f"validity must map analysis_validity's keywords, got {type(validity).__name__}")
    return validity


def _verified_search(problem, search, verify, ld, extract_at, max_verifications):
    """The optimal node whose extract (``extract_at(node)``) passes verification: a node refused
    is excluded and the search runs again (the next node in measure)."""
    from .verify import verify_extract

    max_verifications = check_positive_int(max_verifications, name="max_verifications")
    exclude, tried = [], []
    while True:
        found = search(tuple(exclude))
        v = verify_extract(extract_at(found.node), verify, problem.qis, ld)
        tried.append({"levels": dict(zip(problem.qis, found.node)), "passed": v.passed, "route": v.route,
                      "correct_claims": v.correct_claims})
        if v.passed:
            summary = {"passed": True, "route": v.route, "indicators": v.indicators, "tried": tried,
                       "nodes_refused": len(exclude)}
            return dataclasses.replace(found, rejected=tuple(found.rejected)), (summary, v.assessment)
        exclude.append(found.node)
        if len(exclude) >= max_verifications:
            raise DataValidationError(
                f"verification refused {len(exclude)} nodes in turn (an intruder still made confident correct "
                f"claims on each); raise max_verifications or tighten the conditions")


def _result(frame, problem, hs, node, s, ld, metric, k_asked, max_risk, msu_size, local, importance,
            evaluated, size, exact, rejected, trace, pinned):
    qis, k = list(problem.qis), problem.k
    out, supp, kept = _transform(frame, problem, hs, node)
    if pinned and int(supp.sum()) > problem.limit:
        warnings.warn(f"the given levels suppress {int(supp.sum())} records, more than the suppression limit of "
                      f"{problem.limit}: this extract does not meet the conditions at these levels",
                      DataQualityWarning, stacklevel=4)
    if local:
        out, supp, ls = _finish_locally(frame, problem, hs, node, k, importance)
        cells = dict(ls.suppressed_cells)
    else:
        cells = {q: int(supp.sum()) for q in qis}
    su = None
    if msu_size is not None:
        su = special_uniques_of_rows(out[qis], None, msu_size)
    metrics, per = _measures(problem, node)
    recipe = dump_recipe(qis, dict(zip(qis, node)), k, s, ld, {q: h.source for q, h in zip(qis, hs)},
                         local_suppression=local)
    n_kept = int(kept.sum())
    return AnonymiseResult(
        tuple(qis), dict(zip(qis, node)), k, ld, s, problem.limit, int(supp.sum()), len(kept),
        int(kept.min()) if len(kept) else 0, n_kept / len(kept) if len(kept) else float("nan"),
        metrics, per, metric, evaluated, size, exact, recipe, k_asked,
        None if max_risk is None else float(max_risk), msu_size, su, tuple(rejected), local, cells,
        "wildcard", data=out, suppressed=supp, trace=trace)


def apply_recipe(data, recipe: str) -> AnonymiseResult:
    """Replay a recipe (``AnonymiseResult.recipe``) on ``data``: same levels, same conditions."""
    r = load_recipe(recipe)
    return anonymise(data, r["quasi_identifiers"], hierarchies=r["hierarchies"], k=r["k"],
                     suppression_limit=r["suppression_limit"], l_diversity=r["l_diversity"] or None,
                     levels=r["levels"], local_suppression=r["local_suppression"])
