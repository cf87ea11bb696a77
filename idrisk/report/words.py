"""The report's plain words: the verdict, sentences about people, the five safes, the intruder.

Everything here reads the result's JSON form (aggregates and column names only) and the
profile's labels (docs/methods.md#profiles); it never sees a record. The sentences turn
the figures of the riskiest public scenario into statements about people, so that a panel
member reads "1,565 pupils (10%) are the only pupil in the file with their ..." rather than
an expected number of re-identifications (docs/methods.md#routes; Desai, Ritchie & Welpton
2016 for the five safes).
"""

from __future__ import annotations

from ..profiles import get_profile

__all__ = ["panel_words"]

ROUTE_MEANING = {
    "open": "Open release (aggregate tables only).",
    "safeguarded": "The extract may be released under a safeguarded licence (End User Licence): every "
                   "safeguarded condition holds on every plausible key.",
    "controlled": "Release only in a controlled setting (a secure research service under a data sharing "
                  "agreement): at least one condition does not hold or could not be assessed.",
    "refer back": "Refer back to the requester: approve only with the reduced extract. As requested it needs a "
                  "controlled setting; one of the changes under 'What would reduce the risk' removes most of the "
                  "risk.",
}

FIVE_SAFES = {
    "safeguarded": [
        ("Safe data", "this assessment: every safeguarded condition holds on the keys assessed."),
        ("Safe people", "registered users who accept the licence (no attempt to identify anyone, no linking)."),
        ("Safe projects", "a purpose approved by the panel, with a public benefit."),
        ("Safe settings", "the user's own secured environment, as the licence requires."),
        ("Safe outputs", "published figures follow the usual rules (no cell of fewer than 10 people)."),
    ],
    "controlled": [
        ("Safe data", "this assessment: the extract is not safe to release on a licence (see the reasons)."),
        ("Safe people", "accredited researchers only, trained in handling personal data."),
        ("Safe projects", "a project approved by the panel, limited to the items it needs."),
        ("Safe settings", "a secure research service or trusted research environment; no copy leaves it."),
        ("Safe outputs", "every output is checked before it leaves the setting (threshold of 10)."),
    ],
}
FIVE_SAFES["refer back"] = FIVE_SAFES["controlled"]
FIVE_SAFES["open"] = FIVE_SAFES["safeguarded"]


def _join(items) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if x >= 0.01 or x == 0 else f"{100 * x:.1g}%"


def _riskiest(d: dict):
    public = [s for s in d["scenarios"] if s.get("public", True) and "k_anonymity" in s["measures"]]
    if not public:
        return None
    return max(public, key=lambda s: (s["measures"]["k_anonymity"]["n1"],
                                      s["measures"]["k_anonymity"]["records_below_k"].get(
                                          str(d["config"]["thresholds"]["min_k"]), 0)))


def _people_sentences(d: dict, label, one: str, many: str, child: str) -> list[str]:
    n = d["meta"]["n_records"]
    min_k = d["config"]["thresholds"]["min_k"]
    out = []
    s = _riskiest(d)
    if s is not None:
        k = s["measures"]["k_anonymity"]
        key = _join(label(q) for q in s["quasi_identifiers"])
        sens = [a["name"] for a in d["config"]["sensitive"] if a["name"] not in s["quasi_identifiers"]]
        if k["n1"]:
            out.append(f"{k['n1']:,} {many} ({_pct(k['n1'] / n)}) are the only {one} in the file with their {key}; "
                       f"anyone who knows those facts about a {child} finds the {child}'s record"
                       + (f" and with it their {_join(label(a) for a in sens)}." if sens else "."))
        else:
            out.append(f"No {one} is alone in the file on their {key}; the smallest group holds "
                       f"{k['min_class_size']:,} {many}.")
        below = k["records_below_k"].get(str(min_k))
        if below:
            out.append(f"{below:,} {many} ({_pct(below / n)}) are in groups of fewer than {min_k} sharing those "
                       f"facts (the usual threshold for published figures is {min_k}).")
        pu = s["measures"].get("population_uniqueness") or {}
        est = {m: pu.get(m) for m in ("zayatz", "pitman", "snb", "dankar") if pu.get(m) is not None}
        if est:
            lo, hi = min(est, key=est.get), max(est, key=est.get)
            out.append(f"The file is a sample: between {est[lo]:,.0f} ({lo.capitalize()}) and {est[hi]:,.0f} "
                       f"({hi.capitalize()}) {many} are estimated to be unique in the whole population on those "
                       "facts, depending on the model.")
        div = s["measures"].get("l_diversity") or {}
        worst = max(sorted(div.items()), key=lambda kv: kv[1]["homogeneous_share"], default=None)
        if worst and worst[1]["records_in_homogeneous_classes"]:
            a, v = worst
            out.append(f"For {v['records_in_homogeneous_classes']:,} {many} ({_pct(v['homogeneous_share'])}), "
                       f"everyone in the file who shares their {key} has the same {label(a)}: knowing those facts "
                       f"reveals the {child}'s {label(a)} without finding the record.")
    intr = [(s, s["measures"]["intruder"]) for s in d["scenarios"] if "intruder" in s["measures"]]
    if intr:
        s, it = max(intr, key=lambda p: p[1].get("correct_claims_at_confidence") or 0)
        sp = it.get("correct_claims_at_confidence_spread") or {}
        runs = len(it.get("runs") or [1])
        conf = d["config"]["thresholds"]["claim_confidence"]
        if sp.get("high"):
            out.append(f"A simulated intruder ({s['name']}) who tries to find {it['targets']:,} {many} made "
                       f"{sp['median']:.0f} correct identifications with confidence {conf:g} or more (from "
                       f"{sp['low']:.0f} to {sp['high']:.0f} over {runs} runs).")
        elif sp.get("high") == 0:
            out.append(f"No simulated intruder made a correct identification with confidence {conf:g} or more "
                       f"in {runs} runs.")
    c = d["content"]
    if c["direct_identifiers_present"]:
        out.append(f"The file still holds columns that identify people directly: "
                   f"{_join(c['direct_identifiers_present'])}; they must be removed.")
    if c["tier_1_2_columns"]:
        out.append(f"It holds Tier 1 or 2 items ({_join(label(x) for x in c['tier_1_2_columns'])}): these need a "
                   "controlled setting whatever the other figures.")
    return out


