"""Simulated intruder: scenario-driven record linkage scored against the ground truth.

* :class:`IntruderScenario` — what the intruder knows, how wrong it is, whom they target.
* :func:`make_auxiliary` — the intruder's data for a scenario, from any extract.
* :func:`simulate_intruder` — link, claim, and score the claims (an :class:`IntruderResult`);
  ``engine="splink"`` runs the linkage in Splink (DuckDB, or a user's Spark session),
  ``pip install 'idrisk[splink]'``.
* :func:`run_scenarios` — every scenario, repeated with seeds, auxiliary data drawn from a population.
* :func:`load_scenarios` — scenarios from TOML; ``load_scenarios("pupil")`` gives the presets.
"""

from .attack import ScenarioRunsResult, run_scenarios, simulate_intruder
from .divergence import TRUTH_COLUMN, make_auxiliary
from .scenario import Comparison, IntruderScenario, load_scenarios
from .score import IntruderResult

__all__ = [
    "IntruderScenario",
    "Comparison",
    "IntruderResult",
    "ScenarioRunsResult",
    "TRUTH_COLUMN",
    "load_scenarios",
    "make_auxiliary",
    "run_scenarios",
    "simulate_intruder",
]
