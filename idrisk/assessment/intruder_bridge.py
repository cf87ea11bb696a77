"""Runs the simulated intruder (:mod:`idrisk.intruder`) for one assessment scenario.

The intruder holds the scenario's key (an error-free intruder, the
:class:`~idrisk.intruder.IntruderScenario` defaults) or, when the scenario names a preset,
the preset's known variables that the extract actually holds (variables the extract lacks
cannot be matched on, so they are removed with their divergence settings and blocking
passes). Targets are capped at ``intruder_targets`` records drawn with the seed. The ground
truth is the extract's own rows. For a sample extract the default intruder has no response
knowledge and a membership prior equal to the sampling fraction. Only counts and rates are
kept.
"""

from __future__ import annotations

import dataclasses


def _restrict(sc, columns, cap: int, n: int):
    kv = [v for v in sc.known_variables if v in columns]
    if not kv:
        raise ValueError(f"the extract holds none of the variables of intruder scenario {sc.name!r}")
    changes = {"known_variables": kv}
    for f in ("error_rate", "missing_rate", "coarsening", "jitter", "change_rate", "comparisons"):
        v = getattr(sc, f)
        if isinstance(v, dict):
            changes[f] = {k: x for k, x in v.items() if k in kv}
    if sc.blocking is not None:
        passes = [list(p) for p in sc.blocking if all(v in kv for v in p)]
        changes["blocking"] = passes or None
    t = sc.targets
    if isinstance(t, str) and t == "all":
        count = n
    elif isinstance(t, float):
        count = int(round(t * n))
    elif isinstance(t, int):
        count = t
    else:
        count = None  # named targets: keep
    if count is not None and count > cap:
        changes["targets"] = cap
    elif isinstance(t, int) and t > n:
        changes["targets"] = n
    return dataclasses.replace(sc, **changes)


def run_intruder(mod, frame, scen: dict, qis, cfg, sampling_fraction: float = 1.0) -> dict:
    if scen.get("intruder_preset"):
        presets = mod.load_scenarios(scen["intruder_preset"])
        sc = presets[0]
    else:
        sc = mod.IntruderScenario(name=scen["name"], known_variables=list(qis))
        if sampling_fraction < 1.0:
            # a sample extract: the intruder cannot know the target is in it; the prior
            # probability that it is, is the sampling fraction
            sc = dataclasses.replace(sc, response_knowledge=False, membership_prior=float(sampling_fraction))
    sc = _restrict(sc, set(frame.columns), max(1, cfg.intruder_targets), len(frame))
    aux = mod.make_auxiliary(frame, sc, seed=cfg.seed)
    kw = {} if sampling_fraction >= 1.0 else {"sampling_fraction": float(sampling_fraction)}
    res = mod.simulate_intruder(frame, aux, sc, seed=cfg.seed, **kw)
    d = res.to_dict()
    th = cfg.thresholds.claim_confidence
    if th <= sc.claim_threshold:
        at_conf = int(d["correct_claims"])
    elif th >= sc.high_confidence_threshold and th == sc.high_confidence_threshold:
        at_conf = int(d["high_confidence_correct"])
    else:
        at_conf = None
    bands = [{"band": str(b["band"]), "claims": int(b["claims"]), "correct": int(b["correct"])}
             for b in d.get("by_confidence", [])]
    return {"intruder_scenario": sc.name, "known_variables": list(sc.known_variables),
            "response_knowledge": bool(sc.response_knowledge),
            "targets": int(d["n_targets"]), "claims": int(d["claims"]), "correct_claims": int(d["correct_claims"]),
            "precision": d.get("precision"), "reidentification_rate": d.get("reidentification_rate"),
            "extract_reidentified_share": d.get("extract_reidentified_share"),
            "high_confidence_claims": d.get("high_confidence_claims"),
            "high_confidence_correct": d.get("high_confidence_correct"),
            "brier_score": d.get("brier_score"), "by_confidence": bands,
            "correct_claims_at_confidence": at_conf}
