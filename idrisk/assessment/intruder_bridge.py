"""Runs the simulated intruder (:mod:`idrisk.intruder`) for one assessment scenario.

docs/methods.md#intruder; the date-of-birth mapping comes from the profile
(:mod:`idrisk.profiles`, the NPD profile's ``date_of_birth``).

The intruder holds the scenario's key (an error-free intruder, the
:class:`~idrisk.intruder.IntruderScenario` defaults) or, when the scenario names a preset,
the preset's knowledge as far as the extract holds it. Targets are capped at
``intruder_targets`` records drawn with the seed. The ground truth is the extract's own
rows. For a sample extract the default intruder has no response knowledge and a
membership prior equal to the sampling fraction; so that the prior is true of the targets,
the extract then plays the population and a sample of it with that fraction the extract
(targets drawn from the whole extract are in the sample with that probability), and the
calibration table is that world's. The exact-match intruder runs beside, and the count the
route reads at the claim threshold is the larger of the two. Only counts and rates are kept.

Preset variables -> extract columns (``variable_mapping`` in the result):

* a variable the extract holds is kept, unless it is constant there (``year_group`` in
  a one-year-group extract such as KS4): agreeing on it then says nothing;
* the profile's date of birth (``date_of_birth``) when the extract holds its year and
  month of birth (``birth_year`` and ``birth_month``, as standard NPD extracts do): the
  month index ``birth_year * 12 + birth_month`` (column ``birth_month_index``),
  compared numerically with the preset's tolerance in months (a ``"date"`` tolerance in days is rounded up to months), with the preset's jitter
  (months), error, missing and change rates; a ``"year"`` coarsening keeps ``birth_year``
  alone. With ``birth_year`` only, ``birth_year`` (exact; the jitter is dropped);
* a variable the extract does not hold at all (``postcode_district`` in KS4) cannot be
  matched on and is dropped with its divergence settings (listed in ``dropped_variables``);
* the intruder knows at least the scenario's key (what the scenario says a person knows):
  a key variable the mapped preset does not cover is added, compared exactly, so a preset
  on variables the extract does not hold never leaves an intruder weaker than the key.

Blocking passes are rebuilt from what remains rather than dropped: each pass keeps its
variables that are still known (mapped as above; a pass on ``date_of_birth`` blocks on
nothing of it, since a tolerance comparison is not equality), so ``[urn, year_group]``
becomes ``[urn]``. A cut pass is dropped when it is empty, repeats or contains another
pass (adds no pair), or its blocks are not selective: expected block size
``sum_k f_k^2 / n`` above ``n / 10`` (``[postcode_district, year_group, sex]`` cut to
``[sex]`` would compare every target with half the extract). When no pass remains, one
pass on the quasi-identifiers compared exactly that the preset does not perturb (no error,
missing, change or jitter), or else on every quasi-identifier compared exactly. Misses of
the blocking are part of the intruder's probabilities (docs/methods.md#blocking-recall).
"""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .._kernels.threads import n_workers
from .._validation import raise_problems
from ..exceptions import InvalidParameterError
from ..intruder import TRUTH_COLUMN, IntruderScenario, load_scenarios, make_auxiliary, simulate_intruder
from ..profiles import NPD, get_profile
from .summaries import ConfidenceBand, IntruderRun, IntruderSummary, Spread

__all__ = ["run_intruder", "check_presets", "intruder_columns", "DOB_INDEX"]

#: name of the derived month-of-birth column of the NPD profile
DOB_INDEX = NPD.date_of_birth.month_index
#: a cut blocking pass whose mean block holds more than this share of the extract is dropped
_MAX_BLOCK_SHARE = 0.1
_RATES = ("error_rate", "missing_rate", "change_rate")


