"""Every measure of one assessment scenario, each summarised by its typed summary.

The measures (docs/methods.md#assessment) are called through their public functions. A
measure that fails on the data is recorded under ``not_computed`` with its one-line
reason and its indicator then does not hold; an ``ImportError`` is never recorded: a
broken installation must fail loudly, not read "not computed" in a board report.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
import pandas as pd

from .._results import to_plain
from .._validation import check_weights
from ..exceptions import DataValidationError, IdRiskError, IdRiskWarning, InvalidWeightsError
from ..metrics import (combination_sweep, frequency_arrays, individual_risk, k_anonymity, l_diversity,
                       population_uniqueness, sample_risks, suda, t_closeness)
from .intruder_bridge import run_intruder
from .result import ScenarioResult
from .summaries import (DiversitySummary, HistogramBin, IndividualRiskSummary, KAnonymitySummary,
                        PopulationUniquenessSummary, SampleRisksSummary, SudaSummary, TClosenessSummary)

__all__ = ["Runner", "STEPS", "warning_text", "suda_summary", "diversity_missing", "DIVERSITY_SENSITIVE_NA"]

#: the warnings of an assessment are logged here as they happen (silent unless a handler is set)
_LOG = logging.getLogger("idrisk")
_LOG.addHandler(logging.NullHandler())

#: the steps of a scenario, in order (one progress tick each)
STEPS = ("frequencies", "risk", "diversity", "suda", "sweep", "intruder")


def _failure(exc: BaseException, columns) -> str:
    """Why a measure failed, in words safe to publish (the JSON, the report, stdout).

    idrisk's own errors name columns, types and counts, never a value, and are kept (first
    line). Any other exception's text can hold a record value (``could not convert string to
    float: '...'``), so only its type and the columns are given.
    """
    if isinstance(exc, IdRiskError):
        msg = str(exc).strip().splitlines()
        return f"{type(exc).__name__}: {msg[0]}" if msg else type(exc).__name__
    return f"{type(exc).__name__} on column(s) {', '.join(map(str, columns))}"


def warning_text(category, message, filename: str) -> str:
    """A caught warning, safe to publish: idrisk's own text; another library's category only."""
    if issubclass(category, IdRiskWarning):
        return f"{category.__name__}: {str(message).splitlines()[0] if str(message) else ''}"
    return f"{category.__name__} (from {str(filename).rsplit('/', 1)[-1]}; its text is not recorded)"


def _hist(values: np.ndarray, edges) -> list[HistogramBin]:
    counts, e = np.histogram(values, bins=edges)
    return [HistogramBin(low=float(e[i]), high=float(e[i + 1]), count=int(c)) for i, c in enumerate(counts)]


def suda_summary(cfg, m, score, dis, contributions, n_zero: int = 0) -> SudaSummary:
    """The :class:`SudaSummary` of the records' minimal MSU sizes ``m``, SUDA and DIS scores,
    and ``n_zero`` more records that score 0 with no MSU (a Spark table's non-uniques)."""
    if n_zero:
        score, dis = np.append(score, 0.0), np.append(dis, 0.0)
    special = np.isfinite(m) & (m >= 1)
    contrib = {str(k): float(v) for k, v in dict(contributions).items()}
    pos = score[score > 0]
    return SudaSummary(
        max_msu_size=cfg.max_msu_size, records_with_msu=int(special.sum()),
        special_uniques_small_msu=int((special & (m <= cfg.thresholds.special_unique_msu_size)).sum()),
        max_dis_score=float(np.nanmax(dis)) if len(dis) else 0.0,
        max_score=float(np.nanmax(score)) if len(score) else 0.0,
        score_histogram=_hist(pos, np.linspace(0, float(pos.max()), 11)) if len(pos) else [],
        attribute_contributions=dict(sorted(contrib.items(), key=lambda kv: -kv[1])))


class _Scenario:
    """A scenario while it is measured: its measures and why any was not computed."""

    def __init__(self, s, refined=None):
        self.spec = s
        self.refined = {q: c for q, c in (refined or {}).items() if c in s.quasi_identifiers}
        self.name = s.name
        self.qis = list(s.quasi_identifiers)
        self.measures: dict = {}
        self.not_computed: dict = {}
        self.fk = None

    def result(self) -> ScenarioResult:
        return ScenarioResult(name=self.name, quasi_identifiers=self.qis, public=self.spec.public,
                              intruder_preset=self.spec.intruder, measures=self.measures,
                              not_computed=self.not_computed, refined=self.refined)


#: a missing sensitive value is one value in the assessment's l-diversity (a class of pupils with
#: no SEN need recorded is homogeneous, not diverse: the cautious reading, docs/methods.md#assessment)
DIVERSITY_SENSITIVE_NA = "category"


def diversity_missing(missing: str) -> str:
    """The key-missing rule of the assessment's l-diversity and t-closeness: classes as sdcMicro's
    ldiversity groups them, so under the wildcard rule a missing key value is one more category
    (a record with blank key cells, as suppression leaves it, is not spread over every class)."""
    return "category" if missing == "wildcard" else missing


class Runner:
    """Runs the measures of every scenario on one (encoded) extract."""

    def __init__(self, cfg, frame: pd.DataFrame, enc, profile, refined=None):
        self.cfg = cfg
        self.refined = dict(refined or {})
        self.frame = frame
        self.enc = enc
        self.profile = profile
        self.n = len(frame)
        self.timings: dict = {}
        self.warnings: list[str] = []
        w = None
        if cfg.weights is not None:
            w = check_weights(frame, cfg.weights)
            if w.sum() < self.n:  # the population would be smaller than the sample
                raise InvalidWeightsError(
                    f"weight column {cfg.weights!r}: the weights add up to {w.sum():.6g}, fewer than the {self.n} "
                    "records, so the sampling fraction n / sum(weights) would exceed 1; a weight is the number "
                    "of population units a record stands for (at least 1 on average)")
        elif cfg.population_size is not None:
            if cfg.population_size < self.n:
                raise DataValidationError(
                    f"population_size {cfg.population_size} is smaller than the extract ({self.n} records)")
            w = np.full(self.n, cfg.population_size / self.n)
        self.weights = w
        self.population_size = (None if w is None else
                                (cfg.population_size if cfg.population_size is not None else float(w.sum())))

    @property
    def sampling_fraction(self) -> float:
        return 1.0 if self.population_size is None else self.n / self.population_size

    def scenario(self, s, bar=None) -> ScenarioResult:
        """Every measure of scenario ``s``, each step shown on the progress ``bar`` (tqdm)."""
        sc = _Scenario(s, self.refined)
        for step in STEPS:
            if bar is not None:
                bar.set_postfix_str(f"{sc.name}: {step}")
            getattr(self, f"_{step}")(sc)
            if bar is not None:
                bar.update()
        return sc.result()

    def record_warning(self, category, message, filename: str, where: str, *, log: bool = True) -> None:
        """Keep a warning for the result and log it at once (the ``idrisk`` logger: the command
        line shows it on stderr before a long step runs, not only in the JSON); ``log=False``
        for a warning already issued as a Python warning."""
        if issubclass(category, (IdRiskWarning, UserWarning)):
            msg = f"{where}: {warning_text(category, message, filename)}"
            if msg not in self.warnings:
                self.warnings.append(msg)
                if log:
                    _LOG.warning(msg)

    def _call(self, measure: str, sc: _Scenario, fn, *args, **kwargs):
        t0 = time.perf_counter()

        def show(message, category, filename, lineno, file=None, line=None):
            self.record_warning(category, message, filename, f"[{sc.name}] {measure}")

        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = show
            try:
                return fn(*args, **kwargs)
            except ImportError:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded, shown in the report, indicator fails
                sc.not_computed[measure] = _failure(exc, self._columns_of(sc, args))
                return None
            finally:
                self.timings[f"{sc.name}/{measure}"] = time.perf_counter() - t0

    def _columns_of(self, sc: _Scenario, args) -> list:
        """The scenario's key and any other column of the data a measure was called on."""
        cols = list(sc.qis)
        for a in args[2:]:
            for c in ([a] if isinstance(a, str) else a if isinstance(a, list) else []):
                if isinstance(c, str) and c in self.frame.columns and c not in cols:
                    cols.append(c)
        return cols

    # -- measures -----------------------------------------------------------------------------
    def _frequencies(self, sc: _Scenario):
        cfg = self.cfg
        min_k = cfg.thresholds.min_k
        fk, _ = frequency_arrays(self.enc, sc.qis, missing=cfg.missing)
        sc.fk = np.asarray(fk)
        res = self._call("k_anonymity", sc, k_anonymity, self.frame, sc.qis, k=cfg.k_values, missing=cfg.missing)
        if res is None:
            return
        below = {int(k): int(v) for k, v in dict(res.records_below_k).items()}
        below.setdefault(min_k, int((sc.fk < min_k).sum()))
        sc.measures["k_anonymity"] = KAnonymitySummary(
            min_class_size=int(res.min_class_size), n_classes=int(res.n_classes),
            records_below_k=dict(sorted(below.items())), n1=int(res.n1), n2=int(res.n2),
            class_size_histogram={int(k): int(v) for k, v in dict(res.class_size_histogram).items()},
            computed_by="idrisk.k_anonymity", sample_unique_share=int(res.n1) / self.n)

    def _risk(self, sc: _Scenario):
        if self.weights is None:
            r = 1.0 / sc.fk.astype(np.float64)
            sc.measures["individual_risk"] = self._risk_summary(r, "census: prosecutor risk 1/fk (pi = 1)",
                                                                "idrisk.frequencies")
        else:
            res = self._call("individual_risk", sc, individual_risk, self.frame, sc.qis, weights=self.weights,
                             missing=self.cfg.missing)
            if res is not None:
                sc.measures["individual_risk"] = self._risk_summary(
                    res["risk"].to_numpy(dtype=np.float64),
                    "sample: Benedetti-Franconi individual risk (sdcMicro measure_risk)", "idrisk.individual_risk")
            if self.population_size is not None:
                res = self._call("population_uniqueness", sc, population_uniqueness, self.frame, sc.qis,
                                 population_size=int(round(self.population_size)))
                if res is not None:
                    sc.measures["population_uniqueness"] = PopulationUniquenessSummary(
                        zayatz=res.zayatz, pitman=res.pitman, snb=res.snb, dankar=res.dankar,
                        dankar_model=res.dankar_model, sampling_fraction=res.sampling_fraction,
                        reasons=dict(res.reasons))
        res = self._call("sample_risks", sc, sample_risks, self.frame, sc.qis)
        if res is not None:
            sc.measures["sample_risks"] = SampleRisksSummary(
                average_risk=res.average_risk, highest_risk=res.highest_risk, lowest_risk=res.lowest_risk,
                records_at_risk={float(k): float(v) for k, v in dict(res.records_at_risk).items()})

    def _risk_summary(self, r: np.ndarray, model: str, computed_by: str) -> IndividualRiskSummary:
        return IndividualRiskSummary(
            model=model, max_risk=float(np.nanmax(r)), mean_risk=float(np.nanmean(r)),
            records_above_threshold=int((r > self.cfg.thresholds.max_individual_risk).sum()),
            expected_reidentifications=float(np.nansum(r)), global_risk=float(np.nanmean(r)),
            computed_by=computed_by)

    def _diversity(self, sc: _Scenario):
        cfg = self.cfg
        sens = [s.name for s in cfg.sensitive if s.name not in sc.qis]
        if not sens:
            return
        missing = diversity_missing(cfg.missing)
        res = self._call("l_diversity", sc, l_diversity, self.frame, sc.qis, sens, missing=missing,
                         sensitive_na=DIVERSITY_SENSITIVE_NA)
        if res is not None:
            out = {}
            for s in sens:
                dcol = res.per_record[f"{s}_distinct"].to_numpy(dtype=np.float64)
                ecol = res.per_record[f"{s}_entropy"].to_numpy(dtype=np.float64)
                n_values = max(1, int(self.frame[s].nunique(dropna=False)))
                low = int(np.nanmin(dcol))
                if not 1 <= low <= n_values:  # l counts values of the column: never outside [1, values]
                    sc.not_computed[f"l_diversity of {s}"] = (
                        f"distinct l {low} outside [1, {n_values}] (the column's number of values)")
                    continue
                homog = int((dcol == 1).sum())
                out[s] = DiversitySummary(min_distinct_l=low, min_entropy_l=float(np.nanmin(ecol)),
                                          records_in_homogeneous_classes=homog, homogeneous_share=homog / self.n,
                                          n_values=n_values)
            sc.measures["l_diversity"] = out
        out = {}
        for s in sens:
            res = self._call("t_closeness", sc, t_closeness, self.frame, sc.qis, s, missing=missing)
            if res is not None:
                out[s] = TClosenessSummary(max_t=float(res.t))
        if out:
            sc.measures["t_closeness"] = out

    def _suda(self, sc: _Scenario):
        cfg = self.cfg
        res = self._call("suda", sc, suda, self.frame, sc.qis, max_size=cfg.max_msu_size)
        if res is None:
            return
        scores = res.scores
        sc.measures["suda"] = suda_summary(
            cfg, scores["min_msu_size"].to_numpy(dtype=np.float64), scores["score"].to_numpy(dtype=np.float64),
            scores["dis_score"].to_numpy(dtype=np.float64), res.attribute_contributions)

    def _sweep(self, sc: _Scenario):
        cfg = self.cfg
        ks = tuple(sorted(set(cfg.k_values) | {cfg.thresholds.min_k}))
        df = self._call("combination_sweep", sc, combination_sweep, self.frame, sc.qis, max_size=cfg.sweep_max_size,
                        k=ks)
        if df is None:
            return
        rows = to_plain(df.rename(columns={"quasi_identifiers": "subset"}))
        for row in rows:
            row["subset"] = [str(q) for q in row["subset"]]
        sc.measures["combination_sweep"] = rows

    def _intruder(self, sc: _Scenario):
        cfg = self.cfg
        res = self._call("intruder", sc, run_intruder, self.frame, sc.name, sc.spec.intruder, sc.qis,
                         seed=cfg.seed, targets=cfg.intruder_targets, claim_confidence=cfg.thresholds.claim_confidence,
                         sampling_fraction=min(1.0, self.sampling_fraction), profile=self.profile,
                         runs=cfg.intruder_runs, memory_budget=cfg.intruder_memory_budget)
        if res is not None:
            sc.measures["intruder"] = res
            if res.dropped_variables:
                self.record_warning(IdRiskWarning, f"preset {sc.spec.intruder}: variable(s) the extract does not hold "
                                    f"(or holds constant) dropped: {', '.join(res.dropped_variables)}; the intruder "
                                    "knows the scenario's key", "", f"[{sc.name}] intruder")
