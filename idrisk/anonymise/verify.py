"""Verification of a transformed extract with the full assessment.

The chosen transformation's extract is assessed with :func:`idrisk.assess` (every indicator,
the simulated intruders included) under the wildcard rule for missing values (how suppressed
cells are read, ``docs/methods.md#anonymisation``). It passes unless an intruder still makes
correct claims with the route's confidence beyond the route's limit (the ``intruder_claims``
indicator does not hold). The intruder's ground truth is the transformed extract itself, so an
intruder knows the targets' generalised values: what the released file lets him compare.
Only counts, indicator values and the route are kept (no record-level value).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from ..assessment import AssessmentConfig, assess
from ..exceptions import InvalidParameterError

__all__ = ["Verification", "verify_extract"]


@dataclass(frozen=True)
class Verification:
    passed: bool
    route: str
    correct_claims: dict       # scenario -> correct claims at the route's confidence (None: not assessed)
    indicators: dict           # "id [scenario]" -> {"value", "threshold", "holds"}
    assessment: object         # the AssessmentResult (its to_dict holds no record-level value)


def _key(ind) -> str:
    return ind.id if ind.scenario is None else f"{ind.id} [{ind.scenario}]"


def verify_extract(extract, verify, quasi_identifiers, sensitive) -> Verification:
    """Assess ``extract``: ``verify`` is True (one scenario on the quasi-identifiers, the generic
    profile, the default thresholds) or an assessment configuration (an
    :class:`~idrisk.assessment.AssessmentConfig`, its dict, or a TOML/JSON path)."""
    if not (verify is True or isinstance(verify, (AssessmentConfig, Mapping, str)) or hasattr(verify, "__fspath__")):
        raise InvalidParameterError("verify must be True or an assessment configuration (object, dict or path), "
                                    f"got {type(verify).__name__}")
    # the assessment's own warnings and log lines (finer forms of keys, assumptions) repeat for
    # every node tried; they are in the result (its assumptions), not printed again
    logger = logging.getLogger("idrisk")
    level = logger.level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logger.setLevel(logging.ERROR)
        try:
            if verify is True:
                res = assess(extract, quasi_identifiers=list(quasi_identifiers),
                             sensitive=list(sensitive) or None, profile="generic", missing="wildcard",
                             progress=False)
            else:
                res = assess(extract, verify, missing="wildcard", progress=False)
        finally:
            logger.setLevel(level)
    claims = {i.scenario: i.value for i in res.indicators if i.id == "intruder_claims"}
    passed = all(i.holds is not False for i in res.indicators if i.id == "intruder_claims")
    inds = {_key(i): {"value": i.value, "threshold": i.threshold, "holds": i.holds} for i in res.indicators}
    return Verification(passed, res.route.recommended, claims, inds, res)
