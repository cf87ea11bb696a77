"""``idrisk.assess``: run every measure on every scenario and decide a route."""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from .._encode import encode
from .._validation import Param, as_frame, param_problems, raise_problems
from ..exceptions import IdRiskWarning, InvalidParameterError
from ..metrics import individual_risk
from ..profiles import get_profile
from ._signature import keywords
from .config import AssessmentConfig, Scenario
from .config_io import config_from_dict, load_config
from .columns import describe_columns, refine_scenarios, refinements
from .content import check_columns, content_of, identifiers_found, tier_sources
from .indicators import build_indicators, score_and_route
from .intruder_bridge import check_presets
from .io import fingerprint_file, fingerprint_frame, read_extract
from .measures import STEPS, Runner
from .mitigation import Mitigations, what_if
from .result import AssessmentResult, Assumption, Engine, Meta
from .spark_run import (SparkColumns, SparkRunner, census_alternative_risk, is_spark_frame, spark_fingerprint,
                        spark_what_if)

__all__ = ["assess"]


class _Unset:
    """Marks a keyword that was not given (``None`` means "no limit" for the sizes)."""

    def __repr__(self):
        return "<from the config, else the default>"


_UNSET = _Unset()
#: the declared constraints of assess's own keywords (the others are configuration fields)
_ASSESS = {"progress": Param("bool", optional=True),
           "quasi_identifiers": Param("columns", nonempty=True, optional=True)}


def _as_config(config) -> AssessmentConfig | None:
    if config is None or isinstance(config, AssessmentConfig):
        return config
    if isinstance(config, (str, Path)):
        return load_config(config)
    if isinstance(config, dict):
        return config_from_dict(config)
    raise InvalidParameterError(f"config must be an AssessmentConfig, a TOML/JSON path or a dict, "
                                f"got {type(config).__name__}")


def _is_config(data) -> bool:
    return isinstance(data, AssessmentConfig) or (
        isinstance(data, (str, Path)) and Path(data).suffix.lower() in (".toml", ".json"))


def _extract_defaults(extract, frame, opts: dict) -> None:
    """Name, direct identifiers, sensitive attributes and tiers from an ``Extract``'s roles."""
    opts.setdefault("name", getattr(extract, "name", "extract"))
    opts.setdefault("direct_identifiers", [c for c in getattr(extract, "direct_identifiers", [])
                                           if c in frame.columns])
    tiers = {c: t for c, t in dict(getattr(extract, "sensitive_tiers", {}) or {}).items()
             if isinstance(t, int) and c in frame.columns}
    if "sensitive" not in opts:
        opts["sensitive"] = {s: {"tier": tiers.get(s)} for s in getattr(extract, "sensitive", [])}
    sens_names = set(opts["sensitive"]) if isinstance(opts["sensitive"], dict) else set()
    opts.setdefault("tiers", {c: t for c, t in tiers.items() if c not in sens_names
                              and c not in opts.get("direct_identifiers", [])})


def _resolve(data, config, qis, opts: dict) -> tuple[AssessmentConfig, pd.DataFrame | None]:
    """(config, frame or None): the configuration with the keywords applied, and the data."""
    if _is_config(data):
        if config is not None:
            raise InvalidParameterError("give the configuration once: as data or as config, not both")
        data, config = None, data
    cfg = _as_config(config)
    frame = extract = None
    if isinstance(data, (str, Path)):
        frame = read_extract(data)
        opts.setdefault("data", str(data))
        if cfg is None:
            opts.setdefault("name", Path(data).name)
        else:
            opts["base_dir"] = None  # the path is the caller's, not relative to the config file
    elif hasattr(data, "data") and hasattr(data, "quasi_identifiers"):  # an idrisk.datasets.Extract
        extract = data
        frame = as_frame(extract.data)
    elif is_spark_frame(data):
        frame = data  # a Spark table: measured through idrisk.spark (spark_run)
    elif data is not None:
        frame = as_frame(data)
    if qis is not None:
        if "scenarios" in opts:
            raise InvalidParameterError("give quasi_identifiers=[...] or scenarios=[...], not both")
        opts["scenarios"] = [Scenario(name="main", quasi_identifiers=[qis] if isinstance(qis, str) else list(qis))]
    if cfg is not None:
        if "tiers" in opts:  # --tier adds to the configuration's tiers
            opts["tiers"] = {**cfg.tiers, **opts["tiers"]}
        return (replace(cfg, **opts) if opts else cfg), frame
    if "scenarios" not in opts:
        if extract is None:
            raise InvalidParameterError("give quasi_identifiers=[...] (or scenarios=[...]) for the assessment")
        opts["scenarios"] = [Scenario(name="main", quasi_identifiers=list(extract.quasi_identifiers))]
    if extract is not None:
        _extract_defaults(extract, frame, opts)
    return AssessmentConfig(**opts), frame


