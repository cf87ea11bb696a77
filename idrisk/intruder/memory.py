"""The memory budget of a linkage: candidate pairs are counted, and their memory estimated, before
any pair is allocated.

The numba engine holds, per candidate pair, the extract row (int64), the target (int64), one
comparison code per field (int8) and the pair's weight (float64), and normalising the weights
per target takes three more float64 arrays of the same length for a moment. Measured peaks
(``/usr/bin/time -v``, 16 to 184 million pairs) were 50.0 to 52.0 bytes a pair with 3 exact fields,
54.4 with 6 and 58.2 with 10, and 71 bytes with Jaro-Winkler fields (``np.unique`` over the pairs'
value codes): :func:`linkage_bytes` uses ``52 + k`` and ``70 + k`` bytes a pair for ``k`` fields,
above each measurement. The number of pairs of one blocking pass is exact from
the block sizes, ``sum_b n_extract(b) n_auxiliary(b)`` (:func:`pass_pair_counts`); the union of
several passes lies between the largest pass and their sum.

The budget (``memory_budget=`` of :func:`idrisk.intruder.simulate_intruder` and
:func:`idrisk.intruder.run_scenarios`; ``IDRISK_MEMORY_BUDGET`` in the environment) is a
number of bytes or a text such as ``"6GB"`` or ``"512MiB"``. The default is a quarter of the
machine's physical memory, at most 4 GiB (:data:`DEFAULT_BUDGET_CAP`): 4 GiB on a 24 GB
machine, leaving room for the data, the interpreter and whatever else runs. It bounds the
candidate pairs; the process's own footprint (the frames, the interpreter, the compiled
kernels: about 0.3 GB for 200,000 pupils) comes on top.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np

from ..exceptions import InvalidParameterError, ResourceLimitError

__all__ = ["DEFAULT_BUDGET_CAP", "BUDGET_ENV", "default_memory_budget", "check_memory_budget", "linkage_bytes",
           "pass_pair_counts", "check_pairs", "format_bytes"]

#: the default budget is a quarter of physical memory, at most this (4 GiB)
DEFAULT_BUDGET_CAP = 4 * 2 ** 30
#: environment variable that sets the default budget
BUDGET_ENV = "IDRISK_MEMORY_BUDGET"
#: bytes a candidate pair, plus one a field (exact, numeric and date comparisons)
BYTES_PER_PAIR = 52
#: bytes a candidate pair, plus one a field, when a field is compared by Jaro-Winkler
BYTES_PER_PAIR_STRING = 70

_UNITS = {"": 1, "b": 1, "kb": 10 ** 3, "mb": 10 ** 6, "gb": 10 ** 9, "tb": 10 ** 12,
          "kib": 2 ** 10, "mib": 2 ** 20, "gib": 2 ** 30, "tib": 2 ** 40}


def _physical_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not a POSIX system
        return None


def default_memory_budget() -> int:
    """``IDRISK_MEMORY_BUDGET`` when set, else a quarter of physical memory, at most 4 GiB."""
    env = os.environ.get(BUDGET_ENV, "").strip()
    if env:
        return check_memory_budget(env, name=BUDGET_ENV)
    phys = _physical_memory()
    return DEFAULT_BUDGET_CAP if not phys else min(DEFAULT_BUDGET_CAP, phys // 4)


def check_memory_budget(value, *, name: str = "memory_budget") -> int:
    """The budget in bytes: ``None`` (the default), a positive whole number of bytes, or a text
    such as ``"6GB"``, ``"512 MiB"`` (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)."""
    if value is None:
        return default_memory_budget()
    bad = (f"{name} must be a positive number of bytes or a size such as '6GB' or '512MiB', "
           f"got {type(value).__name__}")
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", value)
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise InvalidParameterError(f"{bad} {value[:40]!r}")
        out = float(m.group(1)) * _UNITS[unit]
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = int(value)
    else:
        raise InvalidParameterError(bad)
    if not (1 <= out < 2 ** 63):
        raise InvalidParameterError(f"{bad} {value!r}"[:200])
    return int(out)


def linkage_bytes(n_pairs: int, n_fields: int, *, string_fields: bool = False) -> int:
    """Estimated peak bytes of ``n_pairs`` candidate pairs compared on ``n_fields`` fields."""
    per = (BYTES_PER_PAIR_STRING if string_fields else BYTES_PER_PAIR) + int(n_fields)
    return int(n_pairs) * per


def pass_pair_counts(block_e, block_a) -> list[int]:
    """Candidate pairs of each blocking pass on its own: ``sum_b n_extract(b) n_auxiliary(b)``.

    ``block_e`` and ``block_a`` are sequences (one per pass) of the block id of every extract
    and auxiliary record (``-1``: a key is missing, no pair).
    """
    out = []
    for e, a in zip(block_e, block_a):
        e = np.asarray(e)
        a = np.asarray(a)
        size = int(max(e.max(initial=-1), a.max(initial=-1))) + 1
        ce = np.bincount(e[e >= 0], minlength=size).astype(np.int64)
        ca = np.bincount(a[a >= 0], minlength=size).astype(np.int64)
        out.append(int(ce @ ca))  # at most n_extract * n_auxiliary: no overflow below 3e9 records each
    return out


def format_bytes(n: float) -> str:
    """``n`` bytes in GiB or MiB (powers of 1024, one decimal), or in bytes below 1 MiB."""
    if n >= 2 ** 30:
        return f"{n / 2 ** 30:,.1f} GiB"
    if n >= 2 ** 20:
        return f"{n / 2 ** 20:,.1f} MiB"
    return f"{int(n):,} bytes"


def check_pairs(n_pairs: int, fields, passes, *, max_pairs: int, memory_budget: int, per_pass=None,
                at_least: bool = False) -> None:
    """Refuse ``n_pairs`` candidate pairs above ``max_pairs`` or above the memory budget.

    ``per_pass``: the pairs of each pass on its own (named in the message); ``at_least``: the
    count is a lower bound (the largest pass), the union not counted yet.
    """
    string = any(getattr(f, "kind", "exact") == "string" for f in fields)
    need = linkage_bytes(n_pairs, len(fields), string_fields=string)
    how = "at least " if at_least else ""
    passes_txt = "; ".join(
        f"[{', '.join(map(str, p))}]" + (f" {c:,}" if per_pass is not None else "")
        for p, c in zip(passes, per_pass if per_pass is not None else [None] * len(passes)))
    advice = ("block on more or finer variables (or add a variable to each pass), target fewer records "
              "(the scenario's targets; intruder_targets in an assessment)")
    if need > memory_budget:
        per = need / max(n_pairs, 1)
        raise ResourceLimitError(
            f"blocking gives {how}{n_pairs:,} candidate pairs (passes: {passes_txt}), about "
            f"{format_bytes(need)} at {math.ceil(per)} bytes a pair, more than the memory budget of "
            f"{format_bytes(memory_budget)}; nothing was allocated. {advice[0].upper() + advice[1:]}, or, "
            f"if the machine has the memory, raise memory_budget (intruder_memory_budget "
            f"in an assessment's [analysis], or {BUDGET_ENV}; max_pairs={max_pairs:,} caps the pairs too)")
    if n_pairs > max_pairs:
        raise ResourceLimitError(
            f"blocking gives {how}{n_pairs:,} candidate pairs, more than max_pairs={max_pairs:,} "
            f"(passes: {passes_txt}); {advice}, or raise max_pairs")
