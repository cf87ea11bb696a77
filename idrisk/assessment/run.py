"""``idrisk.assess``: run every measure on every scenario and decide a route."""

from __future__ import annotations

import importlib
import re
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from .._encode import encode
from .._validation import as_frame, check_weights
from ..exceptions import DataValidationError, IdRiskError, IdRiskWarning, IdentifierWarning, InvalidParameterError
from ..metrics import class_ids, frequency_arrays
from .config import AssessmentConfig, Scenario, load_config
from .indicators import build_indicators, score_and_route
from .io import fingerprint_file, fingerprint_frame, read_extract
from .result import AssessmentResult

__all__ = ["assess"]

# names that look like direct identifiers (normalised: lower case, spaces and dashes to "_")
_DIRECT = re.compile(r"^(upn|uln|pmr|apmr|pupil_?id|person_?id|child_?id|candidate(_?number|_?no)?|"
                     r"(fore|sur|first_|last_|full_)?name|address(_line_?\d)?|postcode|post_code|email|"
                     r"e_?mail|phone|telephone|mobile|nhs_?number|ni_?number)$")
_SMALL_AREA = re.compile(r"(^|_)(lsoa|msoa|oa|output_area|postcode|postcode_sector|postcode_unit)(_|$)")


def _norm(c) -> str:
    return re.sub(r"[\s\-]+", "_", str(c).strip().lower())


def _peer(module: str, name: str):
    """A peer measure, or None when its module is not part of this build."""
    try:
        mod = importlib.import_module(module.rsplit(".", 1)[0] if module.startswith("idrisk.metrics.") else module)
    except ImportError:
        return None
    return getattr(mod, name, None)


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0] if msg else ''}".rstrip(": ")


def _hist(values: np.ndarray, edges) -> list[dict]:
    counts, e = np.histogram(values, bins=edges)
    return [{"low": float(e[i]), "high": float(e[i + 1]), "count": int(c)} for i, c in enumerate(counts)]


