"""The result of an assessment: plain data, JSON round-trip, summary, policy check."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import InvalidParameterError, RiskThresholdExceeded

__all__ = ["AssessmentResult", "ROUTES"]

ROUTES = ("open", "safeguarded", "controlled", "refer back")
_ORDER = {"open": 0, "safeguarded": 1, "controlled": 2, "refer back": 3}
SCHEMA_VERSION = "1.0"


def _clean(obj):
    """JSON-safe plain Python with floats rounded to 12 significant digits (stable output)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        obj = obj.item()
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return float(f"{obj:.12g}")
    return obj


@dataclass
class AssessmentResult:
    """Everything an assessment found. Contains no record-level values (aggregates only).

    Attributes
    ----------
    meta : dict
        idrisk version, input name, SHA-256 fingerprint, record count, census flag.
    config : dict
        The configuration that produced it (``AssessmentConfig.to_dict()``).
    content : dict
        Content flags: direct identifiers found (names), highest tier, declared flags.
    scenarios : list of dict
        Per scenario: key, measures, and ``not_computed`` (measure -> reason).
    indicators : list of dict
        Value, threshold, operator, holds, basis (law / guidance / idrisk default), effect.
    score : dict
        Sensitivity score: content flags and safeguarded conditions that do not hold.
    route : dict
        ``recommended`` (open / safeguarded / controlled / refer back), ``underlying`` and
        ``reasons`` (verdict first).
    mitigations : dict
        What-if coarsenings on the riskiest scenario, ranked.
    """

    meta: dict
    config: dict
    content: dict
    scenarios: list
    indicators: list
    score: dict
    route: dict
    mitigations: dict
    warnings: list = field(default_factory=list)
    timings: dict = field(default_factory=dict, repr=False, compare=False)

    # -- serialisation ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return _clean({"schema_version": SCHEMA_VERSION, "meta": self.meta, "config": self.config,
                       "content": self.content, "route": self.route, "score": self.score,
                       "indicators": self.indicators, "scenarios": self.scenarios,
                       "mitigations": self.mitigations, "warnings": self.warnings})

    def to_json(self, path=None, *, overwrite: bool = False, indent: int = 2) -> str:
        """JSON text (sorted keys, no timestamps: same inputs and seed give identical bytes)."""
        text = json.dumps(self.to_dict(), indent=indent, sort_keys=True, ensure_ascii=False,
                          allow_nan=False) + "\n"
        if path is not None:
            p = Path(path)
            if p.exists() and not overwrite:
                raise FileExistsError(f"{p} exists; pass overwrite=True (CLI: --overwrite) to replace it")
            p.write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, d: dict) -> "AssessmentResult":
        from .schema import validate_result

        validate_result(d)
        return cls(meta=d["meta"], config=d["config"], content=d["content"], scenarios=d["scenarios"],
                   indicators=d["indicators"], score=d["score"], route=d["route"], mitigations=d["mitigations"],
                   warnings=d.get("warnings", []))

    @classmethod
    def from_json(cls, path) -> "AssessmentResult":
        p = Path(path)
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidParameterError(f"result file not found: {p}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidParameterError(f"{p} is not a JSON assessment result: {exc}") from None
        return cls.from_dict(d)

    def to_html(self, path, *, overwrite: bool = False) -> Path:
        """Write the board report (one self-contained HTML file)."""
        from ..report.render import write_report

        return write_report(self, path, overwrite=overwrite)

    # -- reading ----------------------------------------------------------------------------------
    @property
    def breaches(self) -> list[dict]:
        """Indicators that bear on the route and do not hold (breached or not assessed)."""
        return [i for i in self.indicators if i["effect"] != "reported" and i["holds"] is not True]

    @property
    def passed(self) -> bool:
        return not self.breaches

    def summary(self) -> str:
        """A plain-text summary: verdict, reasons, then the indicators."""
        r = self.route
        lines = [f"idrisk assessment of {self.meta['name']} ({self.meta['n_records']:,} records, "
                 f"{'census' if self.meta['census'] else 'sample'})",
                 f"Recommended route: {r['recommended'].upper()}"
                 + (f" (underlying: {r['underlying']})" if r["underlying"] != r["recommended"] else ""),
                 f"Sensitivity score: {self.score['score']} ({self.score['content_flags_raised']} content flags, "
                 f"{self.score['conditions_breached']} conditions breached, "
                 f"{self.score['conditions_not_assessed']} not assessed)", "", "Reasons:"]
        lines += [f"  - {x}" for x in r["reasons"]]
        lines += ["", "Indicators:"]
        for i in self.indicators:
            mark = {True: "holds", False: "BREACHED", None: "not assessed"}[i["holds"]]
            if i["effect"] == "reported":
                mark = "reported" if i["holds"] is not False else "flag"
            v = i["value"]
            v = f"{v:.4g}" if isinstance(v, float) else v
            lines.append(f"  [{mark:>12}] {i['label']}: {v} (threshold {i['operator']} {i['threshold']}; "
                         f"{i['basis']})")
        m = self.mitigations
        if m.get("candidates"):
            lines += ["", f"Best mitigations on [{m['scenario']}] (records with fk < {m['min_k']}: "
                          f"{m['before']['at_risk']:,}):"]
            for c in m["candidates"][:5]:
                lines.append(f"  {c['rank']}. {c['description']}: at risk {c['at_risk']:,} "
                             f"({c['risk_removed_share']:.0%} removed, {c['information_lost']:.0%} information lost)")
        nc = [(s["name"], k, v) for s in self.scenarios for k, v in s["not_computed"].items()]
        if nc:
            lines += ["", "Not computed:"] + [f"  [{s}] {k}: {v}" for s, k, v in nc]
        return "\n".join(lines)

    def check(self, policy="safeguarded") -> "AssessmentResult":
        """Raise :class:`RiskThresholdExceeded` unless the extract meets ``policy``.

        Parameters
        ----------
        policy : str or dict, default "safeguarded"
            A route name: the recommended route must be no more restrictive than it
            (``"controlled"`` accepts every route but "refer back"; ``"open"`` is never met by
            record-level data). Or a dict of threshold overrides
            (e.g. ``{"min_k": 5}``): every safeguarded condition and content flag must hold
            with those thresholds.

        Returns
        -------
        self, so ``idrisk.assess(df, ...).check()`` reads well in a pipeline.
        """
        if isinstance(policy, str):
            if policy not in _ORDER:
                raise InvalidParameterError(f"policy must be one of {', '.join(ROUTES)} or a dict of thresholds, "
                                            f"got {policy!r}")
            rec = self.route["recommended"]
            if policy == "open" or _ORDER[rec] > _ORDER[policy]:
                br = self.breaches
                raise RiskThresholdExceeded(
                    f"the extract needs a {rec} route, stricter than the policy {policy!r}: "
                    + ("; ".join(self.route["reasons"][:3])), breaches=br)
            return self
        if isinstance(policy, dict):
            from .config import _thresholds

            th = _thresholds({**self.config["thresholds"], **policy}).to_dict()
            key = {"min_k": "min_k", "sample_unique_share": "max_sample_unique_share",
                   "max_individual_risk": "max_individual_risk", "distinct_l": "min_distinct_l",
                   "intruder_claims": "max_correct_claims"}
            br = []
            for i in self.indicators:
                if i["effect"] == "reported":
                    continue
                holds = i["holds"]
                if i["id"] in key and i["value"] is not None:
                    t = th[key[i["id"]]]
                    holds = {"<=": i["value"] <= t, ">=": i["value"] >= t, "==": i["value"] == t}[i["operator"]]
                if holds is not True:
                    br.append(i)
            if br:
                raise RiskThresholdExceeded(f"{len(br)} indicator(s) do not hold: "
                                            + "; ".join(i["label"] for i in br[:5]), breaches=br)
            return self
        raise InvalidParameterError(f"policy must be a route name or a dict of thresholds, got {policy!r}")
