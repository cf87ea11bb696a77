"""Property-based fuzzing of the binary extract readers: Parquet, Stata .dta and SPSS .sav.

Frames drawn by hypothesis are written by each format's own writer (pyarrow, pandas'
``to_stata``, pyreadstat) and must read back with the same columns and values; the same
files cut short or with bytes overwritten must read, or give one idrisk error on one line,
never another exception. Same budget as tests/test_hardening_fuzz.py: small in the suite,
``IDRISK_FUZZ_EXAMPLES=2000`` (``make fuzz``) for a larger run.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idrisk.assessment.io import read_extract
from idrisk.exceptions import DataValidationError

BUDGET = settings(max_examples=int(os.environ.get("IDRISK_FUZZ_EXAMPLES", "25")), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

#: column names every one of the three formats can hold (Stata: a letter, then letters, digits, _)
col_names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
text_values = st.one_of(st.none(), st.sampled_from(["F", "M", "", "é", "a,b", '"q"', "x y", "0", "NA"]),
                        st.text(alphabet=st.characters(codec="latin-1", exclude_categories=("Cc", "Cs")),
                                max_size=6))
int_values = st.integers(-1000, 1000)
float_values = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))


@st.composite
def frames(draw, max_rows=25):
    names = draw(st.lists(col_names, min_size=1, max_size=4, unique=True))
    n = draw(st.integers(1, max_rows))
    cols = {}
    for name in names:
        kind = draw(st.sampled_from(["int", "float", "text"]))
        if kind == "int":
            cols[name] = np.array(draw(st.lists(int_values, min_size=n, max_size=n)), dtype=np.int64)
        elif kind == "float":
            cols[name] = pd.array(draw(st.lists(float_values, min_size=n, max_size=n)), dtype="float64")
        else:
            # (Stata cannot write a text column holding no string at all)
            vals = draw(st.lists(text_values, min_size=n, max_size=n).filter(lambda v: any(x is not None for x in v)))
            cols[name] = pd.Series(vals, dtype=object)
    return pd.DataFrame(cols)


def _write(df: pd.DataFrame, path, fmt: str) -> None:
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    elif fmt == "dta":
        df.to_stata(path, write_index=False, version=118)
    else:
        import pyreadstat

        pyreadstat.write_sav(df, str(path))


def _same_value(a, b, fmt) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NA
    missing_b = b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA
    if missing_a or missing_b:
        # Stata and SPSS store a missing string as ""
        return (missing_a or a == "") and (missing_b or b == "")
    if isinstance(a, str) and fmt == "sav":
        return a.rstrip(" ") == b  # SPSS pads text with blanks: trailing blanks are not kept
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("fmt", ["parquet", "dta", "sav"])
@BUDGET
@given(df=frames())
def test_a_frame_written_by_the_formats_own_writer_reads_back(tmp_path, fmt, df):
    path = tmp_path / f"x.{fmt}"
    _write(df, path, fmt)
    back = read_extract(path)
    assert list(back.columns) == list(df.columns)
    assert len(back) == len(df)
    for c in df.columns:
        for a, b in zip(df[c].tolist(), back[c].tolist()):
            assert _same_value(a, b, fmt), (c, a, b)


@pytest.mark.parametrize("fmt", ["parquet", "dta", "sav"])
@BUDGET
@given(df=frames(max_rows=10), data=st.data())
def test_a_damaged_file_reads_or_gives_one_idrisk_error(tmp_path, fmt, df, data):
    path = tmp_path / f"x.{fmt}"
    _write(df, path, fmt)
    raw = bytearray(path.read_bytes())
    how = data.draw(st.sampled_from(["cut", "overwrite", "both"]))
    if how in ("cut", "both"):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    if how in ("overwrite", "both") and raw:
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path.write_bytes(bytes(raw))
    try:
        frame = read_extract(path)
    except DataValidationError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("x.")
        return
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
