"""``idrisk.assess``: run every measure on every scenario and decide a route."""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .. import __version__
from .._encode import encode
from .._validation import Param, as_frame, param_problems, raise_problems
from ..exceptions import IdRiskWarning, InvalidParameterError
from ..profiles import get_profile
from ._signature import keywords
from .config import AssessmentConfig, Scenario
from .config_io import config_from_dict, load_config
from .content import check_columns, content_of
from .indicators import build_indicators, score_and_route
from .intruder_bridge import check_presets
from .io import fingerprint_file, fingerprint_frame, read_extract
from .measures import STEPS, Runner
from .mitigation import Mitigations, what_if
from .result import AssessmentResult, Meta

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
    elif data is not None:
        frame = as_frame(data)
    if qis is not None:
        if "scenarios" in opts:
            raise InvalidParameterError("give quasi_identifiers=[...] or scenarios=[...], not both")
        opts["scenarios"] = [Scenario(name="main", quasi_identifiers=[qis] if isinstance(qis, str) else list(qis))]
    if cfg is not None:
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
           sensitive=None, direct_identifiers=None, weights=None, population_size=None, census=None, flags=None,
           tiers=None, thresholds=None, seed=None, missing=None, max_msu_size=_UNSET, sweep_max_size=_UNSET,
           k_values=None, intruder_targets=None, mitigations=None, geography=None, groupings=None,
           progress=None, intruder_memory_budget=None) -> AssessmentResult:
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
    scenarios, name, profile, sensitive, direct_identifiers, weights, population_size,
    census, flags, tiers, thresholds, seed, missing, max_msu_size, sweep_max_size,
    k_values, intruder_targets, mitigations, geography, groupings, intruder_memory_budget
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
                 direct_identifiers=direct_identifiers, weights=weights, population_size=population_size,
                 census=census, flags=flags, tiers=tiers, thresholds=thresholds, seed=seed, missing=missing,
                 max_msu_size=max_msu_size, sweep_max_size=sweep_max_size, k_values=k_values,
                 intruder_targets=intruder_targets, mitigations=mitigations, geography=geography,
                 groupings=groupings, intruder_memory_budget=intruder_memory_budget)
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
    if cfg.data_path() is not None and cfg.data_path().is_file():
        fp, fp_of = fingerprint_file(cfg.data_path()), "file"
    else:
        fp, fp_of = fingerprint_frame(frame), "frame"
    # direct identifiers: drop the declared ones, flag look-alikes (names only, never values)
    check_columns(cfg, frame)
    work = frame.drop(columns=list(cfg.direct_identifiers)) if cfg.direct_identifiers else frame
    profile = get_profile(cfg.profile)
    content = content_of(cfg, work, profile, stacklevel=4)

    t_start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enc = encode(work, list(dict.fromkeys(cfg.all_quasi_identifiers)))
    runner = Runner(cfg, work, enc, profile)
    for w in caught:
        runner.record_warning(w.category, w.message, w.filename, "encoding")
    scen_out = _run_scenarios(cfg, runner, progress)

    mitig = _mitigations(cfg, work, scen_out, profile, runner.timings)
    indicators = build_indicators(cfg, content, scen_out, profile)
    score, route = score_and_route(cfg, indicators, mitig.candidates)
    meta = Meta(idrisk_version=__version__, name=cfg.name, input=None if cfg.data is None else Path(cfg.data).name,
                fingerprint_sha256=fp, fingerprint_of=fp_of, n_records=int(len(work)), n_columns=int(frame.shape[1]),
                direct_identifiers_dropped=list(cfg.direct_identifiers), census=cfg.is_census,
                sampling_fraction=runner.sampling_fraction)
    result = AssessmentResult(meta=meta, config=cfg.to_dict(), content=content, route=route, score=score,
                              indicators=indicators, scenarios=scen_out, mitigations=mitig,
                              warnings=runner.warnings)
    return result.with_timings(dict(runner.timings, total=time.perf_counter() - t_start))


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
        wi = what_if(work, worst.quasi_identifiers, k=min_k, missing=cfg.missing,
                     geography=cfg.mitigation_geography, groupings=cfg.mitigation_groupings, drivers=drivers,
                     profile=profile)
    timings["mitigations"] = time.perf_counter() - t0
    return Mitigations(scenario=worst.name, drivers=drivers or list(worst.quasi_identifiers), before=wi.before,
                       candidates=wi.candidates,
                       drivers_from="SUDA attribute contributions" if drivers else "every quasi-identifier",
                       min_k=min_k)
