"""Run every ``benchmarks/ratios_*.py``: idrisk's speed against a baseline timed in the same run.

Usage::

    .venv/bin/python benchmarks/ratios.py             # full sizes (1M rows and more; long)
    .venv/bin/python benchmarks/ratios.py --quick     # smaller sizes, a few minutes
    .venv/bin/python benchmarks/ratios.py risk suda   # only the named families

Each family runs in its own subprocess with this interpreter and prints its own ratios
(idrisk against its baseline measured in the same run: pandas groupby, polars, DuckDB, a
naive generator, a brute force, recordlinkage or Splink). Baselines whose library is not installed
are left out and said so. The exit status is non-zero if any family failed.
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _intruder_args(quick: bool) -> list[str]:
    engines = ["idrisk"] + [e for e in ("recordlinkage", "splink") if _installed(e)]
    missing = sorted({"recordlinkage", "splink"} - set(engines))
    if missing:
        print(f"  (ratios_intruder: {', '.join(missing)} not installed, baseline left out)")
    return (["--quick"] if quick else []) + ["--engines", ",".join(engines)]


#: family -> (arguments for --quick, arguments for a full run)
FAMILIES = {
    "frequencies": (["--quick", "--reps", "3"], []),
    "diversity": (["--n", "200000", "--repeat", "2"], []),
    "risk": (["--n", "200000", "--repeat", "2"], []),
    "suda": (["--n", "100000", "--repeat", "1", "--skip-pupil"], []),
    "datasets": (["--n", "200000", "--naive-n", "5000"], []),
    "intruder": (None, None),  # arguments depend on the installed baselines
    "engines": (["--quick", "--reps", "3"], []),  # polars and DuckDB (dev dependencies)
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("families", nargs="*", help=f"families to run (default: all of {', '.join(FAMILIES)})")
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    args = ap.parse_args(argv)
    unknown = set(args.families) - set(FAMILIES)
    if unknown:
        ap.error(f"unknown families {sorted(unknown)}; choose from {', '.join(FAMILIES)}")
    failed = []
    for fam in args.families or list(FAMILIES):
        print(f"== ratios_{fam}", flush=True)
        quick_args, full_args = FAMILIES[fam]
        if fam == "engines" and not (_installed("polars") and _installed("duckdb")):
            print("  (ratios_engines: polars or duckdb not installed, left out)")
            continue
        extra = _intruder_args(args.quick) if fam == "intruder" else (quick_args if args.quick else full_args)
        t = time.perf_counter()
        rc = subprocess.call([sys.executable, str(HERE / f"ratios_{fam}.py"), *extra])
        print(f"   ({time.perf_counter() - t:.0f} s, exit {rc})", flush=True)
        if rc:
            failed.append(fam)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
