"""Assessment: configuration, the ``assess`` pipeline, indicators, route and result.

``idrisk.assess``, ``idrisk.AssessmentConfig`` and ``idrisk.AssessmentResult`` are defined here.
"""

from .config import AssessmentConfig, Scenario, SensitiveAttribute, Thresholds, load_config
from .result import AssessmentResult
from .run import assess

__all__ = ["assess", "AssessmentConfig", "AssessmentResult", "Scenario", "SensitiveAttribute", "Thresholds",
           "load_config"]
