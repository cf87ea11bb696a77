"""Old keyword names that keep working for one release (docs/conventions.md#names)."""

from __future__ import annotations

import functools
import warnings

from ..exceptions import InvalidParameterError

__all__ = ["renamed_keyword"]


def renamed_keyword(old: str, new: str):
    """Accept ``old=`` as a deprecated keyword for the parameter ``new`` (with a DeprecationWarning)."""

    def wrap(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            if old in kwargs:
                warnings.warn(f"{func.__name__}({old}=...) is deprecated and will be removed in the next release; "
                              f"use {new}=", DeprecationWarning, stacklevel=2)
                if new in kwargs or args:
                    raise InvalidParameterError(f"give {new} only ({old} is its deprecated name)")
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return inner

    return wrap