class _Runner:
    def __init__(self, cfg: AssessmentConfig, frame: pd.DataFrame, progress):
        self.cfg = cfg
        self.frame = frame
        self.n = len(frame)
        self.timings: dict = {}
        self.warnings: list[str] = []
        self.progress = progress
        w = None
        if cfg.weights is not None:
            w = check_weights(frame, cfg.weights)
        elif cfg.population_size is not None:
            if cfg.population_size < self.n:
                raise DataValidationError(
                    f"population_size {cfg.population_size} is smaller than the extract ({self.n} records)")
            w = np.full(self.n, cfg.population_size / self.n)
        self.weights = w
        self.population_size = (None if w is None else
                                (cfg.population_size if cfg.population_size is not None else float(w.sum())))

    # -- helpers ------------------------------------------------------------------------------
    def _call(self, measure: str, scen: dict, fn, *args, **kwargs):
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - recorded, shown in the report, indicator fails
                scen["not_computed"][measure] = _one_line(exc)
                return None
            finally:
                self.timings[f"{scen['name']}/{measure}"] = time.perf_counter() - t0
                for w in caught:
                    if issubclass(w.category, IdRiskWarning) or issubclass(w.category, UserWarning):
                        msg = f"[{scen['name']}] {measure}: {w.category.__name__}: {str(w.message).splitlines()[0]}"
                        if msg not in self.warnings:
                            self.warnings.append(msg)

    # -- measures -----------------------------------------------------------------------------
    def frequency(self, scen, qis):
        cfg = self.cfg
        k_an = _peer("idrisk.metrics.k_anonymity", "k_anonymity")
        fk, _ = frequency_arrays(self.enc, qis, missing=cfg.missing)
        fk = np.asarray(fk)
        if k_an is not None:
            res = self._call("k_anonymity", scen, k_an, self.frame, qis, k=cfg.k_values, missing=cfg.missing)
            if res is None:
                return fk
            d = {"min_class_size": int(res.min_class_size), "n_classes": int(res.n_classes),
                 "records_below_k": {str(int(k)): int(v) for k, v in dict(res.records_below_k).items()},
                 "n1": int(res.n1), "n2": int(res.n2),
                 "class_size_histogram": {str(int(k)): int(v) for k, v in dict(res.class_size_histogram).items()},
                 "computed_by": "idrisk.k_anonymity"}
        else:
            # the foundation's fk: class sizes when missing is "category" or "never"
            if cfg.missing == "wildcard":
                sizes = None
            else:
                _, sizes = class_ids(self.enc, qis, cfg.missing)
            d = {"min_class_size": int(fk.min()),
                 "n_classes": None if sizes is None else int(len(sizes)),
                 "records_below_k": {str(k): int((fk < k).sum()) for k in cfg.k_values},
                 "n1": int((fk == 1).sum()), "n2": int((fk == 2).sum()),
                 "class_size_histogram": None if sizes is None else
                 {str(int(s)): int(c) for s, c in zip(*np.unique(sizes, return_counts=True))},
                 "computed_by": "idrisk.frequencies"}
        if str(cfg.thresholds.min_k) not in d["records_below_k"]:
            d["records_below_k"][str(cfg.thresholds.min_k)] = int((fk < cfg.thresholds.min_k).sum())
        d["records_below_k"] = dict(sorted(d["records_below_k"].items(), key=lambda kv: int(kv[0])))
        d["sample_unique_share"] = d["n1"] / self.n
        scen["measures"]["k_anonymity"] = d
        return fk

    def risk(self, scen, qis, fk):
        cfg = self.cfg
        if self.weights is None:
            r = 1.0 / fk.astype(np.float64)
            scen["measures"]["individual_risk"] = {
                "model": "census: prosecutor risk 1/fk (pi = 1)",
                "max_risk": float(r.max()), "mean_risk": float(r.mean()),
                "records_above_threshold": int((r > cfg.thresholds.max_individual_risk).sum()),
                "expected_reidentifications": float(r.sum()), "global_risk": float(r.mean()),
                "computed_by": "idrisk.frequencies"}
        else:
            ind = _peer("idrisk.metrics.individual_risk", "individual_risk")
            if ind is None:
                scen["not_computed"]["individual_risk"] = ("the Benedetti-Franconi individual risk module "
                                                           "(idrisk.metrics.individual_risk) is not in this build")
            else:
                res = self._call("individual_risk", scen, ind, self.frame, qis, weights=self.weights,
                                 missing=cfg.missing)
                if res is not None:
                    r = res["risk"].to_numpy(dtype=np.float64)
                    scen["measures"]["individual_risk"] = {
                        "model": "sample: Benedetti-Franconi individual risk (sdcMicro measure_risk)",
                        "max_risk": float(np.nanmax(r)), "mean_risk": float(np.nanmean(r)),
                        "records_above_threshold": int((r > cfg.thresholds.max_individual_risk).sum()),
                        "expected_reidentifications": float(np.nansum(r)), "global_risk": float(np.nanmean(r)),
                        "computed_by": "idrisk.individual_risk"}
            pu = _peer("idrisk.metrics.population", "population_uniqueness")
            if pu is not None and self.population_size is not None:
                res = self._call("population_uniqueness", scen, pu, self.frame, qis,
                                 population_size=int(round(self.population_size)))
                if res is not None:
                    d = res.to_dict()
                    scen["measures"]["population_uniqueness"] = {
                        k: d.get(k) for k in ("zayatz", "pitman", "snb", "dankar", "dankar_model",
                                              "sampling_fraction", "reasons") if k in d}
        sr = _peer("idrisk.metrics.sample_risks", "sample_risks")
        if sr is not None:
            res = self._call("sample_risks", scen, sr, self.frame, qis)
            if res is not None:
                scen["measures"]["sample_risks"] = {
                    k: getattr(res, k) for k in ("average_risk", "highest_risk", "lowest_risk") if hasattr(res, k)}
                if hasattr(res, "records_at_risk"):
                    scen["measures"]["sample_risks"]["records_at_risk"] = {
                        str(k): float(v) for k, v in dict(res.records_at_risk).items()}

    def diversity(self, scen, qis):
        cfg = self.cfg
        sens = [s.name for s in cfg.sensitive if s.name not in qis]
        if not sens:
            return
        ld = _peer("idrisk.metrics.l_diversity", "l_diversity")
        if ld is None:
            scen["not_computed"]["l_diversity"] = "the l-diversity module (idrisk.metrics.l_diversity) is not in this build"
        else:
            res = self._call("l_diversity", scen, ld, self.frame, qis, sens, missing=cfg.missing)
            if res is not None:
                out = {}
                pr = res.per_record
                for s in sens:
                    dcol = pr[f"{s}_distinct"].to_numpy(dtype=np.float64)
                    ecol = pr[f"{s}_entropy"].to_numpy(dtype=np.float64)
                    out[s] = {"min_distinct_l": int(np.nanmin(dcol)), "min_entropy_l": float(np.nanmin(ecol)),
                              "records_in_homogeneous_classes": int((dcol == 1).sum())}
                scen["measures"]["l_diversity"] = out
        tc = _peer("idrisk.metrics.t_closeness", "t_closeness")
        if tc is None:
            scen["not_computed"]["t_closeness"] = "the t-closeness module (idrisk.metrics.t_closeness) is not in this build"
        else:
            out = {}
            for s in sens:
                res = self._call("t_closeness", scen, tc, self.frame, qis, s, missing=cfg.missing)
                if res is not None:
                    out[s] = {"max_t": float(res.t)}
            if out:
                scen["measures"]["t_closeness"] = out

    def suda(self, scen, qis):
        cfg = self.cfg
        fn = _peer("idrisk.metrics.suda", "suda")
        if fn is None:
            scen["not_computed"]["suda"] = "the SUDA module (idrisk.metrics.suda) is not in this build"
            return
        res = self._call("suda", scen, fn, self.frame, qis, max_msu_size=cfg.max_msu_size)
        if res is None:
            return
        sc = res.scores
        m = sc["min_msu_size"].to_numpy(dtype=np.float64)
        score = sc["score"].to_numpy(dtype=np.float64)
        dis = sc["dis_score"].to_numpy(dtype=np.float64)
        special = np.isfinite(m) & (m >= 1)
        contrib = {str(k): float(v) for k, v in dict(res.attribute_contributions).items()}
        pos = score[score > 0]
        scen["measures"]["suda"] = {
            "max_msu_size": cfg.max_msu_size,
            "records_with_msu": int(special.sum()),
            "special_uniques_small_msu": int((special & (m <= cfg.thresholds.special_unique_msu_size)).sum()),
            "max_dis_score": float(np.nanmax(dis)) if len(dis) else 0.0,
            "max_score": float(np.nanmax(score)) if len(score) else 0.0,
            "score_histogram": _hist(pos, np.linspace(0, float(pos.max()), 11)) if len(pos) else [],
            "attribute_contributions": dict(sorted(contrib.items(), key=lambda kv: -kv[1])),
        }

    def sweep(self, scen, qis):
        cfg = self.cfg
        fn = _peer("idrisk.metrics.combinations", "combination_sweep")
        if fn is None:
            scen["not_computed"]["combination_sweep"] = ("the combination sweep (idrisk.metrics.combinations) is "
                                                         "not in this build")
            return
        ks = tuple(sorted(set(cfg.k_values) | {cfg.thresholds.min_k}))
        df = self._call("combination_sweep", scen, fn, self.frame, qis, max_size=cfg.sweep_max_size, k=ks)
        if df is None:
            return
        rows = []
        for rec in df.to_dict("records"):
            sub = rec.get("quasi_identifiers", rec.get("subset"))
            sub = list(sub) if isinstance(sub, (list, tuple)) else [s for s in str(sub).split(",")]
            row = {"subset": [str(s) for s in sub], "size": int(rec.get("size", len(sub)))}
            for key, val in rec.items():
                if key in ("subset", "size", "quasi_identifiers"):
                    continue
                if isinstance(val, (np.integer, int)):
                    row[str(key)] = int(val)
                elif isinstance(val, (np.floating, float)):
                    row[str(key)] = float(val)
            rows.append(row)
        scen["measures"]["combination_sweep"] = rows

    def intruder(self, scen, qis):
        mod = None
        try:
            mod = importlib.import_module("idrisk.intruder")
        except ImportError:
            pass
        if mod is None or not hasattr(mod, "simulate_intruder"):
            scen["not_computed"]["intruder"] = "the intruder simulation (idrisk.intruder) is not in this build"
            return
        from .intruder_bridge import run_intruder

        pi = 1.0 if self.population_size is None else min(1.0, self.n / self.population_size)
        res = self._call("intruder", scen, run_intruder, mod, self.frame, scen, qis, self.cfg, pi)
        if res is not None:
            scen["measures"]["intruder"] = res