def _caveats(d: dict, one: str) -> list[str]:
    out = []
    unknown = [i for i in d["indicators"] if i["holds"] is None and i["effect"] != "reported"]
    if unknown:
        labels = sorted({i["label"].split(" on [")[0] for i in unknown})
        out.append(f"Not assessed: {'; '.join(labels)}. A safeguarded route needs every condition assessed.")
    for a in d.get("assumptions", []):
        if a["id"] == "census" and not a["declared"]:
            out.append(f"The file was treated as a census (every {one} of the population in the file). This is an "
                       "assumption, not a declaration: it gives the highest reading of the risk; declare the "
                       "census or the population size to replace it.")
    return out


def _intruder_setup(d: dict, label, many: str) -> list[dict]:
    out = []
    for s in d["scenarios"]:
        it = s["measures"].get("intruder")
        if not it:
            continue
        kn = it.get("knowledge") or {}
        know = "; ".join(f"{label(v)}: {kn[v]}" for v in it["known_variables"] if v in kn)
        member = ("knows that the person is in the file" if it["response_knowledge"]
                  else "does not know whether the person is in the file")
        runs = len(it.get("runs") or [1])
        out.append({"name": s["name"], "who": it.get("description") or "an intruder who knows the scenario's key",
                    "knows": know, "member": member,
                    "targets": f"{it['targets']:,} {many} drawn at random from the file, {runs} seeded "
                               f"run{'s' if runs != 1 else ''}",
                    "dropped": it.get("dropped_variables") or []})
    return out


def _instead_meaning(d: dict, instead: dict, label) -> str:
    """The verdict's words when the report carries "what the requester could have instead":
    the transformation named, and the route it reaches when assessed again."""
    changes = [f"{label(q)}: {instead['level_labels'][q]}" for q in instead["quasi_identifiers"]
               if instead["levels"][q] > 0]
    what = "; ".join(changes) if changes else "no variable coarsened"
    supp = instead["suppressed_records"]
    tail = (f", and {supp:,} of {instead['records']:,} records have their key cells blanked" if supp else "")
    route = d["route"]["recommended"]
    head = ("Refer back to the requester: approve only with the reduced extract." if route == "refer back"
            else "As requested, the extract needs a controlled setting.")
    return (f"{head} The reduced extract (see 'What the requester could have instead') changes {what}{tail}; "
            f"assessed again in full, it reaches the route: {instead['route_after']}.")


def panel_words(d: dict, instead: dict | None = None) -> dict:
    """The plain words of the report's first pages, from a result's JSON form (and, when given,
    the plain dict of "what the requester could have instead")."""
    profile = get_profile(d["config"].get("profile"))
    labels = dict(profile.labels)
    one, many, child = profile.person

    def label(col):
        return labels.get(col, col)

    route = d["route"]["recommended"]
    meaning = ROUTE_MEANING[route]
    if instead is not None and route in ("refer back", "controlled"):
        meaning = _instead_meaning(d, instead, label)
    return {"meaning": meaning, "people": _people_sentences(d, label, one, many, child),
            "caveats": _caveats(d, one), "five_safes": FIVE_SAFES[route],
            "intruders": _intruder_setup(d, label, many), "many": many}
