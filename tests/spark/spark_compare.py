"""Comparison helpers: a Spark path's result against the pandas path's on the same data."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

RTOL = 1e-12


def close(a, b, path="") -> None:
    """Equal, floats to 1e-12 relative, recursing into dicts, lists and tuples."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), (path, a, b)
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{i}]")
    elif isinstance(a, (float, np.floating)) and not isinstance(b, (int, np.integer)) or \
            isinstance(b, (float, np.floating)):
        if a is None or b is None:
            assert a is b, (path, a, b)
        elif math.isnan(a):
            assert math.isnan(b), (path, a, b)
        else:
            assert math.isclose(a, b, rel_tol=RTOL, abs_tol=0), (path, a, b)
    else:
        assert a == b and type(a) is type(b) or (isinstance(a, (int, np.integer)) and a == b), (path, a, b)


def aggregate_fields(res) -> dict:
    """The result's fields that are not per-record (compare=True in the dataclass)."""
    return {f.name: getattr(res, f.name) for f in dataclasses.fields(res) if f.compare}


def same_result(local, spark_res) -> None:
    """The two results' aggregate fields and their ``to_dict()`` agree (see :func:`close`)."""
    assert isinstance(spark_res, type(local))
    close(aggregate_fields(local), aggregate_fields(spark_res), type(local).__name__)
    close(local.to_dict(), spark_res.to_dict(), "to_dict")


def per_record(sdf, pdf: pd.DataFrame, columns, order) -> pd.DataFrame:
    """The Spark per-record output collected (for the test only), rows in the order of ``pdf``.

    ``order`` is a column of ``pdf`` holding the row number, carried through Spark.
    """
    got = sdf.select(order, *columns).toPandas().sort_values(order).reset_index(drop=True)
    assert len(got) == len(pdf)
    return got