def _expected_block(frame, names) -> float:
    """``sum_k f_k^2 / n`` over the classes of ``names`` (rows with a missing key left out)."""
    if frame is None or not len(frame):
        return 0.0
    names = list(names)
    # observed=True: with categorical columns, DataFrame.value_counts would build every
    # combination of categories (pandas 3 allocates them all); unobserved ones add nothing
    f = frame[names].dropna().groupby(names, observed=True, sort=False).size().to_numpy(dtype=np.float64)
    return float((f * f).sum() / len(frame))


def _kind(c) -> str:
    if c is None:
        return "exact"
    return c.get("kind", "exact") if isinstance(c, dict) else c.kind


def _map_variables(sc, columns, frame, dob):
    """(quasi-identifiers after mapping, renames {preset var: extract var}, notes)."""
    kv, rename, notes = [], {}, {}
    for v in sc.quasi_identifiers:
        if v in columns:
            if frame is not None and frame[v].nunique(dropna=True) <= 1:
                notes[v] = "constant in the extract: dropped (agreeing on it says nothing)"
                continue
            kv.append(v)
            rename[v] = v
            notes[v] = v
        elif dob is not None and v == dob.date and {dob.year, dob.month} <= columns and \
                sc.coarsening.get(v) != "year":
            kv.append(dob.month_index)
            rename[v] = dob.month_index
            notes[v] = f"{dob.month_index} = {dob.year} * 12 + {dob.month} (month of birth)"
        elif dob is not None and v == dob.date and dob.year in columns:
            kv.append(dob.year)
            rename[v] = dob.year
            notes[v] = f"{dob.year} (the extract holds no finer date of birth)"
        else:
            notes[v] = "not in the extract: dropped"
    return kv, rename, notes


def _with_scenario_key(kv, rename, notes, key, columns, dob):
    """The intruder knows at least the scenario's key (what the scenario says a person knows):
    every key variable the mapped preset does not cover is added, compared exactly."""
    covered = set(kv)
    if dob is not None and dob.month_index in covered:
        covered |= {dob.year, dob.month}
    for q in key or ():
        if q in covered or q not in columns:
            continue
        kv.append(q)
        rename[q] = q
        notes[q] = f"{q} (in the scenario's key: known exactly)"
        covered.add(q)
    return kv


def _comparisons(sc, kv, rename, changes, dob):
    comps = {rename[k]: c for k, c in sc.comparisons.items() if k in rename and rename[k] == k}
    if dob is not None and rename.get(dob.date) == dob.month_index:
        c = sc.comparisons[dob.date]
        tol = c.tolerance if c.kind == "month" else (math.ceil(c.tolerance / 31.0) if c.kind == "date" else 0.0)
        comps[dob.month_index] = {"kind": "numeric", "tolerance": float(tol)}
        if sc.jitter.get(dob.date):
            changes["jitter"][dob.month_index] = sc.jitter[dob.date]
    return comps


def _blocking(sc, kv, rename, changes, n, frame):
    """The preset's blocking passes cut to what the extract holds (see the module notes)."""
    # a pass needs equal values: only variables compared exactly can block
    exact = [v for v in kv if _kind(changes["comparisons"].get(v)) == "exact"]
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
    return passes


def _target_count(t, cap: int, n: int):
    if isinstance(t, str) and t == "all":
        count = n
    elif isinstance(t, float):
        count = int(round(t * n))
    elif isinstance(t, int):
        count = t
    else:
        return None  # named targets: keep
    if count > cap:
        return cap
    if isinstance(t, int) and t > n:
        return n
    return None