@keywords()
def assess(data=None, config=None, *, quasi_identifiers=None, scenarios=None, name=None, profile=None,
           sensitive=None, direct_identifiers=None, removed=None, non_identifying=None, reference=None,
           assessor=None, date=None, weights=None,
           population_size=None, census=None, flags=None, tiers=None, thresholds=None, seed=None, missing=None,
           max_msu_size=_UNSET, sweep_max_size=_UNSET, k_values=None, intruder_targets=None, intruder_runs=None,
           mitigations=None, geography=None, groupings=None, progress=None, intruder_memory_budget=None) -> AssessmentResult:
    """Assess an extract: every measure on every scenario, indicators, score and route.

    Parameters
    ----------
    data : DataFrame, path or idrisk.datasets.Extract, optional
        A frame (pandas, pyarrow or polars; not modified), an extract file (CSV, Parquet,
        .dta, .sav), or an ``Extract`` (its roles and tiers are used). Omitted when the
        configuration names the extract file. A configuration (object or TOML/JSON path)
        is also accepted here.
    config : AssessmentConfig, path or dict, optional
        The configuration (a TOML or JSON file, or :meth:`AssessmentConfig.to_dict`); the
        keywords below override its fields. Without it the keywords make it.
    quasi_identifiers : list of str, optional
        One scenario on this key (a shortcut for ``scenarios=[...]``).
    scenarios, name, profile, sensitive, direct_identifiers, removed, non_identifying, reference, assessor,
    date, weights, population_size,
    census, flags, tiers, thresholds, seed, missing, max_msu_size, sweep_max_size,
    k_values, intruder_targets, intruder_runs, mitigations, geography, groupings, intruder_memory_budget
        The fields of :class:`~idrisk.assessment.AssessmentConfig`; a keyword not given
        keeps the configuration's value (or the default).
    progress : bool, optional
        Show a progress bar on stderr (default: only on a terminal).

    Returns
    -------
    AssessmentResult
        ``to_json()``, ``to_html(path)``, ``summary()``, ``check(policy)``.

    Notes
    -----
    Measures (docs/methods.md#assessment; each documented in its own module, with the peer
    it matches): k-anonymity and sample uniques (sdcMicro freqCalc / ARX), individual risk
    (census: ``1/fk``; sample: Benedetti-Franconi as sdcMicro measure_risk), population
    uniqueness (ARX), l-diversity and t-closeness (sdcMicro ldiversity / ARX), SUDA2 and
    DIS-SUDA (sdcMicro suda2), the QI-combination sweep, the simulated intruder, and
    what-if coarsenings (:func:`idrisk.what_if`). A measure that fails on the data is
    listed under ``not_computed`` with the reason; its indicator then does not hold
    (docs/methods.md#indicators, docs/methods.md#routes).

    One missing-value convention (``missing``, default ``"category"``) is used for every
    measure, so k, l and the individual risk describe the same classes; set
    ``missing="wildcard"`` to reproduce sdcMicro ``measure_risk`` exactly when keys have
    missing values (sdcMicro's only convention). The profile (docs/methods.md#profiles)
    says what is known about the kind of data: ``"npd"`` (default) or ``"generic"``.

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"sex": ["F"] * 12 + ["M"] * 12, "yob": [2010, 2011] * 12})
    >>> res = idrisk.assess(df, quasi_identifiers=["sex", "yob"], progress=False)
    >>> res.scenarios[0].measures["k_anonymity"].min_class_size
    6
    >>> res.route.recommended  # classes of 6 < 10, but dropping one variable removes the risk
    'refer back'
    """
    given = dict(scenarios=scenarios, name=name, profile=profile, sensitive=sensitive,
                 direct_identifiers=direct_identifiers, removed=removed, non_identifying=non_identifying,
                 reference=reference, assessor=assessor, date=date, weights=weights, population_size=population_size,
                 census=census, flags=flags, tiers=tiers, thresholds=thresholds, seed=seed, missing=missing,
                 max_msu_size=max_msu_size, sweep_max_size=sweep_max_size, k_values=k_values,
                 intruder_targets=intruder_targets, intruder_runs=intruder_runs, mitigations=mitigations,
                 geography=geography, groupings=groupings, intruder_memory_budget=intruder_memory_budget)
    qis = [quasi_identifiers] if isinstance(quasi_identifiers, str) else quasi_identifiers
    raise_problems(param_problems("assess", {"progress": progress, "quasi_identifiers": qis}, _ASSESS))
    opts = {k: v for k, v in given.items() if v is not None and v is not _UNSET}
    cfg, frame = _resolve(data, config, quasi_identifiers, opts)
    return _assess(cfg, frame, sys.stderr.isatty() if progress is None else progress)


