"""A small TOML writer for the assessment configuration (tables, arrays, inline tables).

``tomllib`` only reads TOML; the configuration holds strings, numbers, booleans, lists and
flat tables, which is all this writer supports.
"""

from __future__ import annotations

import json
import math
import re

__all__ = ["dumps"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(k) -> str:
    k = str(k)
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"TOML has no {v!r} here")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON string escapes are TOML basic-string escapes
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items() if x is not None) + " }" \
            if v else "{}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps(sections: list) -> str:
    """TOML text of ``[(header, table), ...]``; a header ``"[[x]]"`` is written as is.

    Keys whose value is None are left out (TOML has no null).
    """
    out = []
    for header, table in sections:
        lines = [f"{key(k)} = {value(v)}" for k, v in table.items() if v is not None]
        out.append("\n".join([header] + lines))
    return "\n\n".join(out) + "\n"
