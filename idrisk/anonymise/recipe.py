"""Recipes: the TOML text that replays an anonymisation (levels, conditions, hierarchies).

A recipe names the quasi-identifiers, the chosen level of each, the conditions (``k``,
distinct ``l`` per sensitive column, the suppression limit) and every hierarchy in a form
that rebuilds it: a table as its rows, a ladder as its parameters (rebuilt from the values
of the data it is applied to). Replaying applies the same levels and suppresses every record
of every class that fails the conditions, so the same data give identical output.
"""

from __future__ import annotations

import json
import tomllib

from ..assessment._toml import key as toml_key
from ..assessment._toml import value as toml_value
from ..exceptions import InvalidParameterError

__all__ = ["dump_recipe", "load_recipe"]

_HEADER = "# idrisk anonymisation recipe: replay with idrisk.anonymise.apply_recipe(data, recipe)\n"


def _value(v) -> str:
    """TOML text of ``v`` by the assessment's TOML writer, refused as a recipe error."""
    try:
        return toml_value(v)
    except (TypeError, ValueError):
        what = "a non-finite number" if isinstance(v, float) else f"a {type(v).__name__}"
        raise InvalidParameterError(f"a recipe cannot hold {what}") from None


def _row(row) -> str:
    """TOML text of a table row: a row of strings written at once (JSON's array of strings,
    with its ``", "`` separator, is the TOML the writer gives), anything else value by value."""
    if all(type(x) is str for x in row):
        return json.dumps(row, ensure_ascii=False)
    return _value(row)


def _table(name: str, items: dict) -> str:
    lines = [f"[{name}]"]
    for key, v in items.items():
        if isinstance(v, list) and v and isinstance(v[0], list):
            lines.append(f"{toml_key(key)} = [")
            lines.extend(f"  {_row(row)}," for row in v)
            lines.append("]")
        else:
            lines.append(f"{toml_key(key)} = {_value(v)}")
    return "\n".join(lines) + "\n"


def dump_recipe(quasi_identifiers, levels: dict, k: int, suppression_limit: float, l_diversity: dict,
                hierarchies: dict, local_suppression: bool = False) -> str:
    """The recipe text (deterministic: same inputs, same bytes)."""
    parts = [_HEADER, _table("anonymise", {
        "quasi_identifiers": [str(q) for q in quasi_identifiers],
        "k": int(k),
        "suppression_limit": float(suppression_limit),
        **({"local_suppression": True} if local_suppression else {}),
    })]
    parts.append(_table("anonymise.levels", {str(q): int(levels[q]) for q in quasi_identifiers}))
    if l_diversity:
        parts.append(_table("anonymise.l_diversity", {str(c): int(v) for c, v in l_diversity.items()}))
    for q in quasi_identifiers:
        parts.append(_table(f"hierarchies.{toml_key(q)}", hierarchies[q]))
    return "\n".join(parts)


def load_recipe(text: str) -> dict:
    """The parts of a recipe: quasi_identifiers, levels, k, suppression_limit, l_diversity, hierarchies."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameterError(f"the recipe is not valid TOML: {exc}") from None
    try:
        a = doc["anonymise"]
        qis = list(a["quasi_identifiers"])
        return {"quasi_identifiers": qis, "levels": dict(a["levels"]), "k": a["k"],
                "suppression_limit": a["suppression_limit"], "l_diversity": dict(a.get("l_diversity", {})),
                "local_suppression": a.get("local_suppression", False),
                "hierarchies": {q: doc["hierarchies"][q] for q in qis}}
    except (KeyError, TypeError) as exc:
        raise InvalidParameterError(f"the recipe lacks {exc.args[0]!r}") from None
