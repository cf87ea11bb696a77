"""Deprecated: the what-if mitigations live in :mod:`idrisk.assessment.mitigation`.

Use ``idrisk.what_if`` (or ``from idrisk.assessment import what_if``); this module keeps
old imports working for one release.
"""

import warnings

from .assessment.mitigation import candidate_coarsenings, what_if

__all__ = ["what_if", "candidate_coarsenings"]

warnings.warn("idrisk.mitigation is deprecated; use idrisk.what_if or idrisk.assessment.what_if",
              DeprecationWarning, stacklevel=2)
