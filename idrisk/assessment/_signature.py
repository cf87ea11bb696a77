"""Keyword checking for the assessment's public functions: renamed and unknown keywords."""

from __future__ import annotations

import functools
import inspect
import warnings

from ..exceptions import InvalidParameterError

__all__ = ["keywords"]


def keywords(*, renamed: dict | None = None):
    """Decorate a public function with an explicit signature.

    * an old keyword in ``renamed`` (old name -> new name) still works for one release, with
      a :class:`DeprecationWarning` (docs/conventions.md);
    * an unknown keyword raises :class:`~idrisk.exceptions.InvalidParameterError` naming it
      (Python's own ``TypeError`` would not say which options exist).

    The decorated function keeps its signature (``inspect.signature`` and ``help`` show it).
    """
    renamed = dict(renamed or {})

    def decorate(fn):
        params = inspect.signature(fn).parameters

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in renamed.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise InvalidParameterError(f"{fn.__name__}: give {new}= (or the deprecated {old}=), not both")
                warnings.warn(f"{fn.__name__}({old}=...) is deprecated; use {new}=", DeprecationWarning,
                              stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            unknown = sorted(k for k in kwargs if k not in params)
            if unknown:
                raise InvalidParameterError(f"unknown option(s) for {fn.__name__}: {', '.join(unknown)} "
                                            f"(known: {', '.join(p for p in params if p not in ('args',))})")
            return fn(*args, **kwargs)

        return wrapper

    return decorate
