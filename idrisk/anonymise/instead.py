"""What the requester could have instead: the extract transformed to the safeguarded route's
conditions and assessed again (``docs/methods.md#anonymisation``).

The quasi-identifiers are every scenario's key together (classes of at least k records on the
union are at least k on each key); the hierarchies come from the profile and the extract
(:func:`idrisk.anonymise.ladders.profile_ladders`, which also names each level); the conditions are the route's
thresholds (``min_k``, ``max_individual_risk``, special uniques of size up to
``special_unique_msu_size``); the chosen extract is verified with the same assessment
configuration. The section holds aggregates only: routes, indicator values, levels, losses,
and (loss, records at risk, meets the conditions) for the nodes evaluated.
"""

from __future__ import annotations

import numpy as np

from .api import anonymise
from .ladders import ladder_names, profile_ladders

__all__ = ["alternative", "alternative_extract"]

#: the most nodes kept for the risk-utility chart (evenly spaced in evaluation order)
MAX_POINTS = 400


def _key(ind) -> str:
    return ind["label"]


def _keys(assessment) -> list:
    """Every scenario's key as assessed (a column refined by a finer one the file holds is
    assessed with the finer one, ``ScenarioResult.refined``) and the coarser columns it
    refines: they are released too, so they are transformed with it."""
    out = []
    for s in assessment.scenarios:
        fine = dict(s.refined)
        out += [fine.get(q, q) for q in s.quasi_identifiers] + list(fine.values()) + list(fine)
    return list(dict.fromkeys(out))


def _nodes(res) -> list:
    if not res.trace:
        return []
    nodes, value, supp, anon = res.trace
    take = np.unique(np.linspace(0, len(nodes) - 1, min(MAX_POINTS, len(nodes))).round().astype(int))
    return [[float(value[i]), int(supp[i]), bool(anon[i])] for i in take]


def alternative(data, assessment, *, suppression_limit: float = 0.01, hierarchies=None,
                columns=None) -> dict:
    """The section "what the requester could have instead" for ``assessment`` of ``data``."""
    return alternative_extract(data, assessment, suppression_limit=suppression_limit, hierarchies=hierarchies,
                               columns=columns)[0]


def alternative_extract(data, assessment, *, suppression_limit: float = 0.01, hierarchies=None,
                        columns=None):
    """``(section, result)``: :func:`alternative` and the :class:`~idrisk.anonymise.AnonymisationResult`
    behind it (the reduced extract in ``result.data``, its recipe in ``result.recipe``)."""
    before = assessment.to_dict()
    cfg = before["config"]
    qis = list(dict.fromkeys(columns or _keys(assessment)))
    th = cfg["thresholds"]
    if hierarchies is None:
        hier, names = profile_ladders(data, qis, cfg.get("profile", "npd"))
    else:
        hier, names = hierarchies, {}
    res = anonymise(data, qis, hierarchies=hier, k=th["min_k"], suppression_limit=suppression_limit,
                    max_risk=th["max_individual_risk"], msu_size=th["special_unique_msu_size"], verify=cfg)
    after = res.assessment.to_dict()
    ind_after = {_key(i): i for i in after["indicators"]}
    indicators = [{"indicator": _key(i), "label": i["label"], "threshold": i["threshold"],
                   "before": i["value"], "after": ind_after.get(_key(i), {}).get("value"),
                   "holds_before": i["holds"], "holds_after": ind_after.get(_key(i), {}).get("holds")}
                  for i in before["indicators"]]
    chosen = [float(res.loss["loss"]), int(res.suppressed_records), True]
    return {
        "quasi_identifiers": qis, "levels": dict(res.levels),
        "level_labels": {q: _level_label(hier[q], names.get(q), res.levels[q]) for q in qis},
        "route_before": before["route"]["recommended"], "route_after": after["route"]["recommended"],
        "conditions": {"k": res.k, "max_risk": res.max_risk, "msu_size": res.msu_size,
                       "suppression_limit": suppression_limit},
        "suppressed_records": res.suppressed_records, "records": int(len(data)),
        "loss": dict(res.loss), "loss_per_variable": dict(res.loss_per_attribute),
        "indicators": indicators, "verification": res.verification["tried"],
        "nodes_evaluated": res.nodes_evaluated, "nodes": _nodes(res), "chosen": chosen,
    }, res


def _level_label(spec, names, level: int) -> str:
    """How a level reads: its name when the ladder's levels are named, else the level number
    (``"as given"`` at 0, ``"withheld"`` at the top of a table)."""
    if names is None and hasattr(spec, "kind"):
        names = ladder_names(spec)
    if names and level < len(names):
        return names[level]
    if isinstance(spec, list) and spec and level == len(spec[0]) - 1:
        return "withheld"
    return "as given" if level == 0 else f"level {level}"
