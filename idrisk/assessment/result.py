"""The result of an assessment: typed parts, JSON round trip, summary, policy check.

Every part is a frozen dataclass (:mod:`idrisk._results`); the JSON is the one ``to_dict``
rule over them, with floats rounded to 12 significant digits, and
:meth:`AssessmentResult.from_dict` validates a JSON document against the schema made from
the same types (:mod:`idrisk.assessment.schema`) before it rebuilds them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from .._results import Result
from .._validation import output_path
from ..exceptions import InvalidParameterError, RiskThresholdExceeded
from ._jsonschema import build_schema, validate
from ._typed import ItemAccess, Share, from_plain, rounded
from .columns import ColumnInfo
from .indicators import EFFECT_REPORTED, Indicator, Route, Score
from .mitigation import Mitigations
from .summaries import Measures

__all__ = ["AssessmentResult", "Meta", "Engine", "Content", "Assumption", "ScenarioResult", "ROUTES", "SCHEMA_VERSION"]

ROUTES = ("open", "safeguarded", "controlled", "refer back")
_ORDER = {"open": 0, "safeguarded": 1, "controlled": 2, "refer back": 3}
SCHEMA_VERSION = "2.0"


@dataclass(frozen=True)
class Engine(ItemAccess, Result):
    """Where the figures were computed: ``"pandas"`` (on one machine) or ``"spark"`` (the
    classes counted on Spark, finished on the driver), and every part that ran on records
    collected to the driver, with what was collected (names and counts, never a value)."""

    name: Literal["pandas", "spark"] = "pandas"
    collected_to_driver: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Meta(ItemAccess, Result):
    """Provenance: idrisk version, input name, SHA-256 fingerprint, records, census or sample."""

    idrisk_version: str
    name: str
    input: str | None
    fingerprint_sha256: Annotated[str, {"pattern": "^[0-9a-f]{64}$"}]
    fingerprint_of: Literal["file", "frame", "table"]
    n_records: Annotated[int, {"minimum": 1}]
    n_columns: Annotated[int, {"minimum": 1}]
    direct_identifiers_dropped: list[str]
    census: bool
    sampling_fraction: Share
    engine: Engine = field(default_factory=Engine)


@dataclass(frozen=True)
class Content(ItemAccess, Result):
    """What the extract contains: direct identifiers found (names), tiers, declared flags."""

    direct_identifiers_present: list[str]
    highest_tier: Annotated[int | None, {"minimum": 1, "maximum": 4}]
    tier_1_2_columns: list[str]
    flags: dict[str, bool]
    census: bool
    small_area_columns: list[str]
    sensitive_without_tier: list[str]


@dataclass(frozen=True)
class Assumption(ItemAccess, Result):
    """One assumption the figures rest on: its value, whether the assessor declared it, and
    what it does to the figures."""

    id: Literal["census", "population_size", "response_knowledge"]
    value: bool | float | None
    declared: bool
    effect: str


@dataclass(frozen=True)
class ScenarioResult(ItemAccess, Result):
    """One attack scenario: its key, the measures computed and why any was not."""

    name: str
    quasi_identifiers: list[str]
    public: bool
    intruder_preset: str | None
    measures: Measures
    not_computed: dict[str, str]
    refined: dict[str, str]


@dataclass(frozen=True)
class AssessmentResult(ItemAccess, Result):
    """Everything an assessment found. Contains no record-level values (aggregates only).

    Attributes
    ----------
    meta : Meta
        idrisk version, input name, SHA-256 fingerprint, record count, census flag.
    config : dict
        The configuration that produced it (``AssessmentConfig.to_dict()``; read it back
        with :func:`idrisk.assessment.config_from_dict`).
    columns : list of ColumnInfo
        Every column of the extract: role, tier (and where it comes from), special category,
        distinct values, whether it is removed, and flags (names and counts only).
    assumptions : list of Assumption
        Census or sample, population size, the intruder's knowledge that the person is in
        the file: each with ``declared`` (False: the cautious default was used).
    content : Content
        Content flags: direct identifiers found (names), highest tier, declared flags.
    route : Route
        ``recommended`` (open / safeguarded / controlled / refer back), ``underlying`` and
        ``reasons`` (verdict first).
    score : Score
        Sensitivity score: content flags and safeguarded conditions that do not hold.
    indicators : list of Indicator
        Value, threshold, operator, holds, basis (law / guidance / idrisk default), effect.
    scenarios : list of ScenarioResult
        Per scenario: key, typed measures, and ``not_computed`` (measure -> reason).
    mitigations : Mitigations
        What-if coarsenings on the riskiest scenario, ranked.
    warnings : list of str
    timings : dict
        Wall time of each step in seconds (not part of the JSON: it differs between runs).
    """

    meta: Meta
    config: Annotated[dict, {"required": ["scenarios", "thresholds", "seed"]}]
    columns: list[ColumnInfo]
    assumptions: list[Assumption]
    content: Content
    route: Route
    score: Score
    indicators: list[Indicator]
    scenarios: list[ScenarioResult]
    mitigations: Mitigations
    warnings: list[str] = field(default_factory=list)
    schema_version: Literal["2.0"] = SCHEMA_VERSION

    # -- serialisation ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON form: the one ``to_dict`` rule, floats rounded to 12 significant digits."""
        return rounded(super().to_dict())

    @property
    def timings(self) -> dict:
        return dict(getattr(self, "_timings", {}))

    def with_timings(self, timings: dict) -> "AssessmentResult":
        """Attach the wall times of the steps (kept out of the JSON and of equality)."""
        object.__setattr__(self, "_timings", dict(timings))
        return self

    def to_json(self, path=None, *, overwrite: bool = False, indent: int = 2) -> str:
        """JSON text (sorted keys, no timestamps: same inputs and seed give identical bytes).

        Written to ``path`` too when given; an existing file is replaced only with
        ``overwrite=True``.
        """
        text = json.dumps(self.to_dict(), indent=indent, sort_keys=True, ensure_ascii=False,
                          allow_nan=False) + "\n"
        if path is not None:
            output_path(path, overwrite=overwrite).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, d: dict) -> "AssessmentResult":
        """The result of a JSON document, validated against the schema first."""
        from .config_io import config_from_dict

        validate(d, build_schema(AssessmentResult))
        try:  # the configuration it ran with must be one assess accepts (the report reads it)
            config_from_dict(d["config"])
        except InvalidParameterError as exc:
            raise InvalidParameterError("the result's config is not a valid configuration: "
                                        + "; ".join(str(exc).splitlines())) from None
        return from_plain(cls, d)

    @classmethod
    def from_json(cls, path) -> "AssessmentResult":
        p = Path(path)
        if p.is_dir():
            raise InvalidParameterError(f"{p} is a directory, not a JSON assessment result")
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidParameterError(f"result file not found: {p}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidParameterError(f"{p} is not a JSON assessment result: {exc}") from None
        return cls.from_dict(d)

    def to_html(self, path, *, overwrite: bool = False, instead: dict | None = None) -> Path:
        """Write the board report (one self-contained HTML file); see :mod:`idrisk.report`.
        ``instead``: the plain dict of :func:`idrisk.anonymise.instead.alternative`, shown as
        "what the requester could have instead" and named by the verdict."""
        from ..report.render import write_report

        return write_report(self, path, overwrite=overwrite, instead=instead)

    # -- reading ----------------------------------------------------------------------------------
    @property
    def breaches(self) -> list[Indicator]:
        """Indicators that bear on the route and do not hold (breached or not assessed)."""
        return [i for i in self.indicators if i.effect != EFFECT_REPORTED and i.holds is not True]

    @property
    def passed(self) -> bool:
        return not self.breaches

    def summary(self) -> str:
        """A plain-text summary: verdict, reasons, then the indicators."""
        r, sc = self.route, self.score
        census = next((a for a in self.assumptions if a.id == "census"), None)
        kind = ("census" if self.meta.census else "sample") + (
            "" if census is None or census.declared else ", assumed: not declared")
        lines = [f"idrisk assessment of {self.meta.name} ({self.meta.n_records:,} records, {kind})",
                 f"Recommended route: {r.recommended.upper()}"
                 + (f" (underlying: {r.underlying})" if r.underlying != r.recommended else ""),
                 f"Sensitivity score: {sc.score} ({sc.content_flags_raised} content flags, "
                 f"{sc.conditions_breached} conditions breached, "
                 f"{sc.conditions_not_assessed} not assessed)", "", "Reasons:"]
        lines += [f"  - {x}" for x in r.reasons]
        flagged = [c for c in self.columns if c.flags and c.role != "direct identifier" or c.name in
                   self.content.direct_identifiers_present]
        if flagged:
            lines += ["", "Columns flagged:"]
            lines += [f"  - {c.name} ({c.role}): {'; '.join(c.flags)}" for c in flagged]
        lines += ["", "Assumptions:"]
        lines += [f"  - {a.id} = {a.value} ({'declared' if a.declared else 'ASSUMED, not declared'}): {a.effect}"
                  for a in self.assumptions]
        lines += ["", "Indicators:"]
        for i in self.indicators:
            mark = {True: "holds", False: "BREACHED", None: "not assessed"}[i.holds]
            if i.effect == EFFECT_REPORTED:
                mark = "reported" if i.holds is not False else "flag"
            v = f"{i.value:.4g}" if isinstance(i.value, float) else i.value
            lines.append(f"  [{mark:>12}] {i.label}: {v} (threshold {i.operator} {i.threshold}; {i.basis})")
        m = self.mitigations
        if m.candidates:
            lines += ["", f"Best mitigations on [{m.scenario}] (records with fk < {m.min_k}: "
                          f"{m.before.at_risk:,}):"]
            for c in m.candidates[:5]:
                lines.append(f"  {c.rank}. {c.description}: at risk {c.at_risk:,} "
                             f"({c.risk_removed_share:.0%} removed, {c.information_lost:.0%} information lost)")
        nc = [(s.name, k, v) for s in self.scenarios for k, v in s.not_computed.items()]
        if nc:
            lines += ["", "Not computed:"] + [f"  [{s}] {k}: {v}" for s, k, v in nc]
        return "\n".join(lines)

    def check(self, policy="safeguarded") -> "AssessmentResult":
        """Raise :class:`~idrisk.exceptions.RiskThresholdExceeded` unless the extract meets ``policy``.

        Parameters
        ----------
        policy : str or dict, default "safeguarded"
            A route name: the recommended route must be no more restrictive than it
            (``"controlled"`` accepts every route but "refer back"; ``"open"`` is never met by
            record-level data; docs/methods.md#routes). Or a dict of threshold overrides
            (e.g. ``{"min_k": 5}``): every safeguarded condition and content flag must hold
            with those thresholds, compared as the indicators compare them.

        Returns
        -------
        self, so ``idrisk.assess(df, ...).check()`` reads well in a pipeline.
        """
        if isinstance(policy, str):
            if policy not in _ORDER:
                raise InvalidParameterError(f"policy must be one of {', '.join(ROUTES)} or a dict of thresholds, "
                                            f"got {policy!r}")
            rec = self.route.recommended
            if policy == "open" or _ORDER[rec] > _ORDER[policy]:
                raise RiskThresholdExceeded(
                    f"the extract needs a {rec} route, stricter than the policy {policy!r}: "
                    + ("; ".join(self.route.reasons[:3])), breaches=self.breaches)
            return self
        if isinstance(policy, dict):
            from .config import thresholds_from_dict

            th = thresholds_from_dict({**self.config["thresholds"], **policy})
            br = [i for i in self.indicators if i.effect != EFFECT_REPORTED and i.holds_under(th) is not True]
            if br:
                raise RiskThresholdExceeded(f"{len(br)} indicator(s) do not hold: "
                                            + "; ".join(i.label for i in br[:5]), breaches=br)
            return self
        raise InvalidParameterError(f"policy must be a route name or a dict of thresholds, got {policy!r}")
