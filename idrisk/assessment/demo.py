"""``idrisk demo`` / ``make demo``: assess a synthetic KS4 extract with intruder scenarios.

Writes ``demo.json`` and ``demo.html`` into the output directory, from a synthetic pupil
population and its KS4 extract (:mod:`idrisk.datasets`) assessed with the NPD profile
(docs/methods.md#assessment).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .._validation import output_path
from ..datasets import extract, make_population
from .config import AssessmentConfig, Scenario
from .run import assess

DEMO_SEED = 20240601
DEMO_N = 200_000


def _ks4_config(ex) -> AssessmentConfig:
    tiers = dict(ex.sensitive_tiers)
    sens = {s: {"tier": tiers.get(s), "special_category": s in ("sen_primary_need", "sen_provision")}
            for s in ex.sensitive}
    scen = [
        Scenario("nosy neighbour", ["urn", "sex", "birth_month", "birth_year", "ethnicity_major"],
                 intruder="nosy_neighbour"),
        Scenario("journalist", ["urn", "sex", "ethnicity_major", "eal"], intruder="journalist_fishing"),
        Scenario("bulk linkage", ["la_code", "sex", "birth_month", "ethnicity_major"], intruder="bulk_linkage"),
    ]
    other = {c: t for c, t in tiers.items() if c not in sens and c not in ex.direct_identifiers}
    return AssessmentConfig(scenarios=scen, name="Synthetic KS4 extract (demo)", sensitive=sens, tiers=other,
                            direct_identifiers=list(ex.direct_identifiers), census=True, seed=DEMO_SEED,
                            max_msu_size=4, sweep_max_size=3, intruder_targets=1000, profile="npd",
                            reference="DEMO (synthetic data, no request)", assessor="idrisk demo")


def run_demo(out: Path, *, overwrite: bool = False, n: int | None = None, then=None):
    """Assess the demo extract and write ``demo.json`` and ``demo.html`` into ``out``.

    Existing reports are replaced only with ``overwrite=True``. ``then(data, result)``, when
    given, is called with the extract and its assessment before the report is written; a dict
    it returns (the section "what the requester could have instead") goes into the report.
    """
    out = Path(out)
    paths = [out / "demo.json", out / "demo.html"]
    for p in paths:
        output_path(p, overwrite=overwrite)
    t0 = time.perf_counter()
    pop = make_population(n or DEMO_N, seed=DEMO_SEED)
    ex = extract(pop, "ks4", include_date_of_birth=True)
    print(f"idrisk demo: assessing the synthetic KS4 extract: {ex.n_rows:,} pupils from a population of "
          f"{len(pop):,}", file=sys.stderr)
    res = assess(ex.data, _ks4_config(ex))
    print(res.summary())
    section = then(ex.data, res) if then is not None else None
    out.mkdir(parents=True, exist_ok=True)
    res.to_json(paths[0], overwrite=True)
    res.to_html(paths[1], overwrite=True, instead=section)
    print(f"\nwrote {paths[0]} and {paths[1]} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return res
