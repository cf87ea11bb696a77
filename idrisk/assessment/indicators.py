"""Indicators, the sensitivity score and the recommended access route.

Every indicator carries its value, its threshold, whether it holds, and the *basis* of the
threshold, kept apart (docs/methods.md#indicators):

``"law"``
    UK GDPR Art. 4(1) and Recital 26 (identifiable by means reasonably likely to be used),
    Art. 9 special categories, Statistics and Registration Service Act 2007 s39.
``"guidance"``
    Regulator or official guidance and convention: ICO motivated-intruder test, ONS SRS
    output-checking threshold of 10, the data's own tier scale (DfE NPD data tiers in the
    NPD profile), UKDS access tiers.
``"idrisk default"``
    A convention of this package that the approval board may change in ``[thresholds]``.

Route mapping (docs/methods.md#routes): *open* is never recommended for record-level data;
*safeguarded* needs every safeguarded condition to hold on every public scenario and no
content flag; *controlled* otherwise; *refer back* is a controlled route with avoidable
detail: one tested coarsening removes at least ``thresholds.refer_back_reduction`` of the
records below ``min_k`` in the riskiest scenario.
An indicator that could not be computed, or whose input is unknown (a tier nobody declared),
has ``holds = None`` and a ``not_assessed_reason``; a safeguarded route needs every content
flag and every safeguarded condition to hold (``True``), so it is never recommended on
missing evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .._results import Result
from ._typed import Count, ItemAccess

__all__ = ["Indicator", "Score", "Route", "build_indicators", "score_and_route", "compare", "THRESHOLD_OF",
           "SOURCES"]

#: basis and source of the indicators that do not depend on the kind of data; the
#: profile gives those of "tier", "social_care", "exclusion_or_absence_reasons" and
#: "small_area_geography"
SOURCES = {
    "direct_identifiers": ("law", "UK GDPR Art. 4(1) and Recital 26: a direct identifier makes the data personal"),
    "membership_sensitive": ("idrisk default", "membership of the extract itself reveals an attribute"),
    "min_k": ("guidance", "ONS SRS output checking: at least 10 units behind any figure (threshold 10)"),
    "sample_unique_share": ("idrisk default", "no sample uniques on a plausible public key"),
    "max_individual_risk": ("idrisk default", "risk 0.1 mirrors k = 10 (El Emam et al. 2011 use 0.04-0.05)"),
    "special_uniques": ("idrisk default", "no special uniques at MSU size <= 2 (Elliot et al. 2002, SUDA)"),
    "distinct_l": ("idrisk default", "no homogeneous class on a special-category attribute "
                                     "(Machanavajjhala et al. 2007; UK GDPR Art. 9 category)"),
    "homogeneous_share": ("idrisk default", "no record in a class where everyone shares the sensitive value: "
                                            "the homogeneity attack (Machanavajjhala et al. 2007)"),
    "intruder_claims": ("guidance", "ICO motivated-intruder test: no correct claim with confidence >= 0.5"),
}

#: indicator id -> the field of :class:`~idrisk.assessment.Thresholds` it is compared with
THRESHOLD_OF = {"min_k": "min_k", "sample_unique_share": "max_sample_unique_share",
                "max_individual_risk": "max_individual_risk", "distinct_l": "min_distinct_l",
                "homogeneous_share": "max_homogeneous_share",
                "intruder_claims": "max_correct_claims"}

EFFECT_FORCES = "forces controlled"
EFFECT_SAFEGUARDED = "safeguarded condition"
EFFECT_REPORTED = "reported"

IndicatorId = Literal["direct_identifiers", "tier", "social_care", "exclusion_or_absence_reasons",
                      "small_area_geography", "membership_sensitive", "min_k", "sample_unique_share",
                      "max_individual_risk", "special_uniques", "distinct_l", "homogeneous_share",
                      "intruder_claims"]
Operator = Literal["<=", ">=", "=="]


def compare(value, threshold, op) -> bool | None:
    """Whether ``value op threshold`` holds; None when the value was not computed."""
    if value is None:
        return None
    return {"<=": value <= threshold, ">=": value >= threshold, "==": value == threshold}[op]


@dataclass(frozen=True)
class Indicator(ItemAccess, Result):
    """One condition of the route: value, threshold, whether it holds and the basis."""

    id: IndicatorId
    label: str
    scenario: str | None
    value: float | bool | None
    threshold: float | bool
    operator: Operator
    holds: bool | None
    basis: Literal["law", "guidance", "idrisk default"]
    source: str
    effect: Literal["forces controlled", "safeguarded condition", "reported"]
    not_assessed_reason: str | None

    def holds_under(self, thresholds) -> bool | None:
        """Whether the indicator holds with other ``thresholds`` (same comparison as built)."""
        if self.id in THRESHOLD_OF and self.value is not None:
            return compare(self.value, getattr(thresholds, THRESHOLD_OF[self.id]), self.operator)
        return self.holds


@dataclass(frozen=True)
class Score(ItemAccess, Result):
    """The sensitivity score: content flags and safeguarded conditions that do not hold."""

    score: Count
    content_flags_raised: Count
    conditions_assessed: Count
    conditions_breached: Count
    conditions_not_assessed: Count
    meaning: str


@dataclass(frozen=True)
class Route(ItemAccess, Result):
    """The recommended access route, the route underneath it and the reasons (verdict first)."""

    recommended: Literal["open", "safeguarded", "controlled", "refer back"]
    underlying: Literal["open", "safeguarded", "controlled"]
    reasons: list[str]


def _indicator(id_, label, value, threshold, op, *, scenario=None, effect=EFFECT_SAFEGUARDED, reason=None,
               holds=None, sources=None, assessed=True) -> Indicator:
    basis, source = (sources or {}).get(id_) or SOURCES[id_]
    if holds is None and assessed:
        holds = compare(value, threshold, op)
    if holds is None and reason is None:
        reason = "not computed"
    return Indicator(id=id_, label=label, scenario=scenario, value=value, threshold=threshold, operator=op,
                     holds=holds, basis=basis, source=source, effect=effect, not_assessed_reason=reason)


def _content_indicators(content, profile) -> list[Indicator]:
    src = profile.sources
    n_direct = len(content.direct_identifiers_present)
    out = [_indicator("direct_identifiers", "Direct identifiers left in the extract", n_direct, 0, "==",
                      effect=EFFECT_FORCES)]
    out.append(_tier_indicator(content, profile))
    labels = {"social_care": "Children's social care (CIN/CLA) items",
              "exclusion_or_absence_reasons": "Exclusion or absence reasons"}
    for flag, label in labels.items():
        v = bool(content.flags[flag])
        out.append(_indicator(flag, label, v, False, "==", effect=EFFECT_FORCES, sources=src))
    sag = bool(content.flags["small_area_geography"]) and bool(content.census)
    out.append(_indicator("small_area_geography", "Census extract with small-area geography", sag, False, "==",
                          effect=EFFECT_FORCES, sources=src))
    mem = bool(content.flags["membership_sensitive"])
    out.append(_indicator("membership_sensitive", "Membership of the extract is itself sensitive", mem, False,
                          "==", effect=EFFECT_REPORTED))
    return out


def _tier_indicator(content, profile) -> Indicator:
    """Tier 1/2 present: does not hold; a sensitive column (or every column) of unknown tier:
    not assessed (a tier nobody declared is not evidence of a low tier)."""
    tier, cols = content.highest_tier, content.tier_1_2_columns
    scale = f"{profile.tier_scale} " if profile.tier_scale else ""
    label = f"Most sensitive {scale}tier present (Tier 1 or 2 forces controlled" + (
        f": {', '.join(cols)}" if cols else "") + ")"
    untiered = list(getattr(content, "sensitive_without_tier", []) or [])
    if cols:
        holds, reason = False, None
    elif untiered:
        holds, reason = None, (f"no tier declared for the sensitive column(s) {', '.join(untiered)} (declare it "
                               "in [sensitive] or [tiers], or with --tier COL=N)")
    elif tier is None:
        holds, reason = None, "no column's tier is known (declare them in [tiers], or with --tier COL=N)"
    else:
        holds, reason = True, None
    return _indicator("tier", label, tier, 3, ">=", holds=holds, effect=EFFECT_FORCES, sources=profile.sources,
                      reason=reason, assessed=holds is not None)


def _scenario_indicators(cfg, s) -> list[Indicator]:
    th = cfg.thresholds
    name, m, why = s.name, s.measures, s.not_computed
    fr, r, su, it = m.get("k_anonymity"), m.get("individual_risk"), m.get("suda"), m.get("intruder")
    out = [
        _indicator("min_k", f"Smallest equivalence class (k) on [{name}]", None if fr is None else fr.min_class_size,
                   th.min_k, ">=", scenario=name, reason=why.get("k_anonymity")),
        _indicator("sample_unique_share", f"Share of records that are sample unique on [{name}]",
                   None if fr is None else fr.sample_unique_share, th.max_sample_unique_share, "<=",
                   scenario=name, reason=why.get("k_anonymity")),
        _indicator("max_individual_risk", f"Highest individual re-identification risk on [{name}]",
                   None if r is None else r.max_risk, th.max_individual_risk, "<=", scenario=name,
                   reason=why.get("individual_risk")),
        _indicator("special_uniques", f"Records with a minimal sample unique of size <= "
                                      f"{th.special_unique_msu_size} on [{name}]",
                   None if su is None else su.special_uniques_small_msu, 0, "==", scenario=name,
                   reason=why.get("suda"))]
    out += _diversity_indicators(cfg, s)
    reason = why.get("intruder")
    value = None if it is None else it.correct_claims_at_confidence
    if it is not None and it.targets == 0:  # no target: zero claims is no evidence
        value, reason = None, "the intruder had no target"
    elif it is not None and value is None:
        reason = f"the simulation does not resolve confidence {th.claim_confidence}"
    out.append(_indicator("intruder_claims", f"Correct intruder claims with confidence >= "
                                             f"{th.claim_confidence} on [{name}]",
                          value, th.max_correct_claims, "<=", scenario=name, reason=reason))
    return out


def _diversity_indicators(cfg, s) -> list[Indicator]:
    """Attribute disclosure of every sensitive column: the share of records in classes where
    everyone has the same value; for special categories also distinct l (docs/methods.md#l-diversity).
    A sensitive column in the scenario's key is not assessed (whoever knows the key knows it)."""
    th, name, why = cfg.thresholds, s.name, s.not_computed
    diversity = s.measures.get("l_diversity") or {}
    out = []
    for attr in cfg.sensitive:
        ld = diversity.get(attr.name)
        if attr.name in s.quasi_identifiers:
            reason = (f"{attr.name} is in the key of [{name}]: whoever knows the key knows it, so its disclosure "
                      "is not measured on this scenario")
        else:
            reason = why.get(f"l_diversity of {attr.name}") or why.get("l_diversity")
        out.append(_indicator("homogeneous_share", f"Share of records in classes where everyone has the same "
                                                   f"{attr.name} on [{name}]",
                              None if ld is None else ld.homogeneous_share, th.max_homogeneous_share, "<=",
                              scenario=name, reason=reason))
        if attr.special_category:
            out.append(_indicator("distinct_l", f"Smallest distinct l-diversity of {attr.name} on [{name}]",
                                  None if ld is None else ld.min_distinct_l, th.min_distinct_l, ">=",
                                  scenario=name, reason=reason))
    return out


def build_indicators(cfg, content, scenarios, profile) -> list[Indicator]:
    """All indicators: the content flags, then each public scenario's measures."""
    out = _content_indicators(content, profile)
    for s in scenarios:
        if s.public:
            out += _scenario_indicators(cfg, s)
    return out


def score_and_route(cfg, indicators: list[Indicator], candidates) -> tuple[Score, Route]:
    """The sensitivity score (conditions in the way of a safeguarded route) and the route."""
    forcing = [i for i in indicators if i.effect == EFFECT_FORCES]
    conds = [i for i in indicators if i.effect == EFFECT_SAFEGUARDED]
    forced = [i for i in forcing if i.holds is False]
    breached = [i for i in conds if i.holds is False]
    # a content flag or a condition that could not be assessed stands in the way as well
    unknown = [i for i in forcing + conds if i.holds is None]
    score = Score(score=len(forced) + len(breached) + len(unknown), content_flags_raised=len(forced),
                  conditions_assessed=len([i for i in conds if i.holds is not None]),
                  conditions_breached=len(breached),
                  conditions_not_assessed=len(unknown),
                  meaning="number of content flags and safeguarded-route conditions that do not hold "
                          "(0: nothing stands in the way of a safeguarded route)")
    reasons = _grouped_reasons(forced + breached, unknown)
    reasons.append("Open (OGL) is never recommended for record-level data: only aggregate tables "
                   "that pass output checks can be open (ONS microdata policy, UKDS access tiers).")
    if not forced and not breached and not unknown:
        route = underlying = "safeguarded"
        reasons.insert(0, "Every safeguarded-route condition holds on every public scenario and no content "
                          "flag is raised.")
    else:
        route = underlying = "controlled"
        best = max((c.risk_removed_share for c in candidates if c.risk_removed_share is not None), default=0.0)
        if breached and best >= cfg.thresholds.refer_back_reduction:
            route = "refer back"
            reasons.insert(0, f"Controlled, with avoidable detail: one coarsening removes {best:.0%} of the records "
                              "at risk; the request can be minimised (see mitigations).")
    return score, Route(recommended=route, underlying=underlying, reasons=reasons)


def _kind(i: Indicator) -> tuple:
    return i.id, i.label.split(" on [")[0]


def _grouped_reasons(failed: list[Indicator], unknown: list[Indicator]) -> list[str]:
    """One sentence per indicator kind (not per scenario), in the order first met."""
    groups: dict = {}
    for i in failed:
        groups.setdefault(_kind(i), []).append(i)
    out = []
    for (_, label), items in groups.items():
        first = items[0]
        need = f"needs {first.operator} {_fmt(first.threshold)}; basis: {first.basis}"
        if first.scenario is None:
            out.append(f"{label}: {_fmt(first.value)} ({need}).")
        else:
            vals = ", ".join(f"{i.scenario} {_fmt(i.value)}" for i in items)
            out.append(f"{label} fails on {len(items)} scenario{'s' if len(items) > 1 else ''} "
                       f"({vals}; {need}).")
    ugroups: dict = {}
    for i in unknown:
        ugroups.setdefault(_kind(i), []).append(i)
    for (_, label), items in ugroups.items():
        where = "" if items[0].scenario is None else " on " + ", ".join(str(i.scenario) for i in items)
        out.append(f"{label}: not assessed{where} ({items[0].not_assessed_reason or 'not computed'}); "
                   "a safeguarded route needs it to hold.")
    return out


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
