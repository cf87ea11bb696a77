"""Simulated intruder: scenario-driven record linkage scored against the ground truth.

docs/methods.md#intruder. Modules: :mod:`.scenario` (what the intruder knows),
:mod:`.divergence` (the intruder's data and the ground truth), :mod:`.mistakes` (the one
divergence mechanism and its generic strategies), :mod:`.simulate` (the entry
point), :mod:`.engine` (the linking contract) with :mod:`.numba_engine` and
:mod:`.splink_engine` (Splink's pairs scored by idrisk's model; :mod:`.splink_own`, Splink's own
model as a baseline; :mod:`.splink_spark`, its Spark backend), :mod:`.joint` (likelihoods from the
joint frequencies of the key in the extract, m by EM) with :mod:`.nonmember` (the population
records outside the extract), :mod:`.baseline` (the exact-match intruder), :mod:`.estimation` (u),
:mod:`.weights`, :mod:`.score` (scoring), :mod:`.runs` (repeated runs) and :mod:`.memory`
(the candidate pairs counted and their memory checked against a budget before they are allocated).

* :class:`IntruderScenario` — what the intruder knows, how wrong it is, whom they target.
* :func:`make_auxiliary` — the intruder's data for a scenario, from any extract.
* :func:`simulate_intruder` — link, claim, and score the claims (an :class:`IntruderResult`);
  ``engine="splink"`` runs the linkage in Splink (DuckDB, or a user's Spark session),
  ``pip install 'idrisk[splink]'``.
* :func:`run_scenarios` — every scenario, repeated with seeds, auxiliary data drawn from a population.
* :func:`load_scenarios` — scenarios from TOML; ``load_scenarios("pupil")`` gives the presets.
"""

from .divergence import TRUTH_COLUMN, make_auxiliary
from .engine import LinkingEngine
from .runs import ScenarioRunsResult, run_scenarios
from .scenario import Comparison, IntruderScenario, load_scenarios
from .score import IntruderResult
from .simulate import ENGINES, simulate_intruder

__all__ = [
    "IntruderScenario",
    "Comparison",
    "IntruderResult",
    "ScenarioRunsResult",
    "LinkingEngine",
    "ENGINES",
    "TRUTH_COLUMN",
    "load_scenarios",
    "make_auxiliary",
    "run_scenarios",
    "simulate_intruder",
]
