"""One source for the assessment's result types, their JSON schema and their JSON reading.

The result types of an assessment are frozen dataclasses (deriving
:class:`idrisk._results.Result`) whose field annotations say everything about the JSON
they serialise to. This module reads those annotations for two jobs, so the schema and
the types cannot drift apart:

* :func:`schema_of` gives the JSON schema of a type (``docs/report-schema.json`` is made
  from it); constraints ride on ``typing.Annotated`` metadata (``Count``, ``Share``...);
* :func:`from_plain` rebuilds typed values from parsed JSON (``AssessmentResult.from_dict``).

Supported annotations: ``int``, ``float``, ``str``, ``bool``, ``None`` and unions of them,
``Literal[...]`` (an enum), ``list[T]``, ``dict[K, V]`` (``K`` one of str, int, float:
JSON keys are strings and are converted back), dataclasses (every field is required but
those whose default is None: keys that results written before them lack), ``TypedDict``
(optional keys) and ``dict`` (a free-form object, or a row of a table whose columns vary:
its schema rides on ``Annotated``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
import warnings
from typing import Annotated, Any, Literal, Union, get_args, get_origin

__all__ = ["Count", "Share", "schema_of", "from_plain", "rounded", "ItemAccess"]

#: a count of records, classes or claims
Count = Annotated[int, {"minimum": 0}]
#: a share or probability
Share = Annotated[float, {"minimum": 0, "maximum": 1}]

_SCALARS = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}


@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls, include_extras=True)


def _split(tp):
    """(base type, merged Annotated metadata)."""
    extra: dict = {}
    while get_origin(tp) is Annotated:
        tp, *meta = get_args(tp)
        for m in meta:
            extra.update(m)
    return tp, extra


def _scalar(tp) -> str | None:
    """The JSON type name of a scalar annotation, else None."""
    return _SCALARS.get(tp) if isinstance(tp, type) else None


def _is_union(tp) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _is_typeddict(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def _first_line(cls) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def schema_of(tp, defs: dict) -> dict:
    """JSON schema of the annotation ``tp``; dataclasses are added to ``defs`` and referenced."""
    tp, extra = _split(tp)
    if _is_union(tp):
        args = [a for a in get_args(tp)]
        if all(_scalar(_split(a)[0]) for a in args):
            names = [_scalar(_split(a)[0]) for a in args]
            if "number" in names and "integer" in names:
                names.remove("integer")
            out = {"type": names}
        else:
            out = {"anyOf": [schema_of(a, defs) for a in args]}
    elif _scalar(tp):
        out = {"type": _scalar(tp)}
    elif get_origin(tp) is Literal:
        values = list(get_args(tp))
        out = {"type": _SCALARS[type(values[0])], "enum": values}
    elif get_origin(tp) is list:
        out = {"type": "array", "items": schema_of(get_args(tp)[0], defs)}
    elif get_origin(tp) is dict:
        out = {"type": "object", "additionalProperties": schema_of(get_args(tp)[1], defs)}
    elif dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder: a type may refer to itself
            fields = dataclasses.fields(tp)
            hints = _hints(tp)
            defs[name] = {
                "description": _first_line(tp), "type": "object",
                "required": [f.name for f in fields if f.default is not None],
                "additionalProperties": False,
                "properties": {f.name: schema_of(hints[f.name], defs) for f in fields}}
        out = {"$ref": f"#/$defs/{name}"}
    elif _is_typeddict(tp):
        hints = _hints(tp)
        out = {"type": "object", "additionalProperties": False,
               "properties": {k: schema_of(v, defs) for k, v in hints.items()}}
        if tp.__required_keys__:
            out["required"] = sorted(tp.__required_keys__)
    elif tp is dict:
        out = {"type": "object"}
    elif tp is Any:
        out = {}
    else:
        raise TypeError(f"no JSON schema for the annotation {tp!r}")
    for key, value in extra.items():
        out[key] = value
    return out


def from_plain(tp, value):
    """The typed value of annotation ``tp`` for the parsed JSON ``value`` (already validated).

    Numbers are kept as JSON gave them (an integer stays an integer), so a result read back
    serialises to the same JSON.
    """
    tp, _ = _split(tp)
    if value is None:
        return None
    if _is_union(tp):
        for arg in get_args(tp):
            base = _split(arg)[0]
            if isinstance(value, dict) and (dataclasses.is_dataclass(base) or _is_typeddict(base)):
                return from_plain(base, value)
            if isinstance(value, list) and get_origin(base) is list:
                return from_plain(base, value)
        return value
    if get_origin(tp) is list:
        item = get_args(tp)[0]
        return [from_plain(item, v) for v in value]
    if get_origin(tp) is dict:
        key_type, item = get_args(tp)
        key_type = _split(key_type)[0]
        items = [(key_type(k) if key_type in (int, float) else k, from_plain(item, v)) for k, v in value.items()]
        if key_type in (int, float):
            items.sort(key=lambda kv: kv[0])
        return dict(items)
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{f.name: from_plain(hints[f.name], value[f.name])
                     for f in dataclasses.fields(tp) if f.name in value})
    if _is_typeddict(tp):
        hints = _hints(tp)
        return {k: from_plain(hints[k], v) for k, v in value.items()}
    return value


def rounded(value):
    """``value`` (plain JSON types) with floats rounded to 12 significant digits.

    The assessment's JSON carries rounded floats so the same inputs and seed give the same
    bytes on every platform (the last bits of a float sum depend on the order of addition).
    """
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.12g}") if math.isfinite(value) else None
    return value


class ItemAccess:
    """Read a result's fields as items, ``result["route"]``: deprecated, use attributes.

    Item access keeps code that reads results as dictionaries working for one release,
    with a :class:`DeprecationWarning`.
    """

    def _item(self, key):
        names = {f.name for f in dataclasses.fields(self)}
        if key not in names:
            raise KeyError(key)
        warnings.warn(f"{type(self).__name__}[{key!r}] is deprecated; read the attribute "
                      f"{type(self).__name__}.{key}", DeprecationWarning, stacklevel=3)
        return getattr(self, key)

    def __getitem__(self, key):
        return self._item(key)

    def get(self, key, default=None):
        """Deprecated: ``getattr(result, key, default)``."""
        try:
            return self._item(key)
        except KeyError:
            return default
