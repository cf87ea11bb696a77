"""Indicators, the sensitivity score and the recommended access route (domain.md section 6).

Every indicator carries its value, its threshold, whether it holds, and the *basis* of the
threshold, kept apart as section 6.1 asks:

``"law"``
    UK GDPR Art. 4(1) and Recital 26 (identifiable by means reasonably likely to be used),
    Art. 9 special categories, Statistics and Registration Service Act 2007 s39.
``"guidance"``
    Regulator or official guidance and convention: ICO motivated-intruder test, ONS SRS
    output-checking threshold of 10, DfE NPD data tiers, UKDS access tiers.
``"idrisk default"``
    A convention of this package that the approval board may change in ``[thresholds]``.

Route mapping (defaults, domain.md 6.2): *open* is never recommended for record-level data;
*safeguarded* needs every safeguarded condition to hold on every public scenario and no
content flag; *controlled* otherwise; *refer back* is a controlled route with avoidable
detail: one tested coarsening removes at least ``thresholds.refer_back_reduction`` of the
records below ``min_k`` in the riskiest scenario.
An indicator that could not be computed does not hold (a safeguarded route is never
recommended on missing evidence).
"""

from __future__ import annotations

SOURCES = {
    "direct_identifiers": ("law", "UK GDPR Art. 4(1) and Recital 26: a direct identifier makes the data personal"),
    "tier": ("guidance", "DfE NPD data tiers: Tier 1/2 items are identifying and (highly) sensitive"),
    "social_care": ("guidance", "DfE NPD Tier 1: Children-in-Need and Looked-After indicators"),
    "exclusion_or_absence_reasons": ("guidance", "DfE NPD Tier 1: reasons for absence and exclusion"),
    "small_area_geography": ("guidance", "DfE NPD Tier 2: small-area geography in a census extract"),
    "membership_sensitive": ("idrisk default", "membership of the extract itself reveals an attribute"),
    "min_k": ("guidance", "ONS SRS output checking: at least 10 units behind any figure (threshold 10)"),
    "sample_unique_share": ("idrisk default", "no sample uniques on a plausible public key"),
    "max_individual_risk": ("idrisk default", "risk 0.1 mirrors k = 10 (El Emam et al. 2011 use 0.04-0.05)"),
    "special_uniques": ("idrisk default", "no special uniques at MSU size <= 2 (Elliot et al. 2002, SUDA)"),
    "distinct_l": ("idrisk default", "no homogeneous class on a special-category attribute "
                                     "(Machanavajjhala et al. 2007; UK GDPR Art. 9 category)"),
    "intruder_claims": ("guidance", "ICO motivated-intruder test: no correct claim with confidence >= 0.5"),
}

EFFECT_FORCES = "forces controlled"
EFFECT_SAFEGUARDED = "safeguarded condition"
EFFECT_REPORTED = "reported"


def indicator(id_, label, value, threshold, op, holds, *, scenario=None, effect=EFFECT_SAFEGUARDED,
              reason=None, key=None):
    basis, source = SOURCES[key or id_]
    return {"id": id_, "label": label, "scenario": scenario, "value": value, "threshold": threshold,
            "operator": op, "holds": holds, "basis": basis, "source": source, "effect": effect,
            "not_assessed_reason": reason}


def _cmp(value, threshold, op):
    if value is None:
        return None
    return {"<=": value <= threshold, ">=": value >= threshold, "==": value == threshold}[op]