def _released_as_given(sc, rename, frame, notes) -> set:
    """Variables the preset treats as dates or numbers (a date or numeric comparison, a month,
    year or rounding coarsening, a jitter) whose extract column is text: an extract generalised
    to years or bands (:mod:`idrisk.anonymise`). The intruder compares them exactly as released,
    since that is all the file lets him compare."""
    if frame is None:
        return set()
    out = set()
    for k in set(sc.coarsening) | set(sc.jitter) | set(sc.comparisons):
        if rename.get(k) != k or k not in frame.columns:
            continue
        col = frame[k]
        dates = pd.api.types.is_datetime64_any_dtype(col)
        numbers = dates or (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col))
        coarse = str(sc.coarsening.get(k, "")).partition(":")[0]
        kind = _kind(sc.comparisons.get(k))
        if ((coarse in ("month", "year") or kind in ("month", "date")) and not dates) or \
                ((coarse == "round" or kind == "numeric" or sc.jitter.get(k)) and not numbers):
            out.add(k)
            notes[k] = f"{k} (released generalised, as text: compared exactly as released)"
    return out


def _restrict_with_notes(sc, columns, cap: int, n: int, frame=None, profile=None, key=None):
    """The preset cut down to (and mapped onto) the extract's columns, and the mapping notes;
    ``key``: the scenario's key, which the intruder knows at least."""
    dob = get_profile(profile).date_of_birth
    columns = set(columns)
    kv, rename, notes = _map_variables(sc, columns, frame, dob)
    kv = _with_scenario_key(kv, rename, notes, key, columns, dob)
    if not kv:
        raise ValueError(f"the extract holds none of the variables of intruder scenario {sc.name!r}")
    changes = {"quasi_identifiers": kv}
    released = _released_as_given(sc, rename, frame, notes)
    for f in _RATES:
        changes[f] = {rename[k]: x for k, x in getattr(sc, f).items() if k in rename and x}
    changes["coarsening"] = {rename[k]: x for k, x in sc.coarsening.items()
                             if k in rename and rename[k] == k and k not in released}
    changes["jitter"] = {rename[k]: x for k, x in sc.jitter.items()
                         if k in rename and rename[k] == k and k not in released}
    changes["comparisons"] = {k: c for k, c in _comparisons(sc, kv, rename, changes, dob).items() if k not in released}
    changes["blocking"] = _blocking(sc, kv, rename, changes, n, frame)
    targets = _target_count(sc.targets, cap, n)
    if targets is not None:
        changes["targets"] = targets
    return dataclasses.replace(sc, **changes), notes


def _restrict(sc, columns, cap: int, n: int, frame=None, profile=None):
    """The preset cut down to (and mapped onto) the extract's columns (see the module notes)."""
    return _restrict_with_notes(sc, columns, cap, n, frame, profile)[0]


def _intruder_frame(frame, sc, profile=None):
    """The quasi-identifiers of ``sc`` as the intruder module needs them (a new frame)."""
    dob = get_profile(profile).date_of_birth
    index = None if dob is None else dob.month_index
    cols = [v for v in sc.quasi_identifiers if v != index]
    work = frame[cols].copy()
    if index is not None and index in sc.quasi_identifiers:
        y = frame[dob.year].astype("float64")
        mth = frame[dob.month].astype("float64")
        work[index] = y * 12 + mth
    return work


def _preset(name: str, profile) -> IntruderScenario:
    """The named preset: from the profile's preset file (any preset file without one)."""
    if profile.intruder_presets is None:
        return load_scenarios(name)[0]
    presets = {s.name: s for s in load_scenarios(profile.intruder_presets)}
    if name in presets:
        return presets[name]
    return load_scenarios(name)[0]


def check_presets(scenarios, profile) -> None:
    """Every scenario's intruder preset exists (every problem at once), before anything runs."""
    problems = []
    for i, s in enumerate(scenarios):
        if s.intruder is None:
            continue
        try:
            _preset(s.intruder, profile)
        except InvalidParameterError as exc:
            problems.append(f"config [[scenario]] {i + 1}: intruder must be a known intruder preset or scenario "
                            f"file; got str ({str(exc).splitlines()[0]})")
    raise_problems(problems)


