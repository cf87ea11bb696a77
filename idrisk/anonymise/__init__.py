"""Anonymisation: optimal full-domain generalisation with record suppression (ARX's model).

``anonymise(data, quasi_identifiers, hierarchies=..., k=..., suppression_limit=...)`` finds the
anonymous node of least information loss; ``apply_recipe`` replays its recipe;
``local_suppression`` suppresses single cells to k-anonymity under the wildcard rule. Hierarchies are
tables (ARX's format), parent maps or the ladders ``bands``, ``dates`` and ``prefixes``.
See ``docs/methods.md#anonymisation``.
"""

import sys
import types

from . import api, bounds, conditions, hierarchy, lattice, local, recipe, search, validity, verify
from .api import AnonymiseResult, anonymise, apply_recipe
from .hierarchy import Hierarchy, Ladder, bands, dates, prefixes
from .local import LocalSuppressionResult, local_suppression
from .validity import analysis_validity

__all__ = ["anonymise", "apply_recipe", "AnonymiseResult", "Hierarchy", "Ladder", "bands", "dates", "prefixes",
           "local_suppression", "LocalSuppressionResult", "analysis_validity",
           "api", "bounds", "conditions", "hierarchy", "lattice", "local", "recipe", "search", "validity", "verify"]


class _CallableModule(types.ModuleType):
    """``idrisk.anonymise(...)`` calls :func:`anonymise`; ``idrisk.anonymise.bands`` etc. still work."""

    def __call__(self, *args, **kwargs):
        return anonymise(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
