"""One result convention for every public function.

Every result is a frozen dataclass deriving from :class:`Result`. ``to_dict()`` follows one
rule for all of them, so no result writes its own serialiser:

* every field is included under its own name, in declaration order, except fields declared
  with ``field(metadata=RECORD_LEVEL)``: per-record outputs (``fk``, scores, risks) are
  available as attributes but never serialised, so a result's dictionary is a safe output;
* values become plain JSON types through :func:`to_plain`: numpy scalars and arrays become
  Python numbers and lists, NaN and infinities become ``None`` (JSON ``null``), dictionary
  keys become strings, tuples and sets become lists (sets sorted), nested results and
  dataclasses are converted recursively, a pandas Series becomes a mapping from its index
  (as strings) to its values and a DataFrame a list of row mappings;
* a subclass adds derived aggregates by overriding :meth:`Result._extra_dict`, whose items
  are appended after the fields.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Result", "RECORD_LEVEL", "to_plain"]

#: ``field(metadata=RECORD_LEVEL)`` marks a per-record field that ``to_dict`` leaves out.
RECORD_LEVEL = {"record_level": True}


def to_plain(value: Any) -> Any:
    """``value`` as plain JSON-serialisable Python (see the module docstring for the rule)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [to_plain(v) for v in sorted(value, key=str)]
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_plain(v) for v in value.tolist()]
    if isinstance(value, pd.Series):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [{str(c): to_plain(v) for c, v in row.items()} for row in value.to_dict("records")]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


class Result:
    """Mixin for result dataclasses: one ``to_dict`` rule (see the module docstring)."""

    def _extra_dict(self) -> dict:
        """Derived aggregates appended to :meth:`to_dict` (none by default)."""
        return {}

    def to_dict(self) -> dict:
        """JSON-serialisable summary: every field but the record-level ones, NaN as ``None``."""
        out = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("record_level"):
                continue
            out[f.name] = to_plain(getattr(self, f.name))
        for k, v in self._extra_dict().items():
            out[str(k)] = to_plain(v)
        return out