def _assess(cfg: AssessmentConfig, frame, progress: bool) -> AssessmentResult:
    check_presets(cfg.scenarios, get_profile(cfg.profile))
    if frame is None:
        path = cfg.data_path()
        if path is None:
            raise InvalidParameterError("the config names no extract: set [extract] path, or pass a DataFrame")
        frame = read_extract(path)
    spark = is_spark_frame(frame)
    if cfg.data_path() is not None and cfg.data_path().is_file():
        fp, fp_of = fingerprint_file(cfg.data_path()), "file"
    elif spark:
        fp, fp_of = spark_fingerprint(frame), "table"
    else:
        fp, fp_of = fingerprint_frame(frame), "frame"
    profile = get_profile(cfg.profile)
    with warnings.catch_warnings(record=True) as issued:
        warnings.simplefilter("always")
        work, run_cfg, content, columns, refined = _prepare(cfg, SparkColumns(frame) if spark else frame, profile)
    for w in issued:  # issued again for the caller, and kept in the result
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    t_start = time.perf_counter()
    caught = []
    if spark:
        work = work.data
        runner = SparkRunner(run_cfg, work, profile, refined=refined)
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            enc = encode(work, list(dict.fromkeys(run_cfg.all_quasi_identifiers)))
        runner = Runner(run_cfg, work, enc, profile, refined=refined)
    for w in issued:
        runner.record_warning(w.category, w.message, w.filename, "content", log=False)
    for w in caught:
        runner.record_warning(w.category, w.message, w.filename, "encoding")
    assumptions = _assumptions(cfg, runner)
    for a in assumptions:
        if a.id == "census" and not a.declared:
            runner.record_warning(IdRiskWarning, "census or sample not declared: " + a.effect, "", "assumption")
    scen_out = _run_scenarios(run_cfg, runner, progress)

    assumptions = _census_effect(cfg, assumptions, work, scen_out)
    mitig = _mitigations(cfg, work, scen_out, profile, runner.timings)
    indicators = build_indicators(run_cfg, content, scen_out, profile)
    score, route = score_and_route(cfg, indicators, mitig.candidates)
    engine = Engine(name="spark", collected_to_driver=dict(runner.collected)) if spark else Engine()
    meta = Meta(idrisk_version=__version__, name=cfg.name, input=None if cfg.data is None else Path(cfg.data).name,
                fingerprint_sha256=fp, fingerprint_of=fp_of, n_records=int(runner.n), n_columns=len(frame.columns),
                direct_identifiers_dropped=list(cfg.direct_identifiers) + [c for c in cfg.removed],
                census=cfg.is_census,
                sampling_fraction=runner.sampling_fraction, engine=engine)
    result = AssessmentResult(meta=meta, config=cfg.to_dict(), columns=columns, assumptions=assumptions,
                              content=content, route=route,
                              score=score,
                              indicators=indicators, scenarios=scen_out, mitigations=mitig,
                              warnings=runner.warnings)
    return result.with_timings(dict(runner.timings, total=time.perf_counter() - t_start))


def _prepare(cfg, frame, profile):
    """(work, run config, content, columns, {key variable: finer column}) of an extract.

    The declared direct identifiers and removed columns are dropped; direct identifiers are
    found by name and content; a column refining a key variable replaces it in every
    scenario (docs/methods.md#assessment).
    """
    check_columns(cfg, frame)
    dropped = list(dict.fromkeys([*cfg.direct_identifiers, *cfg.removed]))
    work = frame.drop(columns=dropped) if dropped else frame
    found = identifiers_found(cfg, work, profile)
    roles = {s.name for s in cfg.sensitive} | ({cfg.weights} if isinstance(cfg.weights, str) else set())
    refined = refinements(work, cfg.all_quasi_identifiers, profile, exclude=roles | set(found))
    run_cfg = replace(cfg, scenarios=refine_scenarios(cfg.scenarios, refined)) if refined else cfg
    if refined:
        warnings.warn("the extract holds finer forms of key variables, used in every scenario: "
                      + ", ".join(f"{c} for {q}" for q, c in refined.items())
                      + " (declare a column removed to assess without it)", IdRiskWarning, stacklevel=5)
    content = content_of(run_cfg, work, profile, stacklevel=5, found=found)
    keys = set(run_cfg.all_quasi_identifiers)
    columns = describe_columns(run_cfg, frame, profile, keys=keys, finer=refined, found=found,
                               tiers=tier_sources(run_cfg, frame, profile))
    return work, run_cfg, content, columns, refined


