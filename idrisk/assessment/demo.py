"""``idrisk demo`` / ``make demo``: assess a synthetic KS4 extract with intruder scenarios.

Writes ``demo.json``, ``demo.html`` and the config it used (``demo.toml``) into the output
directory. Uses :mod:`idrisk.datasets` (synthetic pupil population, KS4 extract); without
it, falls back to the bundled ONS 2011 Census teaching sample so the demo always runs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

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
                            max_msu_size=4, sweep_max_size=3, intruder_targets=1000)


def _fallback():
    import pandas as pd
    from importlib import resources

    p = resources.files("idrisk") / "_data/public/ons_census2011_teaching/census2011_teaching_random10k.csv.gz"
    with resources.as_file(p) as f:
        df = pd.read_csv(f)
    cfg = AssessmentConfig(
        scenarios=[Scenario("basic", ["Region", "Sex", "Age"]),
                   Scenario("wide", ["Region", "Sex", "Age", "Marital Status", "Ethnic Group", "Country of Birth"])],
        name="ONS 2011 Census teaching sample, 10k (demo fallback)",
        sensitive={"Health": {"tier": 3, "special_category": True}, "Religion": {"tier": 3, "special_category": True}},
        direct_identifiers=["Person ID", "source_row"], population_size=569_741, seed=DEMO_SEED)
    return df, cfg


def run_demo(out: Path, *, overwrite: bool = False, n: int | None = None):
    out = Path(out)
    paths = [out / "demo.json", out / "demo.html"]
    for p in paths:
        if p.exists() and not overwrite:
            raise FileExistsError(f"{p} exists; add --overwrite to replace it")
    t0 = time.perf_counter()
    try:
        from ..datasets import extract, make_population
    except ImportError:
        extract = None
    if extract is not None:
        pop = make_population(n or DEMO_N, seed=DEMO_SEED)
        ex = extract(pop, "ks4", include_date_of_birth=True)
        data, cfg = ex.data, _ks4_config(ex)
        what = f"synthetic KS4 extract: {len(data):,} pupils from a population of {len(pop):,}"
    else:
        data, cfg = _fallback()
        what = f"bundled ONS census teaching sample ({len(data):,} records; idrisk.datasets not in this build)"
    print(f"idrisk demo: assessing the {what}", file=sys.stderr)
    res = assess(data, **{f: getattr(cfg, f) for f in cfg.__dataclass_fields__ if f != "base_dir"})
    out.mkdir(parents=True, exist_ok=True)
    res.to_json(paths[0], overwrite=True)
    res.to_html(paths[1], overwrite=True)
    print(res.summary())
    print(f"\nwrote {paths[0]} and {paths[1]} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return res
