"""Scoring claims against the hidden ground truth (docs/methods.md#intruder-scoring).

Only counts, rates and aggregates are kept: a result never holds a record-level value,
a record id or a per-record probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .._results import Result
from ..metrics import unique_match_probability
from .baseline import exact_match_rows

__all__ = ["IntruderResult", "score_claims", "skinner_elliot_theta", "BANDS"]

#: confidence bands for calibration (lower edge inclusive); "<0.5" only appears when the
#: claim threshold is below 0.5.
BANDS = ((0.0, 0.5, "<0.5"), (0.5, 0.7, "0.5-0.7"), (0.7, 0.9, "0.7-0.9"), (0.9, math.inf, ">=0.9"))


def skinner_elliot_theta(n1: int, n2: int, pi: float) -> float:
    """Skinner & Elliot (2002) probability that a sample-unique match is correct.

    ``theta = pi * n1 / (pi * n1 + 2 * (1 - pi) * n2)`` with ``n1``/``n2`` the numbers of
    extract classes of size 1 and 2 on the quasi-identifiers and ``pi`` the sampling
    fraction (docs/methods.md#skinner-elliot): :func:`idrisk.metrics.unique_match_probability`,
    the package's one implementation. NaN when ``n1 = 0``.
    """
    return float(unique_match_probability(n1=int(n1), n2=int(n2), sampling_fraction=float(pi)))


@dataclass(frozen=True)
class IntruderResult(Result):
    """Outcome of one simulated intruder attack (aggregates only).

    Attributes
    ----------
    claims : int
        Targets whose top candidate reached the claim threshold.
    correct_claims : int
        Claims whose candidate is the target (positive identifications, TP).
    precision : float
        ``TP / claims`` (NaN without claims).
    reidentification_rate : float
        ``TP / n_targets``.
    extract_reidentified_share : float
        ``TP / n_targets_in_extract``: the share of the extract that would be correctly
        re-identified if every record were targeted (``TP / n`` when all are targets).
    high_confidence_claims, high_confidence_correct : int
        Claims (correct claims) with confidence ``>= high_confidence_threshold``.
    expected_correct : float
        Sum of the claims' confidences: the intruder's own expectation of TP.
    brier_score : float
        ``sum (P - correct)^2 / claims``.
    by_confidence : pandas.DataFrame
        Per band (0.5-0.7, 0.7-0.9, >=0.9): claims, correct, precision, mean confidence.
    unique_matches, unique_matches_correct : int
        Targets with exactly one candidate agreeing on every quasi-identifier (UM), and how
        many of those are the target (CM|UM numerator).
    skinner_elliot_theta : float
        The Skinner-Elliot estimate of ``P(correct | unique match)`` for comparison.
    exact_match_claims, exact_match_correct : int
        The exact-match intruder run beside (docs/methods.md#exact-match-baseline): targets
        whose held values match exactly one extract record, and how many of those are right.
    decision_correct_claims : int
        What a decision reads: the larger of ``correct_claims`` and ``exact_match_correct``
        (an intruder at least as strong as the simplest real one); ``decision_source`` says
        which (``"simulated"`` or ``"exact match"``).

    ``to_dict()`` follows the rule of :mod:`idrisk._results` (NaN as ``None``; ``em``, the
    engine's diagnostics, as plain JSON values).
    """

    scenario: dict
    seed: int
    n_extract: int
    n_targets: int
    n_targets_in_extract: int
    n_candidate_pairs: int
    pairs_per_pass: list
    targets_without_candidates: int
    targets_with_true_candidate: int
    claims: int
    correct_claims: int
    precision: float
    reidentification_rate: float
    extract_reidentified_share: float
    high_confidence_claims: int
    high_confidence_correct: int
    expected_correct: float
    brier_score: float
    by_confidence: pd.DataFrame = field(repr=False)
    unique_matches: int
    unique_matches_correct: int
    unique_match_correct_share: float
    skinner_elliot_theta: float
    sampling_fraction: float
    sample_uniques: int
    sample_pairs: int
    membership_prior: float
    em: dict = field(repr=False)
    exact_match_claims: int = 0
    exact_match_correct: int = 0
    decision_correct_claims: int = 0
    decision_source: str = "simulated"


def score_claims(*, best, prob, truth, n_full, full_e, n_cand, true_in_candidates, scenario, seed,
                 n_extract, n_pairs, pairs_per_pass, n1, n2, pi, membership_prior, em, fields=None) -> IntruderResult:
    """Aggregate per-target linkage outputs against the truth (internal); ``fields``: the
    prepared fields, for the exact-match intruder run beside (:mod:`idrisk.intruder.baseline`)."""
    tau = scenario.claim_threshold
    hc = scenario.high_confidence_threshold
    base_rows = None if fields is None else exact_match_rows(fields)
    claimed = (best >= 0) & (prob >= tau - 1e-12)
    if base_rows is not None and scenario.claim_unique_matches and scenario.response_knowledge:
        # the intruder also claims what the exact-match intruder would, at its own confidence
        claimed |= (best >= 0) & (best == base_rows)
    member = truth >= 0
    correct = claimed & member & (best == truth)
    n_a = int(truth.shape[0])
    C = int(claimed.sum())
    TP = int(correct.sum())
    pc = prob[claimed]
    cc = correct[claimed]
    rows = []
    for lo, hi, label in BANDS:
        if label == "<0.5" and tau >= 0.5 and not (pc < 0.5 - 1e-12).any():
            continue
        sel = (pc >= lo - 1e-12) & (pc < hi - 1e-12) if math.isfinite(hi) else (pc >= lo - 1e-12)
        nb = int(sel.sum())
        nc = int(cc[sel].sum())
        rows.append({"band": label, "claims": nb, "correct": nc,
                     "precision": nc / nb if nb else float("nan"),
                     "mean_confidence": float(pc[sel].mean()) if nb else float("nan")})
    by_conf = pd.DataFrame(rows, columns=["band", "claims", "correct", "precision", "mean_confidence"])
    hc_sel = pc >= hc - 1e-12
    um = n_full == 1
    um_correct = um & member & (full_e == truth)
    n_mem = int(member.sum())
    base_claims, base_correct = (0, 0) if base_rows is None else \
        (int((base_rows >= 0).sum()), int(((base_rows >= 0) & (base_rows == truth)).sum()))
    return IntruderResult(
        scenario=scenario.to_dict(),
        seed=int(seed),
        n_extract=int(n_extract),
        n_targets=n_a,
        n_targets_in_extract=n_mem,
        n_candidate_pairs=int(n_pairs),
        pairs_per_pass=[int(x) for x in pairs_per_pass],
        targets_without_candidates=int((n_cand == 0).sum()),
        targets_with_true_candidate=int(true_in_candidates.sum()),
        claims=C,
        correct_claims=TP,
        precision=TP / C if C else float("nan"),
        reidentification_rate=TP / n_a if n_a else float("nan"),
        extract_reidentified_share=TP / n_mem if n_mem else float("nan"),
        high_confidence_claims=int(hc_sel.sum()),
        high_confidence_correct=int(cc[hc_sel].sum()),
        expected_correct=float(pc.sum()),
        brier_score=float(((pc - cc) ** 2).sum() / C) if C else float("nan"),
        by_confidence=by_conf,
        unique_matches=int(um.sum()),
        unique_matches_correct=int(um_correct.sum()),
        unique_match_correct_share=float(um_correct.sum() / um.sum()) if um.any() else float("nan"),
        skinner_elliot_theta=skinner_elliot_theta(n1, n2, pi),
        sampling_fraction=float(pi),
        sample_uniques=int(n1),
        sample_pairs=int(n2),
        membership_prior=float(membership_prior),
        em=em,
        exact_match_claims=int(base_claims),
        exact_match_correct=int(base_correct),
        decision_correct_claims=max(TP, int(base_correct)),
        decision_source="simulated" if TP >= base_correct else "exact match",
    )
