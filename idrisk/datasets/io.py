"""Writing the synthetic population to Parquet or CSV, and the ``datasets make`` command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

from .._validation import output_path
from ..exceptions import IdRiskError, InvalidParameterError
from .._validation import check_seed
from ._places import check_n
from .population import make_population

__all__ = ["write_population", "write_frame", "main", "build_parser"]

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".csv.gz": "csv"}


def _format_of(path: Path) -> str:
    name = path.name.lower()
    for ext, fmt in sorted(_FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(ext):
            return fmt
    raise InvalidParameterError(
        f"cannot tell the file format of {str(path)!r}: use a name ending in .parquet, .pq, "
        ".csv or .csv.gz")


def _to_arrow(frame: pd.DataFrame, *, for_csv: bool):
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if not for_csv:
        return table
    cols = []
    for field, col in zip(table.schema, table.columns):
        if pa.types.is_dictionary(field.type):
            col = col.cast(field.type.value_type)
        elif pa.types.is_timestamp(field.type):
            col = col.cast(pa.date32())  # dates of birth: write YYYY-MM-DD
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


def write_frame(frame: pd.DataFrame, path, *, overwrite: bool = False) -> Path:
    """Write ``frame`` to ``path`` as Parquet or CSV (by extension), deterministically.

    Parquet is written by pyarrow with zstd compression and statistics; CSV by pyarrow's
    CSV writer (header, comma, dates as YYYY-MM-DD, missing as empty), gzip when the name
    ends in ``.gz``. The same frame always gives the same bytes. An existing file is
    replaced only with ``overwrite=True``.
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    fmt = _format_of(path)
    if path.exists() and not overwrite:
        raise InvalidParameterError(f"{str(path)!r} exists; pass overwrite=True to replace it")
    output_path(path, overwrite=overwrite)  # a symbolic link there: refused (see the function)
    if path.parent and not path.parent.exists():
        raise InvalidParameterError(f"the folder of {str(path)!r} does not exist")
    tmp = path.with_name(path.name + ".part")
    try:
        if fmt == "parquet":
            pq.write_table(_to_arrow(frame, for_csv=False), tmp, compression="zstd")
        else:
            table = _to_arrow(frame, for_csv=True)
            if path.name.lower().endswith(".gz"):
                import gzip

                # mtime=0 and no file name in the header: identical bytes run to run
                with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                          filename="") as gz:
                    pacsv.write_csv(table, gz)
            else:
                pacsv.write_csv(table, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_population(path, n: int, *, seed: int = 0, progress: bool | None = None,
                     overwrite: bool = False) -> Path:
    """Generate ``make_population(n, seed=seed)`` and write it to ``path``.

    The format follows the extension (``.parquet``/``.pq`` or ``.csv``/``.csv.gz``); the
    same ``n`` and ``seed`` give byte-identical files (with the same versions of pandas and
    pyarrow). An existing file is replaced only with ``overwrite=True``. Returns the path
    written.
    """
    n = check_n(n)
    seed = check_seed(seed)
    path = Path(path)
    _format_of(path)  # fail before generating
    frame = make_population(n, seed=seed, progress=progress)
    return write_frame(frame, path, overwrite=overwrite)


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Arguments of ``idrisk datasets`` (a ``make`` sub-command), added to ``parser``."""
    if parser is None:
        parser = argparse.ArgumentParser(
            prog="idrisk datasets",
            description="Generate the synthetic pupil population.")
    sub = parser.add_subparsers(dest="datasets_command", metavar="COMMAND")
    sub.required = True
    make = sub.add_parser("make", help="write a synthetic pupil population to Parquet or CSV",
                          description="Write a synthetic pupil population (one row per pupil) "
                                      "to Parquet or CSV, chosen by the file extension.")
    make.add_argument("--n", type=int, required=True, help="number of pupils (1 .. 20,000,000)")
    make.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    make.add_argument("--out", required=True, help="output file: .parquet, .pq, .csv or .csv.gz")
    make.add_argument("--overwrite", action="store_true",
                      help="replace an existing file (by default an existing file is refused)")
    # the refusal is the default; the old flag is still accepted and changes nothing
    make.add_argument("--no-overwrite", action="store_true", help=argparse.SUPPRESS)
    make.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                      help="show a progress bar (default: only on a terminal)")
    sub.add_parser("list", help="list the bundled real public datasets")
    return parser


def main(argv=None) -> int:
    """Entry point of ``idrisk datasets``; returns the exit code (0 ok, 2 usage/data error).

    ``idrisk datasets make --n 1000000 --seed 1 --out pupils.parquet``
    ``idrisk datasets list``
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    try:
        if args.datasets_command == "make":
            path = write_population(args.out, args.n, seed=args.seed, progress=args.progress,
                                    overwrite=args.overwrite)
            print(f"wrote {args.n:,} synthetic pupils (seed {args.seed}) to {path}")
        elif args.datasets_command == "list":
            from .public import list_public

            try:
                for row in list_public().itertuples(index=False):
                    print(f"{row.name:<32} {row.rows:>8,} rows  {row.description}")
            except BrokenPipeError:  # e.g. piped into `head`
                sys.stderr.close()
    except IdRiskError as exc:
        print(f"idrisk datasets: error: {exc}", file=sys.stderr)
        return 2
    return 0
