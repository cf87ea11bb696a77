"""The ``idrisk`` command line.

    idrisk assess CONFIG.toml [options]              (or CONFIG.json)
    idrisk assess DATA --qi a,b,c [--sensitive s,t] [--tier COL=N ...]
                  [--census | --weights w | --population-size N] [options]
    idrisk report RESULT.json --report REPORT.html [--overwrite]
    idrisk anonymise CONFIG.toml --out EXTRACT.parquet [--recipe R.toml] [--output R.json] [--overwrite]
    idrisk datasets make --n N --seed S --out FILE
    idrisk demo [--out DIR] [--overwrite]

Exit status: 0 when every threshold holds, 1 when one is breached (or could not be
assessed), 2 for anything else: usage, configuration or data errors and any unexpected
failure (one line ``idrisk: error: ...`` on stderr; the traceback only with ``--debug``).
``idrisk demo`` exits 0 once its report is written, whatever the verdict; ``idrisk anonymise``
exits 0 once the extract, its recipe and its result are written. Warnings are
printed on stderr (and kept in the JSON). Progress bars are drawn on stderr only when it is
a terminal. Outputs are never overwritten without ``--overwrite``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

from ._progress import activity

EXIT_OK, EXIT_BREACH, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's default prints usage too)
        self.print_usage(sys.stderr)
        print(f"idrisk: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)] if chr(c) not in "\n\t"}


def _printable(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``): a column name read from a file
    must not drive the terminal (colours, cursor moves, a cleared screen)."""
    return str(text).translate(_CONTROL)


class _PrintableFormatter(logging.Formatter):
    def format(self, record):
        return _printable(super().format(record))