def _resolve(data_or_config, options) -> tuple[AssessmentConfig, pd.DataFrame | None, object]:
    """(config, frame or None, extract-like object or None)."""
    cfg = None
    frame = None
    extract = None
    opts = dict(options)
    qis = opts.pop("quasi_identifiers", None)
    if isinstance(data_or_config, AssessmentConfig):
        cfg = data_or_config
    elif isinstance(data_or_config, (str, Path)):
        p = Path(data_or_config)
        if p.suffix.lower() == ".toml":
            cfg = load_config(p)
        else:
            frame = read_extract(p)
            opts.setdefault("data", str(p))
            opts.setdefault("name", p.name)
    elif hasattr(data_or_config, "data") and hasattr(data_or_config, "quasi_identifiers"):
        extract = data_or_config
        frame = as_frame(extract.data)
    else:
        frame = as_frame(data_or_config)
    if cfg is None:
        scen = opts.pop("scenarios", None)
        if scen is None:
            if qis is None and extract is not None:
                qis = list(extract.quasi_identifiers)
            if qis is None:
                raise InvalidParameterError("give quasi_identifiers=[...] (or scenarios=[...]) for the assessment")
            qis = [qis] if isinstance(qis, str) else list(qis)
            scen = [Scenario(name="main", quasi_identifiers=qis)]
        if extract is not None:
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
        known = set(AssessmentConfig.__dataclass_fields__)
        bad = sorted(set(opts) - known - {"progress"})
        if bad:
            raise InvalidParameterError(f"unknown option(s) for assess: {', '.join(bad)}")
        opts.pop("progress", None)
        cfg = AssessmentConfig(scenarios=scen, **opts)
    else:
        over = {k: v for k, v in opts.items() if k != "progress"}
        if qis is not None:
            over["scenarios"] = [Scenario(name="main", quasi_identifiers=[qis] if isinstance(qis, str) else list(qis))]
        if over:
            bad = sorted(set(over) - set(AssessmentConfig.__dataclass_fields__))
            if bad:
                raise InvalidParameterError(f"unknown option(s) for assess: {', '.join(bad)}")
            cfg = replace(cfg, **over)
    return cfg, frame, extract