def intruder_columns(preset: str | None, quasi_identifiers, columns, profile=None) -> list:
    """The columns of an extract (``columns``) that :func:`run_intruder` can read for a
    scenario: its key, the preset's variables and the profile's year and month of birth."""
    prof = get_profile(profile)
    wanted = set(quasi_identifiers)
    if preset:
        wanted |= set(_preset(preset, prof).quasi_identifiers)
    dob = prof.date_of_birth
    if dob is not None:
        wanted |= {dob.year, dob.month}
    return [c for c in columns if c in wanted]


def run_intruder(frame, name: str, preset: str | None, quasi_identifiers, *, seed: int, targets: int,
                 claim_confidence: float, sampling_fraction: float = 1.0, profile=None,
                 runs: int = 1, memory_budget: int | None = None) -> IntruderSummary:
    """Simulate the intruder of one scenario on ``frame`` (the extract without direct identifiers).

    ``preset`` names an intruder preset; without one the intruder holds ``quasi_identifiers``
    without error. ``claim_confidence`` is the route's threshold: correct claims at that
    confidence are counted when the simulation resolves it (the claim threshold, or the
    high-confidence threshold), else ``correct_claims_at_confidence`` is None. The
    simulation is run ``runs`` times with seeds ``seed, seed + 1, ...``; the figures are the
    first run's, with the median and range over the runs, and the highest count at the
    route's confidence (docs/methods.md#intruder). ``memory_budget``: bytes the linkage may
    take (``None``: the default budget of :mod:`idrisk.intruder.memory`).
    """
    prof = get_profile(profile)
    if preset:
        sc = _preset(preset, prof)
    else:
        sc = IntruderScenario(name=name, quasi_identifiers=list(quasi_identifiers))
        if sampling_fraction < 1.0:
            # a sample extract: the intruder cannot know the target is in it; the prior
            # probability that it is, is the sampling fraction
            sc = dataclasses.replace(sc, response_knowledge=False, membership_prior=float(sampling_fraction))
    sc, notes = _restrict_with_notes(sc, set(frame.columns), max(1, targets), len(frame), frame, prof,
                                     key=list(quasi_identifiers))
    frame = _intruder_frame(frame, sc, prof)
    kw = {} if sampling_fraction >= 1.0 else {"sampling_fraction": float(sampling_fraction)}
    results = _seeded_runs(frame, sc, seed, max(1, int(runs)), memory_budget, kw)
    figures = []
    for r, res in enumerate(results):
        figures.append(IntruderRun(seed=seed + r, claims=int(res.claims), correct_claims=int(res.correct_claims),
                                   correct_claims_at_confidence=_at_confidence(res, sc, claim_confidence),
                                   high_confidence_correct=_number(res.high_confidence_correct)))
    res = results[0]
    at_conf = [f.correct_claims_at_confidence for f in figures]
    bands = [ConfidenceBand(band=str(b["band"]), claims=int(b["claims"]), correct=int(b["correct"]),
                            mean_confidence=_number(b["mean_confidence"]))
             for b in res.by_confidence.to_dict("records")]
    return IntruderSummary(
        intruder_scenario=sc.name, known_variables=list(sc.quasi_identifiers),
        response_knowledge=bool(sc.response_knowledge), targets=int(res.n_targets), claims=int(res.claims),
        correct_claims=int(res.correct_claims), expected_correct_claims=_number(res.expected_correct),
        precision=_number(res.precision), reidentification_rate=_number(res.reidentification_rate),
        extract_reidentified_share=_number(res.extract_reidentified_share),
        high_confidence_claims=_number(res.high_confidence_claims),
        high_confidence_correct=_number(res.high_confidence_correct), brier_score=_number(res.brier_score),
        by_confidence=bands, correct_claims_at_confidence=None if None in at_conf else max(at_conf),
        variable_mapping=notes,
        dropped_variables=[v for v, note in notes.items() if note.endswith("dropped")
                           or "dropped (" in note or note.startswith("constant")],
        blocking=[list(p) for p in sc.blocking], runs=figures, description=str(sc.description or ""),
        knowledge=_knowledge(sc),
        correct_claims_spread=_spread([f.correct_claims for f in figures]),
        correct_claims_at_confidence_spread=_spread(at_conf),
        exact_match_correct_claims=int(res.exact_match_correct))


