"""Risk metrics over encoded quasi-identifiers: frequencies, classes, diversity, uniques, risk.

Every metric takes ``data`` (a pandas frame, a pyarrow or polars table, or an
:class:`idrisk.Encoded` made once by :func:`idrisk.encode`) and ``quasi_identifiers``.
The implementation modules are private; this package re-exports the public functions
and result types, so ``idrisk.metrics.k_anonymity`` is the function. The formulas and
their papers are in ``docs/methods.md``.

``class_ids`` and ``frequency_arrays`` are the array-level entry points for callers that
already hold an :class:`~idrisk.Encoded` (the assessment, the mitigation what-if).
"""

from ._classes import class_ids
from ._combinations import combination_sweep
from ._frequencies import frequencies, frequency_arrays
from ._individual_risk import GlobalRiskResult, global_risk, individual_risk
from ._k_anonymity import KAnonymityResult, k_anonymity
from ._l_diversity import LDiversityResult, l_diversity
from ._population import (
    PopulationUniquenessResult,
    population_uniqueness,
    unique_match_probability,
    uniqueness_from_histogram,
)
from ._sample_risks import RISK_BUCKETS, AttackerRisk, SampleRisksResult, qi_importance, sample_risks
from ._suda import SudaResult, dis_suda_scores, msu_weights, suda
from ._t_closeness import TClosenessResult, t_closeness

__all__ = [
    "frequencies",
    "frequency_arrays",
    "class_ids",
    "k_anonymity",
    "KAnonymityResult",
    "l_diversity",
    "LDiversityResult",
    "t_closeness",
    "TClosenessResult",
    "sample_risks",
    "SampleRisksResult",
    "AttackerRisk",
    "qi_importance",
    "RISK_BUCKETS",
    "suda",
    "SudaResult",
    "msu_weights",
    "dis_suda_scores",
    "combination_sweep",
    "individual_risk",
    "global_risk",
    "GlobalRiskResult",
    "population_uniqueness",
    "PopulationUniquenessResult",
    "unique_match_probability",
    "uniqueness_from_histogram",
]
