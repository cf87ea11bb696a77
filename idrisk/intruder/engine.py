"""The linking contract both engines implement, and the pieces they share.

docs/methods.md#intruder, docs/methods.md#fellegi-sunter. An engine links the intruder's
data to the extract for one scenario and scores the claims
(:func:`idrisk.intruder.score.score_claims`): :class:`~idrisk.intruder.numba_engine.NumbaEngine`
(``engine="idrisk"``) and :class:`~idrisk.intruder.splink_engine.SplinkEngine`
(``engine="splink"``). Both take the membership prior and the extract's class sizes on the
quasi-identifiers from this module, so the two cannot disagree on them.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from .._encode import encode
from .._kernels.groups import group_ids

__all__ = ["LinkingEngine", "membership_prior", "log2_nonmember", "class_size_counts", "M_CLIP", "TIE_TOL",
           "UNINFORMATIVE_PRIOR", "DEFAULT_M"]

#: m of a field that a per-pass EM cannot estimate (it is a blocking variable of every pass); the
#: configured start of an agreement level in Splink's own model (:mod:`idrisk.intruder.splink_own`)
DEFAULT_M = 0.95
#: m is kept in ``[M_CLIP, 1 - M_CLIP]`` so that every weight is finite
M_CLIP = 1e-6
#: candidates whose weights differ by less than this are tied (broken at random from the seed)
TIE_TOL = 1e-9
#: P(target in extract) without response knowledge when the scenario gives no prior
UNINFORMATIVE_PRIOR = 0.5


@runtime_checkable
class LinkingEngine(Protocol):
    """Links the auxiliary data to the extract for one scenario and scores the claims.

    ``extract`` and ``auxiliary`` are validated frames holding the scenario's
    quasi-identifiers, ``truth`` the auxiliary records' extract row positions (-1 for a
    non-member), ``sampling_fraction`` the extract's share of the population (1 for a
    census), ``max_pairs`` the cap on candidate pairs and ``memory_budget`` the bytes the
    linkage may take (checked before the pairs are allocated, :mod:`idrisk.intruder.memory`).
    """

    name: str

    def link(self, extract: pd.DataFrame, auxiliary: pd.DataFrame, scenario, truth: np.ndarray, *,
             seed: int, sampling_fraction: float, max_pairs: int, memory_budget: int):
        """Run the linkage and return an :class:`~idrisk.intruder.score.IntruderResult`."""
        ...


def membership_prior(scenario) -> float:
    """P(a target is in the extract): 1 with response knowledge, else the scenario's prior.

    A scenario without response knowledge and without ``membership_prior`` gets
    :data:`UNINFORMATIVE_PRIOR` (``run_scenarios`` passes the published share ``n / N``).
    """
    if scenario.response_knowledge:
        return 1.0
    return UNINFORMATIVE_PRIOR if scenario.membership_prior is None else scenario.membership_prior


def log2_nonmember(prior: float, n_extract: int) -> float:
    """``log2((1 - pi) n / pi)``: the weight of "the target is not in the extract".

    With a uniform prior ``pi / n`` on each extract record, the hypothesis "not in the
    extract" enters each target's normalisation as ``(1 - pi) n / pi``
    (docs/methods.md#fellegi-sunter); ``-inf`` (no such term) when ``pi = 1``.
    """
    return -math.inf if prior >= 1.0 else math.log2((1 - prior) * n_extract / prior)


def class_size_counts(extract: pd.DataFrame, quasi_identifiers) -> tuple[int, int]:
    """``(n1, n2)``: the extract's classes of size 1 and 2 on the quasi-identifiers.

    Missing values are one more category. They feed the Skinner-Elliot comparison
    (docs/methods.md#skinner-elliot).
    """
    qi = list(quasi_identifiers)
    enc = encode(extract, qi, warn_identifiers=False)
    mat, cards = enc.codes_for(qi, "category")
    _, sizes = group_ids(mat, cards)
    return int((sizes == 1).sum()), int((sizes == 2).sum())