def _seeded_runs(frame, sc, seed: int, runs: int, memory_budget, kw) -> list:
    """The intruder simulated with seeds ``seed .. seed + runs - 1``, in seed order.

    The runs are independent and their kernels release the GIL, so two run at a time on
    threads. Two, not more: each run may take up to the memory budget, and the default budget
    is a quarter of physical memory. With a budget the caller set, the runs go one at a time
    (the budget is what one linkage may take). The results do not depend on the threads.
    """
    def one(r: int):
        aux = make_auxiliary(frame, sc, seed=seed + r)
        if sc.response_knowledge or kw.get("sampling_fraction", 1.0) >= 1.0:
            return simulate_intruder(frame, aux, sc, seed=seed + r, memory_budget=memory_budget, **kw)
        sub, aux = _sample_world(frame, aux, kw["sampling_fraction"], seed + r)
        return simulate_intruder(sub, aux, sc, seed=seed + r, memory_budget=memory_budget, **kw)

    workers = 1 if memory_budget is not None else min(2, runs, n_workers(runs))
    if workers == 1:
        return [one(r) for r in range(runs)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="idrisk-intruder") as pool:
        return list(pool.map(one, range(runs)))


def _sample_world(frame, aux, pi: float, seed: int):
    """A world where the membership prior is true: the extract plays the population, a
    ``pi``-sample of it the extract, and the targets (drawn from the whole extract) are in
    that sample with probability ``pi``; the ground truth is remapped to the sample's rows."""
    rng = np.random.default_rng([int(seed), 15])
    n = len(frame)
    keep = np.sort(rng.choice(n, size=max(1, int(round(pi * n))), replace=False))
    pos = np.full(n, -1, dtype=np.int64)
    pos[keep] = np.arange(keep.shape[0])
    aux = aux.copy()
    aux[TRUTH_COLUMN] = pos[aux[TRUTH_COLUMN].to_numpy()]
    return frame.iloc[keep].reset_index(drop=True), aux


def _rate(mapping, v) -> float:
    if isinstance(mapping, (int, float)):
        return float(mapping)
    return float((mapping or {}).get(v, 0.0) or 0.0)


def _knowledge(sc) -> dict:
    """{variable: how accurately the intruder knows it}, in words (the preset's conventions)."""
    out = {}
    for v in sc.quasi_identifiers:
        parts = []
        for label, field in (("wrong", "error_rate"), ("unknown", "missing_rate"), ("out of date", "change_rate")):
            x = _rate(getattr(sc, field), v)
            if x:
                parts.append(f"{label} for {x:.0%}")
        if sc.jitter.get(v):
            parts.append(f"off by up to {sc.jitter[v]:g}")
        c = sc.comparisons.get(v)
        tol = c.get("tolerance", 0) if isinstance(c, dict) else getattr(c, "tolerance", 0)
        if tol:
            parts.append(f"matched within {float(tol):g}")
        out[str(v)] = "known exactly" if not parts else ", ".join(parts)
    return out


def _at_confidence(res, sc, claim_confidence: float):
    if claim_confidence <= sc.claim_threshold:
        # never weaker than the exact-match intruder run beside (it states no confidence, so it
        # only counts at the claim threshold)
        return int(res.decision_correct_claims)
    if claim_confidence == sc.high_confidence_threshold:
        return int(res.high_confidence_correct)
    return None


def _spread(values) -> Spread:
    if not values or None in values:
        return Spread(median=None, low=None, high=None)
    return Spread(median=float(np.median(values)), low=float(min(values)), high=float(max(values)))


def _number(x):
    """A plain int or float, None for NaN (as the intruder's own dictionary gives it)."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None