def _assumptions(cfg, runner: Runner) -> list[Assumption]:
    """Census or sample, the population size and the intruder's response knowledge, each
    declared or the cautious default (docs/methods.md#assessment)."""
    sample_given = cfg.weights is not None or cfg.population_size is not None
    census_declared = cfg.census is not None or sample_given
    n = runner.n
    if cfg.is_census:
        census_effect = ("treated as a census: every member of the population is taken to be in the file, so a "
                         "record unique in the file is unique in the population (individual risk 1/fk, the highest "
                         "reading); declare --census, or --population-size N / --weights COL for a sample")
        if census_declared:
            census_effect = "declared a census: individual risk 1/fk, a unique record is a population unique"
    else:
        census_effect = ("a sample of its population: individual risk estimated from the population size "
                         "(Benedetti-Franconi) and population uniqueness estimated")
    size = float(n) if cfg.is_census else float(runner.population_size)
    size_effect = ("the population is the file itself (census)" if cfg.is_census and not sample_given else
                   f"sampling fraction {n / size:.4g}: the share of the population in the file")
    resp = ("the intruder is taken to know that the person is in the file (a census: membership is known)"
            if cfg.is_census else "the intruder does not know whether the person is in the file; the chance "
                                  "that they are is the sampling fraction")
    return [Assumption(id="census", value=bool(cfg.is_census), declared=census_declared, effect=census_effect),
            Assumption(id="population_size", value=size, declared=sample_given or cfg.census is not None,
                       effect=size_effect),
            Assumption(id="response_knowledge", value=bool(cfg.is_census), declared=census_declared, effect=resp)]


#: the sampling fraction of the alternative reading of a census nobody declared
_ALTERNATIVE_FRACTION = 0.1


def _census_effect(cfg, assumptions: list, work, scen_out) -> list:
    """A census nobody declared: its effect on the riskiest public scenario, the highest
    individual risk were the file a 10% sample (Benedetti-Franconi, docs/methods.md#individual-risk)."""
    census = next(a for a in assumptions if a.id == "census")
    public = [s for s in scen_out if s.public and "individual_risk" in s.measures and "k_anonymity" in s.measures]
    if census.declared or not census.value or not public:
        return assumptions
    worst = max(public, key=lambda s: s.measures["k_anonymity"].n1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if is_spark_frame(work):
                highest = census_alternative_risk(work, worst.quasi_identifiers, cfg.missing,
                                                  1.0 / _ALTERNATIVE_FRACTION)
            else:
                highest = float(individual_risk(work, worst.quasi_identifiers, missing=cfg.missing,
                                                weights=np.full(len(work), 1.0 / _ALTERNATIVE_FRACTION))["risk"].max())
    except Exception:  # noqa: BLE001 - the alternative reading is a comment, never a failure
        return assumptions
    effect = (f"{census.effect}. Were the file a {_ALTERNATIVE_FRACTION:.0%} sample of its population, the "
              f"highest individual risk on [{worst.name}] would be {highest:.3g} instead of "
              f"{worst.measures['individual_risk'].max_risk:.3g}")
    return [replace(a, effect=effect) if a.id == "census" else a for a in assumptions]


def _run_scenarios(cfg, runner: Runner, progress: bool) -> list:
    from tqdm.auto import tqdm

    bar = tqdm(total=len(cfg.scenarios) * len(STEPS), desc="assessing", unit="step", disable=not progress,
               file=sys.stderr, leave=False)
    out = []
    try:
        for s in cfg.scenarios:
            out.append(runner.scenario(s, bar))
    finally:
        bar.close()
    return out


def _mitigations(cfg, work, scen_out, profile, timings: dict) -> Mitigations:
    """What-if coarsenings on the riskiest public scenario (most records below ``min_k``)."""
    public = [(i, s) for i, s in enumerate(scen_out) if s.public and "k_anonymity" in s.measures]
    if not (cfg.mitigations and public):
        return Mitigations(scenario=None, drivers=[], before=None, candidates=[])
    min_k = cfg.thresholds.min_k
    _, worst = max(public, key=lambda p: (p[1].measures["k_anonymity"].records_below_k[min_k], -p[0]))
    suda = worst.measures.get("suda")
    contrib = suda.attribute_contributions if suda is not None else None
    drivers = [q for q, _ in sorted(contrib.items(), key=lambda kv: -kv[1])] if contrib else None
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # data-quality warnings were already collected above
        warnings.simplefilter("ignore", IdRiskWarning)
        kw = dict(k=min_k, missing=cfg.missing, geography=cfg.mitigation_geography,
                  groupings=cfg.mitigation_groupings, drivers=drivers, profile=profile)
        if is_spark_frame(work):
            wi = spark_what_if(work, worst.quasi_identifiers, **kw)
        else:
            wi = what_if(work, worst.quasi_identifiers, **kw)
    timings["mitigations"] = time.perf_counter() - t0
    return Mitigations(scenario=worst.name, drivers=drivers or list(worst.quasi_identifiers), before=wi.before,
                       candidates=wi.candidates,
                       drivers_from="SUDA attribute contributions" if drivers else "every quasi-identifier",
                       min_k=min_k)