def build_indicators(cfg, content: dict, scenarios: list[dict]) -> list[dict]:
    """All indicators from the content flags and the per-scenario measures."""
    th = cfg.thresholds
    out = []
    n_direct = len(content["direct_identifiers_present"])
    out.append(indicator("direct_identifiers", "Direct identifiers left in the extract", n_direct, 0, "==",
                         n_direct == 0, effect=EFFECT_FORCES))
    tier = content["highest_tier"]
    cols = content.get("tier_1_2_columns") or []
    out.append(indicator("tier", "Most sensitive NPD tier present (Tier 1 or 2 forces controlled"
                         + (f": {', '.join(cols)}" if cols else "") + ")",
                         tier, 3, ">=", True if tier is None else tier >= 3, effect=EFFECT_FORCES))
    for flag in ("social_care", "exclusion_or_absence_reasons"):
        v = bool(content["flags"][flag])
        out.append(indicator(flag, {"social_care": "Children's social care (CIN/CLA) items",
                                    "exclusion_or_absence_reasons": "Exclusion or absence reasons"}[flag],
                             v, False, "==", not v, effect=EFFECT_FORCES))
    sag = bool(content["flags"]["small_area_geography"]) and bool(content["census"])
    out.append(indicator("small_area_geography", "Census extract with small-area geography", sag, False, "==",
                         not sag, effect=EFFECT_FORCES))
    mem = bool(content["flags"]["membership_sensitive"])
    out.append(indicator("membership_sensitive", "Membership of the extract is itself sensitive", mem, False,
                         "==", not mem, effect=EFFECT_REPORTED))

    for s in scenarios:
        if not s["public"]:
            continue
        name = s["name"]
        fr = s["measures"].get("k_anonymity")
        r = s["measures"].get("individual_risk")
        why = s["not_computed"]
        out.append(indicator("min_k", f"Smallest equivalence class (k) on [{name}]",
                             None if fr is None else fr["min_class_size"], th.min_k, ">=",
                             None if fr is None else fr["min_class_size"] >= th.min_k, scenario=name,
                             reason=why.get("k_anonymity")))
        share = None if fr is None else fr["sample_unique_share"]
        out.append(indicator("sample_unique_share", f"Share of records that are sample unique on [{name}]",
                             share, th.max_sample_unique_share, "<=", _cmp(share, th.max_sample_unique_share, "<="),
                             scenario=name, reason=why.get("k_anonymity")))
        mx = None if r is None else r["max_risk"]
        out.append(indicator("max_individual_risk", f"Highest individual re-identification risk on [{name}]",
                             mx, th.max_individual_risk, "<=", _cmp(mx, th.max_individual_risk, "<="),
                             scenario=name, reason=why.get("individual_risk")))
        su = s["measures"].get("suda")
        v = None if su is None else su["special_uniques_small_msu"]
        out.append(indicator("special_uniques", f"Records with a minimal sample unique of size <= "
                                                f"{th.special_unique_msu_size} on [{name}]",
                             v, 0, "==", _cmp(v, 0, "=="), scenario=name, reason=why.get("suda")))
        for attr in cfg.sensitive:
            if not attr.special_category:
                continue
            ld = s["measures"].get("l_diversity", {}).get(attr.name) if s["measures"].get("l_diversity") else None
            v = None if ld is None else ld["min_distinct_l"]
            out.append(indicator("distinct_l", f"Smallest distinct l-diversity of {attr.name} on [{name}]",
                                 v, th.min_distinct_l, ">=", _cmp(v, th.min_distinct_l, ">="), scenario=name,
                                 reason=why.get("l_diversity")))
        it = s["measures"].get("intruder")
        v = None if it is None else it["correct_claims_at_confidence"]
        out.append(indicator("intruder_claims", f"Correct intruder claims with confidence >= "
                                                f"{th.claim_confidence} on [{name}]",
                             v, th.max_correct_claims, "<=", _cmp(v, th.max_correct_claims, "<="), scenario=name,
                             reason=why.get("intruder")))
    return out


def score_and_route(cfg, indicators: list[dict], mitigations: list[dict]) -> tuple[dict, dict]:
    """The sensitivity score (conditions in the way of a safeguarded route) and the route."""
    forcing = [i for i in indicators if i["effect"] == EFFECT_FORCES]
    conds = [i for i in indicators if i["effect"] == EFFECT_SAFEGUARDED]
    forced = [i for i in forcing if i["holds"] is False]
    breached = [i for i in conds if i["holds"] is False]
    unknown = [i for i in conds if i["holds"] is None]
    score = {
        "score": len(forced) + len(breached) + len(unknown),
        "content_flags_raised": len(forced),
        "conditions_assessed": len(conds) - len(unknown),
        "conditions_breached": len(breached),
        "conditions_not_assessed": len(unknown),
        "meaning": "number of content flags and safeguarded-route conditions that do not hold "
                   "(0: nothing stands in the way of a safeguarded route)",
    }
    reasons = _grouped_reasons(forced + breached, unknown)
    reasons.append("Open (OGL) is never recommended for record-level data: only aggregate tables "
                   "that pass output checks can be open (ONS microdata policy, UKDS access tiers).")
    if not forced and not breached and not unknown:
        route = "safeguarded"
        underlying = "safeguarded"
        reasons.insert(0, "Every safeguarded-route condition holds on every public scenario and no content "
                          "flag is raised.")
    else:
        underlying = "controlled"
        route = "controlled"
        best = max((m["risk_removed_share"] for m in mitigations if m.get("risk_removed_share") is not None),
                   default=0.0)
        if breached and best >= cfg.thresholds.refer_back_reduction:
            route = "refer back"
            reasons.insert(0, f"Controlled, with avoidable detail: one coarsening removes {best:.0%} of the records "
                              "at risk; the request can be minimised (see mitigations).")
    return score, {"recommended": route, "underlying": underlying, "reasons": reasons}


def _grouped_reasons(failed: list[dict], unknown: list[dict]) -> list[str]:
    """One sentence per indicator kind (not per scenario), in the order first met."""
    groups: dict = {}
    for i in failed:
        groups.setdefault((i["id"], i["label"].split(" on [")[0]), []).append(i)
    out = []
    for items in groups.values():
        first = items[0]
        label = first["label"].split(" on [")[0]
        need = f"needs {first['operator']} {_fmt(first['threshold'])}; basis: {first['basis']}"
        if first["scenario"] is None:
            out.append(f"{label}: {_fmt(first['value'])} ({need}).")
        else:
            vals = ", ".join(f"{i['scenario']} {_fmt(i['value'])}" for i in items)
            out.append(f"{label} fails on {len(items)} scenario{'s' if len(items) > 1 else ''} "
                       f"({vals}; {need}).")
    ugroups: dict = {}
    for i in unknown:
        ugroups.setdefault((i["id"], i["label"].split(" on [")[0]), []).append(i)
    for items in ugroups.values():
        label = items[0]["label"].split(" on [")[0]
        scen = ", ".join(str(i["scenario"]) for i in items)
        out.append(f"{label}: not assessed on {scen} ({items[0]['not_assessed_reason'] or 'not computed'}).")
    return out


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
