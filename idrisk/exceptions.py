"""Exceptions and warnings raised by idrisk.

Every error a user can cause is one of these classes, so callers can catch
``IdRiskError`` and never see a numba or NumPy traceback for bad input.
"""

from __future__ import annotations


class IdRiskError(Exception):
    """Root of every idrisk error."""


class InvalidParameterError(IdRiskError, ValueError, TypeError):
    """A function argument has the wrong type or value."""


class DataValidationError(IdRiskError, ValueError):
    """The data given are not usable as they are (missing columns, empty frame, bad weights...)."""


class InvalidWeightsError(DataValidationError, InvalidParameterError):
    """Sampling weights that cannot be used: not real numbers, missing, infinite, zero,
    negative, too large to add up, or a Series whose index does not match the data's."""


class ResourceLimitError(DataValidationError):
    """The computation asked for exceeds a resource limit: more candidate pairs than ``max_pairs``
    or than the memory budget allows, more combinations than a search may visit, or more time
    than ``max_seconds``. Raised before the memory is allocated, or when the time runs out."""


class RiskThresholdExceeded(IdRiskError):
    """An assessment breached a policy threshold (raised by ``AssessmentResult.check``)."""

    def __init__(self, message: str, breaches=None):
        super().__init__(message)
        self.breaches = list(breaches or [])


class IdRiskWarning(UserWarning):
    """Root of every idrisk warning."""


class IdentifierWarning(IdRiskWarning):
    """A quasi-identifier looks like a direct identifier (a different value in nearly every row)."""


class DataQualityWarning(IdRiskWarning):
    """The data are usable but questionable (weights below 1, many missing values...)."""


class PerformanceWarning(IdRiskWarning):
    """The requested computation is large (many combinations, many missing-value patterns)."""