def assess(data_or_config, **options) -> AssessmentResult:
    """Assess an extract: every measure on every scenario, indicators, score and route.

    Parameters
    ----------
    data_or_config : DataFrame, path, AssessmentConfig, or idrisk.datasets.Extract
        A frame (not modified), an extract file (CSV, Parquet, .dta, .sav), a TOML config
        path, a config object, or an ``Extract`` (its roles and tiers are used).
    **options
        Any :class:`AssessmentConfig` field (``quasi_identifiers=[...]`` is a shortcut for one
        scenario), and ``progress`` (True/False; default: a bar only on a terminal).

    Returns
    -------
    AssessmentResult
        ``to_json()``, ``to_html(path)``, ``summary()``, ``check(policy)``.

    Notes
    -----
    Measures (each documented in its own module, with the peer it matches): k-anonymity and
    sample uniques (sdcMicro freqCalc / ARX), individual risk (census: ``1/fk``; sample:
    Benedetti-Franconi as sdcMicro measure_risk), population uniqueness (ARX), l-diversity
    and t-closeness (sdcMicro ldiversity / ARX), SUDA2 and DIS-SUDA (sdcMicro suda2), the
    QI-combination sweep, the simulated intruder, and what-if coarsenings
    (:mod:`idrisk.mitigation`). A measure whose module is absent or which fails on the data is
    listed under ``not_computed`` with the reason; its indicator then does not hold.

    One missing-value convention (``missing``, default ``"category"``) is used for every
    measure, so k, l and the individual risk describe the same classes; set
    ``missing="wildcard"`` to reproduce sdcMicro ``measure_risk`` exactly when keys have
    missing values (sdcMicro's only convention).

    Examples
    --------
    >>> import pandas as pd, idrisk
    >>> df = pd.DataFrame({"sex": ["F"] * 12 + ["M"] * 12, "yob": [2010, 2011] * 12})
    >>> res = idrisk.assess(df, quasi_identifiers=["sex", "yob"], progress=False)
    >>> res.scenarios[0]["measures"]["k_anonymity"]["min_class_size"]
    6
    >>> res.route["recommended"]  # classes of 6 < 10, but dropping one variable removes the risk
    'refer back'
    """
    progress = options.get("progress")
    cfg, frame, extract = _resolve(data_or_config, options)
    if frame is None:
        path = cfg.data_path()
        if path is None:
            raise InvalidParameterError("the config names no extract: set [extract] path, or pass a DataFrame")
        frame = read_extract(path)
    if cfg.data is not None and cfg.data_path() is not None and cfg.data_path().is_file():
        fp, fp_of = fingerprint_file(cfg.data_path()), "file"
    else:
        fp, fp_of = fingerprint_frame(frame), "frame"

    # direct identifiers: drop the declared ones, flag look-alikes (names only, never values)
    missing_direct = [c for c in cfg.direct_identifiers if c not in frame.columns]
    if missing_direct:
        raise DataValidationError(f"direct identifier column(s) not found in the data: {', '.join(missing_direct)}")
    needed = {"quasi-identifier": cfg.all_quasi_identifiers, "sensitive": [s.name for s in cfg.sensitive]}
    if isinstance(cfg.weights, str):
        needed["weight"] = [cfg.weights]
    problems = [f"{role} column(s) not found in the data: {', '.join(map(str, miss))}"
                for role, cols in needed.items() if (miss := [c for c in cols if c not in frame.columns])]
    clash = sorted(set(cfg.direct_identifiers) & (set(cfg.all_quasi_identifiers) | set(needed["sensitive"])))
    if clash:
        problems.append(f"column(s) declared both direct identifier and quasi-identifier/sensitive: {', '.join(clash)}")
    if problems:
        raise DataValidationError("; ".join(problems))
    work = frame.drop(columns=list(cfg.direct_identifiers)) if cfg.direct_identifiers else frame
    suspects = [str(c) for c in work.columns if _DIRECT.match(_norm(c))]
    if suspects:
        warnings.warn(f"column(s) that look like direct identifiers are still in the extract: {', '.join(suspects)}; "
                      "declare them as direct_identifiers to drop them", IdentifierWarning, stacklevel=2)
    small_area = [str(c) for c in work.columns if _SMALL_AREA.search(_norm(c))]
    flags = dict(cfg.flags)
    if small_area:
        flags["small_area_geography"] = True
    col_tiers = {c: t for c, t in cfg.tiers.items() if c in work.columns}
    col_tiers.update({s.name: s.tier for s in cfg.sensitive if s.tier is not None})
    content = {"direct_identifiers_present": suspects,
               "highest_tier": min(col_tiers.values()) if col_tiers else None,
               "tier_1_2_columns": sorted(c for c, t in col_tiers.items() if t <= 2),
               "flags": flags, "census": cfg.is_census, "small_area_columns": small_area}

    if progress is None:
        progress = sys.stderr.isatty()
    runner = _Runner(cfg, work, progress)
    t_start = time.perf_counter()
    cols = list(dict.fromkeys(cfg.all_quasi_identifiers))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runner.enc = encode(work, cols)
    for w in caught:
        runner.warnings.append(f"encoding: {w.category.__name__}: {str(w.message).splitlines()[0]}")

    from tqdm.auto import tqdm

    steps = ["frequencies", "risk", "diversity", "suda", "sweep", "intruder"]
    bar = tqdm(total=len(cfg.scenarios) * len(steps), desc="assessing", unit="step", disable=not progress,
               file=sys.stderr, leave=False)
    scen_out = []
    try:
        for s in cfg.scenarios:
            qis = list(s.quasi_identifiers)
            sd = {"name": s.name, "quasi_identifiers": qis, "public": s.public, "intruder_preset": s.intruder,
                  "measures": {}, "not_computed": {}}
            bar.set_postfix_str(f"{s.name}: frequencies")
            fk = runner.frequency(sd, qis)
            bar.update()
            for step in steps[1:]:
                bar.set_postfix_str(f"{s.name}: {step}")
                if step == "risk":
                    runner.risk(sd, qis, fk)
                else:
                    getattr(runner, step)(sd, qis)
                bar.update()
            scen_out.append(sd)
    finally:
        bar.close()

    # mitigations on the riskiest public scenario
    mitig = {"scenario": None, "drivers": [], "before": None, "candidates": []}
    public = [s for s in scen_out if s["public"] and "k_anonymity" in s["measures"]]
    if cfg.mitigations and public:
        from ..mitigation import what_if

        min_k = cfg.thresholds.min_k
        worst = max(public, key=lambda s: (s["measures"]["k_anonymity"]["records_below_k"][str(min_k)],
                                           -scen_out.index(s)))
        contrib = worst["measures"].get("suda", {}).get("attribute_contributions")
        drivers = [q for q, _ in sorted(contrib.items(), key=lambda kv: -kv[1])] if contrib else None
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # data-quality warnings were already collected above
            warnings.simplefilter("ignore", IdRiskWarning)
            wi = what_if(work, worst["quasi_identifiers"], min_k=min_k, missing=cfg.missing,
                         geography=cfg.geography, groupings=cfg.groupings, drivers=drivers)
        runner.timings["mitigations"] = time.perf_counter() - t0
        mitig = {"scenario": worst["name"], "drivers": drivers or list(worst["quasi_identifiers"]),
                 "drivers_from": "SUDA attribute contributions" if drivers else "every quasi-identifier",
                 "min_k": min_k, **wi}

    indicators = build_indicators(cfg, content, scen_out)
    score, route = score_and_route(cfg, indicators, mitig["candidates"])
    meta = {
        "idrisk_version": __version__,
        "name": cfg.name,
        "input": None if cfg.data is None else Path(cfg.data).name,
        "fingerprint_sha256": fp,
        "fingerprint_of": fp_of,
        "n_records": int(len(work)),
        "n_columns": int(frame.shape[1]),
        "direct_identifiers_dropped": list(cfg.direct_identifiers),
        "census": cfg.is_census,
        "sampling_fraction": 1.0 if runner.population_size is None else len(work) / runner.population_size,
    }
    result = AssessmentResult(meta=meta, config=cfg.to_dict(), content=content, scenarios=scen_out,
                              indicators=indicators, score=score, route=route, mitigations=mitig,
                              warnings=runner.warnings)
    result.timings = dict(runner.timings, total=time.perf_counter() - t_start)
    return result
