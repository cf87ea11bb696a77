"""Reading an extract file, checking that its content is what its extension claims,
and fingerprinting the input (SHA-256)."""

from __future__ import annotations

import gzip
import hashlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError

__all__ = ["read_extract", "sniff_format", "fingerprint_file", "fingerprint_frame"]

_EXT = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".dta": "stata", ".sav": "spss",
        ".zsav": "spss"}
_LABEL = {"csv": "CSV text", "gzip-csv": "gzip-compressed CSV", "parquet": "Parquet", "stata": "Stata .dta",
          "spss": "SPSS .sav", "gzip": "gzip-compressed data", "zip": "a zip archive", "binary": "binary data",
          "html": "an HTML page", "empty": "an empty file"}


def _claimed(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz" and suffixes[-2] in (".csv", ".txt"):
        return "gzip-csv"
    ext = suffixes[-1] if suffixes else ""
    if ext not in _EXT:
        raise DataValidationError(
            f"{path.name}: unsupported file type {ext or '(no extension)'!r}; use .csv, .csv.gz, .parquet, "
            ".dta (Stata) or .sav (SPSS)")
    return _EXT[ext]


def sniff_format(path) -> str:
    """What the first bytes of ``path`` say it is (independent of its name)."""
    p = Path(path)
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if not head:
        return "empty"
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:4] in (b"$FL2", b"$FL3"):
        return "spss"
    if head.startswith(b"<stata_dta>") or (len(head) > 2 and head[0] in range(102, 120) and head[1] in (1, 2)
                                           and head[2] == 1):
        return "stata"
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(p, "rb") as fh:
                inner = fh.read(4096)
        except (OSError, EOFError):  # not gzip after all, or cut short
            return "gzip"
        return "gzip-csv" if inner and b"\x00" not in inner else "gzip"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if b"\x00" in head:
        return "binary"
    text = head.lstrip().lower()
    if text.startswith(b"<!doctype html") or text.startswith(b"<html"):
        return "html"
    return "csv"


def _check_header(p: Path) -> None:
    """Refuse a CSV header naming a column twice (pandas would rename the second ``la.1``)."""
    header = pd.read_csv(p, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
    seen, dup = set(), []
    for name in header:
        if name in seen and name not in dup:
            dup.append(name)
        seen.add(name)
    if dup:
        raise DataValidationError(f"{p.name}: the header names {len(dup)} column(s) more than once: {', '.join(dup)}")


def read_extract(path) -> pd.DataFrame:
    """Read an extract; raise :class:`DataValidationError` if the content contradicts the extension."""
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"extract file not found: {p}")
    claimed = _claimed(p)
    actual = sniff_format(p)
    if actual != claimed:
        raise DataValidationError(
            f"{p.name}: the extension says {_LABEL[claimed]} but the content is {_LABEL.get(actual, actual)}; "
            "rename the file or export it again in the format its name claims")
    try:
        if claimed in ("csv", "gzip-csv"):
            _check_header(p)
            # a first row longer than the header would silently become the index (every
            # column shifted by one): refused, as pandas' ParserWarning made an error
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(p, low_memory=False, index_col=False)
        elif claimed == "parquet":
            frame = pd.read_parquet(p)
        elif claimed == "stata":
            frame = pd.read_stata(p, convert_categoricals=True)
        else:
            import pyreadstat

            frame, _meta = pyreadstat.read_sav(str(p), apply_value_formats=True)
    except DataValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - a reader's own error, re-raised as one clear line
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, pd.errors.ParserWarning):
            msg = "a row has more fields than the header"
        raise DataValidationError(f"{p.name}: could not be read as {_LABEL[claimed]}: {msg}") from None
    if len(frame) == 0:
        raise DataValidationError(f"{p.name}: the extract has no rows")
    return frame


def fingerprint_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _as_bytes(value):
    """Text as UTF-8 bytes, an unpaired surrogate kept (distinct strings stay distinct)."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's content: column names, dtypes and a per-row hash of the values.

    Text holding an unpaired surrogate (not valid Unicode, which pandas cannot hash) is
    hashed as its bytes, in the columns that hold it."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    try:
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    except UnicodeEncodeError:
        safe = frame.copy(deep=False)
        for j in range(frame.shape[1]):
            if frame.iloc[:, j].dtype == object:
                safe.isetitem(j, frame.iloc[:, j].map(_as_bytes))
        rows = pd.util.hash_pandas_object(safe, index=False).to_numpy(dtype=np.uint64)
    h.update(np.ascontiguousarray(rows).tobytes())
    return h.hexdigest()
