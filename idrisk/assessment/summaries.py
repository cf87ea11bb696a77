"""What an assessment keeps of each measure: typed aggregates, never a record-level value.

Each measure of a scenario (docs/methods.md#assessment) is summarised by one frozen
dataclass here, built from the metric's own typed result; indicators read their
attributes, and the one ``to_dict`` rule (:mod:`idrisk._results`) turns them into the JSON
of the report. The field annotations are also the source of the JSON schema
(:mod:`idrisk.assessment._typed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypedDict

from .._results import Result
from ._typed import Count, ItemAccess, Share

__all__ = ["KAnonymitySummary", "IndividualRiskSummary", "PopulationUniquenessSummary", "SampleRisksSummary",
           "DiversitySummary", "TClosenessSummary", "HistogramBin", "SudaSummary", "ConfidenceBand",
           "IntruderSummary", "IntruderRun", "Spread", "Measures", "SWEEP_SCHEMA"]


@dataclass(frozen=True)
class KAnonymitySummary(ItemAccess, Result):
    """Equivalence classes on the scenario's key (docs/methods.md#k-anonymity)."""

    min_class_size: Annotated[int, {"minimum": 1}]
    n_classes: int | None
    records_below_k: dict[int, Count]
    n1: Count
    n2: Count
    class_size_histogram: dict[int, Count] | None
    computed_by: str
    sample_unique_share: Share


@dataclass(frozen=True)
class IndividualRiskSummary(ItemAccess, Result):
    """Individual re-identification risk: ``1/fk`` in a census, Benedetti-Franconi in a sample
    (docs/methods.md#individual-risk)."""

    model: str
    max_risk: Share
    mean_risk: Share
    records_above_threshold: Count
    expected_reidentifications: Annotated[float, {"minimum": 0}]
    global_risk: float
    computed_by: str


@dataclass(frozen=True)
class PopulationUniquenessSummary(ItemAccess, Result):
    """Estimated population uniques of a sample (docs/methods.md#population-uniqueness)."""

    zayatz: float | None
    pitman: float | None
    snb: float | None
    dankar: float | None
    dankar_model: str | None
    sampling_fraction: float
    reasons: dict[str, str]


@dataclass(frozen=True)
class SampleRisksSummary(ItemAccess, Result):
    """Prosecutor risk over the records (docs/methods.md#attacker-models)."""

    average_risk: float
    highest_risk: float
    lowest_risk: float
    records_at_risk: dict[float, float]


@dataclass(frozen=True)
class DiversitySummary(ItemAccess, Result):
    """l-diversity of one sensitive attribute (docs/methods.md#l-diversity)."""

    min_distinct_l: Annotated[int, {"minimum": 1}]
    min_entropy_l: float
    records_in_homogeneous_classes: Count
    homogeneous_share: Share
    n_values: Annotated[int, {"minimum": 1}]


@dataclass(frozen=True)
class TClosenessSummary(ItemAccess, Result):
    """t-closeness of one sensitive attribute (docs/methods.md#t-closeness)."""

    max_t: float | None


@dataclass(frozen=True)
class HistogramBin(ItemAccess, Result):
    """One bin of a histogram: ``low <= value < high`` (the last bin includes ``high``)."""

    low: float
    high: float
    count: Count


@dataclass(frozen=True)
class SudaSummary(ItemAccess, Result):
    """Special uniques: SUDA2 minimal sample uniques and DIS-SUDA scores (docs/methods.md#suda)."""

    max_msu_size: int | None
    records_with_msu: Count
    special_uniques_small_msu: Count
    max_dis_score: float
    max_score: float
    score_histogram: list[HistogramBin]
    attribute_contributions: dict[str, float | None]


@dataclass(frozen=True)
class ConfidenceBand(ItemAccess, Result):
    """Intruder claims and correct claims in one confidence band."""

    band: str
    claims: int
    correct: int
    #: the claims' mean stated confidence (None without claims): beside ``correct / claims``,
    #: the band's reliability
    mean_confidence: float | None = None


@dataclass(frozen=True)
class IntruderRun(ItemAccess, Result):
    """One seeded run of the simulated intruder: its seed and counts."""

    seed: Annotated[int, {"minimum": 0}]
    claims: Count
    correct_claims: Count
    correct_claims_at_confidence: Annotated[int | None, {"minimum": 0}]
    high_confidence_correct: int | None


@dataclass(frozen=True)
class Spread(ItemAccess, Result):
    """Median and range of one figure over the seeded runs."""

    median: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class IntruderSummary(ItemAccess, Result):
    """The simulated intruder on a scenario (docs/methods.md#intruder): counts and rates only.

    The intruder is run several times with successive seeds (``runs``); the counts and rates
    are those of the first run (the configured seed), ``*_spread`` give the median and range
    over the runs, and ``correct_claims_at_confidence`` is the highest over the runs (the
    route uses the high end).
    """

    intruder_scenario: str
    known_variables: list[str]
    response_knowledge: bool
    targets: Count
    claims: Count
    correct_claims: Count
    expected_correct_claims: float | None
    precision: float | None
    reidentification_rate: float | None
    extract_reidentified_share: float | None
    high_confidence_claims: int | None
    high_confidence_correct: int | None
    brier_score: float | None
    by_confidence: list[ConfidenceBand]
    correct_claims_at_confidence: Annotated[int | None, {"minimum": 0}]
    variable_mapping: dict[str, str]
    dropped_variables: list[str]
    blocking: list[list[str]]
    runs: list[IntruderRun]
    description: str
    knowledge: dict[str, str]
    correct_claims_spread: Spread
    correct_claims_at_confidence_spread: Spread
    #: correct claims of the exact-match intruder run beside (first run); the route reads the
    #: larger of it and the simulated intruder's (docs/methods.md#exact-match-baseline)
    exact_match_correct_claims: Annotated[int | None, {"minimum": 0}] = None


#: the rows of :func:`idrisk.combination_sweep` (docs/methods.md#combination-sweep), one per
#: subset of the key: ``subset``, ``size``, ``n_classes``, ``sample_uniques``,
#: ``smallest_class`` and ``records_below_{k}`` for each k (a table: its columns depend on k)
SWEEP_SCHEMA = {"description": "idrisk.combination_sweep, one row per subset of the key",
                "items": {"type": "object", "required": ["subset", "size"],
                          "properties": {"subset": {"type": "array", "items": {"type": "string"}},
                                         "size": {"type": "integer", "minimum": 1}},
                          "additionalProperties": {"type": "integer", "minimum": 0}}}


class Measures(TypedDict, total=False):
    """The measures computed on a scenario; a measure that could not be computed is absent."""

    k_anonymity: KAnonymitySummary
    individual_risk: IndividualRiskSummary
    population_uniqueness: PopulationUniquenessSummary
    sample_risks: SampleRisksSummary
    l_diversity: dict[str, DiversitySummary]
    t_closeness: dict[str, TClosenessSummary]
    suda: SudaSummary
    combination_sweep: Annotated[list[dict], SWEEP_SCHEMA]
    intruder: IntruderSummary