def _int_at_least(low: int):
    """An argparse type: an integer >= ``low`` (a range error is a usage error, exit 2)."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {v}")
        return v

    parse.__name__ = f"integer >= {low}"
    return parse


def _split(s):
    """Comma-separated names; a name holding a comma is quoted as in CSV: ``'"la, code",sex'``."""
    import csv

    return [x.strip() for x in next(csv.reader([s], skipinitialspace=True)) if x.strip()] if s else []


def _tiers(items) -> dict:
    """``["fsm=2,sex=4", "urn=4"]`` -> ``{"fsm": 2, "sex": 4, "urn": 4}`` (a bad item is a usage error)."""
    out = {}
    for item in items:
        for part in _split(item):
            col, sep, val = part.rpartition("=")
            if not sep or not col.strip() or val.strip() not in ("1", "2", "3", "4"):
                raise _UsageError(f"--tier takes COL=N with N in 1..4; got {part!r}")
            out[col.strip()] = int(val)
    return out


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="idrisk", description="How identifiable are the people in a record-level extract?")
    from . import __version__

    p.add_argument("--version", action="version", version=f"idrisk {__version__}")
    p.add_argument("--debug", action="store_true", help="print the traceback of an unexpected error")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    a = sub.add_parser("assess", help="assess an extract (a TOML config or a data file)")
    a.add_argument("target", help="CONFIG.toml (or .json), or a data file (.csv, .csv.gz, .parquet, .dta, .sav)")
    a.add_argument("--qi", help='comma-separated quasi-identifiers (one scenario); required with a data file; '
                   'quote a name holding a comma as in CSV: \'"la, code",sex\'')
    a.add_argument("--sensitive", help="comma-separated sensitive attributes")
    a.add_argument("--special-category", help="comma-separated sensitive attributes that are UK GDPR Art. 9 data")
    a.add_argument("--direct-identifiers", help="comma-separated direct identifiers to drop first")
    a.add_argument("--tier", action="append", metavar="COL=N", default=[],
                   help="tier of a column (1 = most sensitive ... 4); repeat it or separate with commas: "
                        "--tier fsm=2,sex=4 (default: the profile's tier of the item of that name)")
    a.add_argument("--census", action="store_true", default=None,
                   help="declare the extract a census (every member of the population is in the file)")
    a.add_argument("--remove", help="comma-separated columns that will be removed before release (not assessed)")
    a.add_argument("--non-identifying", help="comma-separated columns that look like identifiers (by name or "
                                             "content) but are declared not to identify anyone")
    a.add_argument("--weights", help="sampling-weights column")
    a.add_argument("--population-size", type=_int_at_least(1), help="size of the population the extract was drawn from")
    a.add_argument("--seed", type=_int_at_least(0), help="seed of the simulations (default: the config's, or 0)")
    a.add_argument("--profile", choices=("npd", "generic"),
                   help="what is known about the data (default: the config's, or npd)")
    a.add_argument("--format", choices=("human", "json"), default="human", help="what to print on stdout")
    a.add_argument("--output", help="write the JSON result to this file")
    a.add_argument("--report", help="write the HTML board report to this file")
    a.add_argument("--overwrite", action="store_true", help="replace existing output files")
    a.add_argument("--instead", metavar="SECTION.json",
                   help="when the route is refer back or controlled: transform the extract to the safeguarded "
                        "route's conditions (idrisk anonymise), assess it again, write the section to this file "
                        "and show it in --report (the verdict then names the transformation)")
    a.add_argument("--nofail", action="store_true", help="exit 0 even when a threshold is breached")
    g = a.add_mutually_exclusive_group()
    g.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    g.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
    r = sub.add_parser("report", help="render the HTML board report from a JSON result")
    r.add_argument("result", help="RESULT.json written by `idrisk assess --output`")
    r.add_argument("--report", required=True, help="REPORT.html to write")
    r.add_argument("--overwrite", action="store_true")
    r.add_argument("--instead", help="SECTION.json: add 'what the requester could have instead' (demo_instead.json)")
    an = sub.add_parser("anonymise", help="generalise and suppress an extract to a route's conditions")
    an.add_argument("config", help="CONFIG.toml naming the extract, the conditions and the hierarchies")
    an.add_argument("--out", required=True, help="the transformed extract to write (.parquet or .csv)")
    an.add_argument("--recipe", help="the recipe (TOML) to write (default: OUT with .recipe.toml)")
    an.add_argument("--output", help="the JSON result to write (default: OUT with .result.json)")
    an.add_argument("--overwrite", action="store_true", help="replace existing output files")
    d = sub.add_parser("datasets", help="synthetic pupil data (see `idrisk datasets make --help`)", add_help=False)
    d.add_argument("args", nargs=argparse.REMAINDER)
    m = sub.add_parser("demo", help="assess a synthetic KS4 extract and write reports/demo.{html,json}")
    m.add_argument("--out", default="reports", help="output directory (default: reports)")
    m.add_argument("--overwrite", action="store_true")
    m.add_argument("--n", type=_int_at_least(1), default=None, help="size of the synthetic population")
    m.add_argument("--instead", dest="instead", action="store_true", default=True,
                   help="(the default) add 'what the requester could have instead' to the report: the extract "
                        "transformed to the safeguarded route's conditions and assessed again; also writes "
                        "demo_instead.json (the section), demo_instead.parquet (the reduced extract) and "
                        "demo_instead.recipe.toml")
    m.add_argument("--no-instead", dest="instead", action="store_false",
                   help="the assessment only (no anonymised alternative)")
    return p


def _check_outputs(outputs: dict, overwrite, inputs: dict) -> None:
    """Refuse, before anything runs or is written, an output that may not be written: one
    that names an input or another output, or that :func:`idrisk._validation.output_path`
    refuses (an existing file without ``--overwrite``, a symbolic link...)."""
    from ._validation import check_distinct_outputs, output_path

    check_distinct_outputs({**inputs, **outputs})
    for p in outputs.values():
        if p is not None:
            output_path(p, overwrite=overwrite)


def _cmd_assess(ns) -> int:
    _check_outputs({"--output": ns.output, "--report": ns.report, "--instead": ns.instead}, ns.overwrite,
                   {"the input": ns.target})
    opts = {}
    target = Path(ns.target)
    is_config = target.suffix.lower() in (".toml", ".json")
    if not is_config and not ns.qi:
        raise _UsageError("--qi is required when assessing a data file (or pass a CONFIG.toml)")
    if ns.qi:
        opts["quasi_identifiers"] = _split(ns.qi)
    if ns.sensitive or ns.special_category:
        special = set(_split(ns.special_category))
        names = list(dict.fromkeys(_split(ns.sensitive) + sorted(special)))
        opts["sensitive"] = {s: {"special_category": s in special} for s in names}
    if ns.tier:
        tiers = _tiers(ns.tier)
        sens = opts.get("sensitive", {})
        for col, t in tiers.items():
            if col in sens:
                sens[col]["tier"] = t
        if any(c not in sens for c in tiers):
            opts["tiers"] = {c: t for c, t in tiers.items() if c not in sens}
    if ns.census:
        if ns.weights or ns.population_size is not None:
            raise _UsageError("--census declares every member of the population in the file: "
                              "give it without --weights and --population-size")
        opts["census"] = True
    if ns.direct_identifiers:
        opts["direct_identifiers"] = _split(ns.direct_identifiers)
    if ns.remove:
        opts["removed"] = _split(ns.remove)
    if ns.non_identifying:
        opts["non_identifying"] = _split(ns.non_identifying)
    if ns.weights:
        opts["weights"] = ns.weights
    if ns.population_size is not None:
        opts["population_size"] = ns.population_size
    if ns.seed is not None:
        opts["seed"] = ns.seed
    if ns.profile is not None:
        opts["profile"] = ns.profile
    log = logging.getLogger("idrisk")  # the assessment's warnings, shown as they happen
    shown = logging.StreamHandler(sys.stderr)
    shown.setFormatter(_PrintableFormatter("idrisk: warning: %(message)s"))
    log.addHandler(shown)
    try:
        with activity("idrisk assess", enabled=ns.progress):
            from .assessment import assess

            result = assess(config=target, progress=ns.progress, **opts) if is_config else \
                assess(target, progress=ns.progress, **opts)
    finally:
        log.removeHandler(shown)
    section = _instead(ns, result, target, is_config) if ns.instead else None
    if ns.output:
        result.to_json(ns.output, overwrite=ns.overwrite)
    if ns.report:
        result.to_html(ns.report, overwrite=ns.overwrite, instead=section)
    if ns.format == "json":
        sys.stdout.write(result.to_json())
    else:
        print(_printable(result.summary()))
    if result.passed or ns.nofail:
        return EXIT_OK
    return EXIT_BREACH


def _instead(ns, result, target: Path, is_config: bool):
    """--instead: what the requester could have instead (when the route is refer back or
    controlled), written to the named JSON file; None (and said) otherwise."""
    from ._validation import output_path

    if result.route.recommended not in ("refer back", "controlled"):
        print(f"idrisk: route {result.route.recommended}: no reduced extract needed (--instead not written)",
              file=sys.stderr)
        return None
    from .anonymise.instead import alternative_extract
    from .assessment.io import read_extract

    path = result.config.data_path() if is_config else target
    with activity("idrisk assess: the reduced extract", enabled=ns.progress):
        section, _ = alternative_extract(read_extract(path), result)
    output_path(Path(ns.instead), overwrite=ns.overwrite).write_text(
        json.dumps(section, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    print(f"what the requester could have instead: route {section['route_before']} -> {section['route_after']}; "
          f"wrote {ns.instead}", file=sys.stderr)
    return section


def _cmd_report(ns) -> int:
    from .assessment import AssessmentResult

    _check_outputs({"--report": ns.report}, ns.overwrite, {"the result": ns.result})
    instead = None
    if ns.instead:
        try:
            instead = json.loads(Path(ns.instead).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _UsageError(f"--instead: cannot read {ns.instead} as JSON ({type(exc).__name__})") from None
        if not isinstance(instead, dict) or not {"route_after", "levels", "indicators"} <= set(instead):
            raise _UsageError(f"--instead: {ns.instead} is not a 'what the requester could have instead' section "
                              "(as written by idrisk demo, demo_instead.json)")
    res = AssessmentResult.from_json(ns.result)
    res.to_html(ns.report, overwrite=ns.overwrite, instead=instead)
    print(f"wrote {ns.report}")
    return EXIT_OK


def _cmd_anonymise(ns) -> int:
    out = Path(ns.out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise _UsageError("--out must name a .parquet or .csv file")
    stem = out.with_suffix("")
    recipe = Path(ns.recipe) if ns.recipe else stem.with_name(stem.name + ".recipe.toml")
    result = Path(ns.output) if ns.output else stem.with_name(stem.name + ".result.json")
    outputs = {"--out": out, "--recipe": recipe, "--output": result}
    _check_outputs(outputs, ns.overwrite, {"the configuration": ns.config})
    from ._validation import output_path
    from .anonymise.config import run_config

    res, source = run_config(ns.config)
    _check_outputs(outputs, ns.overwrite, {"the configuration": ns.config, "the extract": source})
    data = res.data
    if out.suffix.lower() == ".parquet":
        data.to_parquet(output_path(out, overwrite=ns.overwrite), index=False)
    else:
        data.to_csv(output_path(out, overwrite=ns.overwrite), index=False)
    output_path(recipe, overwrite=ns.overwrite).write_text(res.recipe, encoding="utf-8")
    output_path(result, overwrite=ns.overwrite).write_text(res.to_json(), encoding="utf-8")
    levels = ", ".join(f"{_printable(q)}={v}" for q, v in res.levels.items())
    print(f"levels {levels}; {res.suppressed_records} records suppressed; loss {res.loss['loss']:.4f}")
    print(f"wrote {out}, {recipe} and {result}")
    return EXIT_OK


def _cmd_datasets(ns) -> int:
    from .datasets import main as datasets_main

    rc = datasets_main(list(ns.args))
    return int(rc or 0)


def _cmd_demo(ns) -> int:
    out = Path(ns.out)
    then = None
    if ns.instead:
        from ._validation import output_path

        paths = {"json": out / "demo_instead.json", "data": out / "demo_instead.parquet",
                 "recipe": out / "demo_instead.recipe.toml"}
        for p in paths.values():
            output_path(p, overwrite=ns.overwrite)

        def then(data, result):
            if result.route.recommended not in ("refer back", "controlled"):
                return None
            from .anonymise.instead import alternative_extract

            section, res = alternative_extract(data, result)
            out.mkdir(parents=True, exist_ok=True)
            paths["json"].write_text(json.dumps(section, indent=2, sort_keys=True, allow_nan=False) + "\n",
                                     encoding="utf-8")
            res.data.to_parquet(paths["data"], index=False)
            paths["recipe"].write_text(res.recipe, encoding="utf-8")
            print(f"what the requester could have instead: route {section['route_before']} -> "
                  f"{section['route_after']}; wrote {paths['json']}, {paths['data']} and {paths['recipe']}",
                  file=sys.stderr)
            return section
    with activity("idrisk demo"):
        from .assessment.demo import run_demo

        run_demo(out, overwrite=ns.overwrite, n=ns.n, then=then)
    return EXIT_OK


class _UsageError(Exception):
    pass


def _error_line(exc: BaseException) -> str:
    """The one line shown for an error: idrisk's and the system's own text, else the type only
    (the text of an unexpected exception could hold a record value)."""
    from .exceptions import IdRiskError

    if isinstance(exc, (IdRiskError, _UsageError, OSError)):
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
        return "; ".join(lines) if lines else type(exc).__name__
    return (f"unexpected {type(exc).__name__} (an unsupported input or an idrisk bug; "
            "rerun with --debug for the traceback)")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("idrisk: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except SystemExit as exc:  # a delegated argparse (datasets) exits on its own
        return EXIT_OK if exc.code in (None, 0) else EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - every failure is exit 2 with one line, never "breached"
        if debug:
            import traceback

            traceback.print_exc(file=sys.stderr)
        print(f"idrisk: error: {_printable(_error_line(exc))}", file=sys.stderr)
        return EXIT_ERROR


def _main(argv) -> int:
    parser = _parser()
    if argv and argv[0] == "datasets":  # hand everything after "datasets" to idrisk.datasets.main
        ns = argparse.Namespace(command="datasets", args=argv[1:])
    else:
        ns = parser.parse_args(argv)
    if not ns.command:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    handler = {"assess": _cmd_assess, "report": _cmd_report, "datasets": _cmd_datasets, "demo": _cmd_demo,
               "anonymise": _cmd_anonymise}
    fmt = warnings.formatwarning  # catch_warnings restores the filters, not the format
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.formatwarning = lambda m, c, *a, **k: f"idrisk: warning: {c.__name__}: {_printable(m)}\n"
        try:
            rc = handler[ns.command](ns)
        finally:
            warnings.formatwarning = fmt
    return rc if rc in (EXIT_OK, EXIT_BREACH) and ns.command == "assess" else (EXIT_OK if rc == 0 else EXIT_ERROR)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
