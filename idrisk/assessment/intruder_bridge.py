"""Runs the simulated intruder (:mod:`idrisk.intruder`) for one assessment scenario.

The intruder holds the scenario's key (an error-free intruder, the
:class:`~idrisk.intruder.IntruderScenario` defaults) or, when the scenario names a preset,
the preset's knowledge as far as the extract holds it. Targets are capped at
``intruder_targets`` records drawn with the seed. The ground truth is the extract's own
rows. For a sample extract the default intruder has no response knowledge and a
membership prior equal to the sampling fraction. Only counts and rates are kept.

Preset variables -> extract columns (``variable_mapping`` in the result):

* a variable the extract holds is kept, unless it is constant there (``year_group`` in
  a one-year-group extract such as KS4): agreeing on it then says nothing;
* ``date_of_birth`` when the extract holds ``birth_year`` and ``birth_month`` (standard
  NPD extracts): the month index ``birth_year * 12 + birth_month`` (column
  ``birth_month_index``), compared numerically with the preset's tolerance in months
  (a ``"date"`` tolerance in days is rounded up to months), with the preset's jitter
  (months), error, missing and change rates; a ``"year"`` coarsening keeps ``birth_year``
  alone. With ``birth_year`` only, ``birth_year`` (exact; the jitter is dropped);
* a variable the extract does not hold at all (``postcode_district`` in KS4) cannot be
  matched on and is dropped with its divergence settings.

Blocking passes are rebuilt from what remains rather than dropped: each pass keeps its
variables that are still known (mapped as above; a pass on ``date_of_birth`` blocks on
nothing of it, since a tolerance comparison is not equality), so ``[urn, year_group]``
becomes ``[urn]``. A cut pass is dropped when it is empty, repeats or contains another
pass (adds no pair), or its blocks are not selective: expected block size
``sum_k f_k^2 / n`` above ``n / 10`` (``[postcode_district, year_group, sex]`` cut to
``[sex]`` would compare every target with half the extract). When no pass remains, one
pass on the known variables compared exactly that the preset does not perturb (no error,
missing, change or jitter), or else on every known variable compared exactly. Misses of
the blocking are part of the intruder's probabilities (:mod:`idrisk.intruder.attack`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

#: name of the derived month-of-birth column
DOB_INDEX = "birth_month_index"
#: a cut blocking pass whose mean block holds more than this share of the extract is dropped
_MAX_BLOCK_SHARE = 0.1
_RATES = ("error_rate", "missing_rate", "change_rate")


def _expected_block(frame, names) -> float:
    """``sum_k f_k^2 / n`` over the classes of ``names`` (rows with a missing key left out)."""
    if frame is None or not len(frame):
        return 0.0
    f = frame[list(names)].dropna().value_counts(sort=False).to_numpy(dtype=np.float64)
    return float((f * f).sum() / len(frame))


def _kind(c) -> str:
    if c is None:
        return "exact"
    return c.get("kind", "exact") if isinstance(c, dict) else c.kind


def _map_variables(sc, columns, frame):
    """(known variables after mapping, renames {preset var: extract var}, notes)."""
    kv, rename, notes = [], {}, {}
    for v in sc.known_variables:
        if v in columns:
            if frame is not None and frame[v].nunique(dropna=True) <= 1:
                notes[v] = "constant in the extract: dropped (agreeing on it says nothing)"
                continue
            kv.append(v)
            rename[v] = v
            notes[v] = v
        elif v == "date_of_birth" and {"birth_year", "birth_month"} <= columns and \
                sc.coarsening.get(v) != "year":
            kv.append(DOB_INDEX)
            rename[v] = DOB_INDEX
            notes[v] = f"{DOB_INDEX} = birth_year * 12 + birth_month (month of birth)"
        elif v == "date_of_birth" and "birth_year" in columns:
            kv.append("birth_year")
            rename[v] = "birth_year"
            notes[v] = "birth_year (the extract holds no finer date of birth)"
        else:
            notes[v] = "not in the extract: dropped"
    return kv, rename, notes


def _restrict_with_notes(sc, columns, cap: int, n: int, frame=None):
    columns = set(columns)
    kv, rename, notes = _map_variables(sc, columns, frame)
    if not kv:
        raise ValueError(f"the extract holds none of the variables of intruder scenario {sc.name!r}")
    changes = {"known_variables": kv}
    for f in _RATES:
        changes[f] = {rename[k]: x for k, x in getattr(sc, f).items() if k in rename and x}
    changes["coarsening"] = {rename[k]: x for k, x in sc.coarsening.items()
                             if k in rename and rename[k] == k}
    changes["jitter"] = {rename[k]: x for k, x in sc.jitter.items() if k in rename and rename[k] == k}
    comps = {rename[k]: c for k, c in sc.comparisons.items() if k in rename and rename[k] == k}
    if rename.get("date_of_birth") == DOB_INDEX:
        c = sc.comparisons["date_of_birth"]
        tol = c.tolerance if c.kind == "month" else (math.ceil(c.tolerance / 31.0) if c.kind == "date" else 0.0)
        comps[DOB_INDEX] = {"kind": "numeric", "tolerance": float(tol)}
        if sc.jitter.get("date_of_birth"):
            changes["jitter"][DOB_INDEX] = sc.jitter["date_of_birth"]
    changes["comparisons"] = comps
    # a pass needs equal values: only variables compared exactly can block
    exact = [v for v in kv if _kind(comps.get(v)) == "exact"]
    limit = _MAX_BLOCK_SHARE * n
    passes = []
    for p in sc.blocking:
        cut = [rename[v] for v in p if v in rename and rename[v] in exact]
        if not cut or sorted(cut) in [sorted(q) for q in passes]:
            continue
        if len(cut) < len(p) and frame is not None and _expected_block(frame, cut) > limit:
            continue
        passes.append(cut)
    passes = [p for p in passes if not any(set(q) < set(p) for q in passes)]
    if not passes:
        steady = [v for v in exact if not any(changes[f].get(v) for f in _RATES) and not changes["jitter"].get(v)]
        if steady and (frame is None or _expected_block(frame, steady) <= limit):
            passes = [steady]
        else:
            passes = [exact or list(kv)]
    changes["blocking"] = passes
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
    return dataclasses.replace(sc, **changes), notes


def _restrict(sc, columns, cap: int, n: int, frame=None):
    """The preset cut down to (and mapped onto) the extract's columns (see the module notes)."""
    return _restrict_with_notes(sc, columns, cap, n, frame)[0]


def _intruder_frame(frame, sc):
    """The known variables of ``sc`` as the intruder module needs them (a new frame)."""
    cols = [v for v in sc.known_variables if v != DOB_INDEX]
    work = frame[cols].copy()
    if DOB_INDEX in sc.known_variables:
        y = frame["birth_year"].astype("float64")
        mth = frame["birth_month"].astype("float64")
        work[DOB_INDEX] = y * 12 + mth
    return work


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
    sc, notes = _restrict_with_notes(sc, set(frame.columns), max(1, cfg.intruder_targets), len(frame), frame)
    frame = _intruder_frame(frame, sc)
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
            "expected_correct_claims": d.get("expected_correct"),
            "precision": d.get("precision"), "reidentification_rate": d.get("reidentification_rate"),
            "extract_reidentified_share": d.get("extract_reidentified_share"),
            "high_confidence_claims": d.get("high_confidence_claims"),
            "high_confidence_correct": d.get("high_confidence_correct"),
            "brier_score": d.get("brier_score"), "by_confidence": bands,
            "correct_claims_at_confidence": at_conf,
            "variable_mapping": notes, "blocking": [list(p) for p in sc.blocking]}
