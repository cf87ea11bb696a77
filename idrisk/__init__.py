"""idrisk: how identifiable are the people in a data extract?

The public API is re-exported here; modules are imported lazily on first use so that
``import idrisk`` stays fast and a CLI call compiles only the kernels it needs.
"""

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    # encoding
    "encode": "idrisk._encode",
    "Encoded": "idrisk._encode",
    # metrics (re-exported by idrisk.metrics)
    "frequencies": "idrisk.metrics",
    "k_anonymity": "idrisk.metrics",
    "KAnonymityResult": "idrisk.metrics",
    "l_diversity": "idrisk.metrics",
    "LDiversityResult": "idrisk.metrics",
    "t_closeness": "idrisk.metrics",
    "TClosenessResult": "idrisk.metrics",
    "sample_risks": "idrisk.metrics",
    "SampleRisksResult": "idrisk.metrics",
    "AttackerRisk": "idrisk.metrics",
    "qi_importance": "idrisk.metrics",
    "suda": "idrisk.metrics",
    "SudaResult": "idrisk.metrics",
    "combination_sweep": "idrisk.metrics",
    "individual_risk": "idrisk.metrics",
    "global_risk": "idrisk.metrics",
    "GlobalRiskResult": "idrisk.metrics",
    "population_uniqueness": "idrisk.metrics",
    "PopulationUniquenessResult": "idrisk.metrics",
    "unique_match_probability": "idrisk.metrics",
    # simulated intruder
    "simulate_intruder": "idrisk.intruder",
    "IntruderScenario": "idrisk.intruder",
    # assessment
    "assess": "idrisk.assessment",
    "AssessmentConfig": "idrisk.assessment",
    "AssessmentResult": "idrisk.assessment",
    "load_config": "idrisk.assessment",
    "what_if": "idrisk.assessment",
    "WhatIfResult": "idrisk.assessment",
    # anonymisation
    "AnonymiseResult": "idrisk.anonymise",
    # errors
    "IdRiskError": "idrisk.exceptions",
    "InvalidParameterError": "idrisk.exceptions",
    "DataValidationError": "idrisk.exceptions",
    "RiskThresholdExceeded": "idrisk.exceptions",
    "ResourceLimitError": "idrisk.exceptions",
    "IdRiskWarning": "idrisk.exceptions",
    "IdentifierWarning": "idrisk.exceptions",
    "DataQualityWarning": "idrisk.exceptions",
    "PerformanceWarning": "idrisk.exceptions",
}

_SUBMODULES = ("anonymise", "datasets", "intruder", "metrics", "spark")  # idrisk.anonymise is also callable

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"idrisk.{name}")
    if name in _LAZY:
        if _LAZY[name] in ("idrisk.metrics", "idrisk.intruder"):
            # registers the Spark engine with the metrics and the intruder (imports no pyspark)
            import_module("idrisk.spark")
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'idrisk' has no attribute {name!r}")


def __dir__():
    return __all__
