"""Assessment: configuration, the ``assess`` pipeline, indicators, route, result and what-if.

``idrisk.assess``, ``idrisk.AssessmentConfig``, ``idrisk.AssessmentResult`` and
``idrisk.what_if`` are defined here (docs/methods.md#assessment).
"""

from .config import AssessmentConfig, Scenario, SensitiveAttribute, Thresholds, thresholds_from_dict
from .config_io import config_from_dict, load_config
from .mitigation import Candidate, Mitigations, RiskCounts, WhatIfResult, candidate_coarsenings, what_if
from .result import AssessmentResult, Content, Meta, ScenarioResult
from .run import assess

__all__ = ["assess", "AssessmentConfig", "AssessmentResult", "Scenario", "SensitiveAttribute", "Thresholds",
           "load_config", "config_from_dict", "thresholds_from_dict", "what_if", "candidate_coarsenings",
           "WhatIfResult", "Candidate", "RiskCounts", "Mitigations", "Meta", "Content", "ScenarioResult"]
