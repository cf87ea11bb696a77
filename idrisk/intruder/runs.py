"""``run_scenarios``: every scenario, repeated with seeds, the intruder's data drawn from a population.

docs/methods.md#intruder. Each run is one :func:`~idrisk.intruder.simulate.simulate_intruder`;
the result keeps aggregates only, with a prediction interval for one further run.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._results import Result
from .._validation import as_frame, check_columns, check_positive_int, check_seed
from ..exceptions import DataValidationError, InvalidParameterError
from ..metrics._classes import engine_for
from .blocking import DEFAULT_MAX_PAIRS
from .compat import renamed_keyword
from .memory import check_memory_budget
from .divergence import build_auxiliary, default_truth_id, target_positions
from .scenario import IntruderScenario, load_scenarios
from .simulate import make_engine, simulate_intruder

__all__ = ["run_scenarios", "ScenarioRunsResult", "SUMMARY_METRICS"]

#: the per-run metrics summarised over repeats
SUMMARY_METRICS = ("claims", "correct_claims", "precision", "reidentification_rate",
                   "extract_reidentified_share", "high_confidence_claims", "high_confidence_correct",
                   "brier_score", "unique_matches", "unique_match_correct_share")
#: metrics that are shares (their interval is clipped at 1)
_SHARES = ("precision", "reidentification_rate", "extract_reidentified_share", "brier_score",
           "unique_match_correct_share")


@dataclass(frozen=True)
class ScenarioRunsResult(Result):
    """Repeated seeded runs of several scenarios (aggregates only).

    ``runs``: one row per scenario and repeat. ``summary``: per scenario and metric the
    mean, standard deviation and a ``level`` prediction interval for one further run,
    ``mean +- t_{r-1} * sd * sqrt(1 + 1/r)`` over ``r`` repeats (normal approximation),
    clipped to the metric's range. ``to_dict()`` follows the rule of :mod:`idrisk._results`
    (the frames as lists of row mappings, NaN as ``None``).
    """

    level: float
    n_repeats: int
    seed: int
    scenarios: list = field(repr=False)
    runs: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame


def _t_quantile(p: float, df: int) -> float:
    try:
        from scipy.stats import t

        return float(t.ppf(p, df))
    except ImportError:  # pragma: no cover - scipy is a dependency
        return 1.959963984540054


def _summarise(runs: pd.DataFrame, level: float) -> pd.DataFrame:
    rows = []
    for name, grp in runs.groupby("scenario", sort=False):
        for metric in SUMMARY_METRICS:
            x = grp[metric].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            if x.size == 0:
                rows.append({"scenario": name, "metric": metric, "mean": np.nan, "sd": np.nan,
                             "lower": np.nan, "upper": np.nan, "n_runs": 0})
                continue
            mean = float(x.mean())
            sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
            half = _t_quantile(0.5 + level / 2, max(x.size - 1, 1)) * sd * math.sqrt(1 + 1 / x.size)
            lo, hi = mean - half, mean + half
            lo = max(lo, 0.0)
            if metric in _SHARES:
                hi = min(hi, 1.0)
            rows.append({"scenario": name, "metric": metric, "mean": mean, "sd": sd,
                         "lower": lo, "upper": hi, "n_runs": int(x.size)})
    return pd.DataFrame(rows, columns=["scenario", "metric", "mean", "sd", "lower", "upper", "n_runs"])


def _scenario_list(scenarios) -> list:
    if isinstance(scenarios, (str,)) or hasattr(scenarios, "__fspath__"):
        scenarios = load_scenarios(scenarios)
    elif isinstance(scenarios, IntruderScenario):
        scenarios = [scenarios]
    if not isinstance(scenarios, Sequence) or not scenarios or \
            not all(isinstance(s, IntruderScenario) for s in scenarios):
        raise InvalidParameterError("scenarios must be an IntruderScenario, a list of them, or a preset name")
    return list(scenarios)


def _membership(ext, pop, id_column) -> np.ndarray:
    """Per population record, its extract row position (-1 for a non-member)."""
    check_columns(ext, [id_column], role="id")
    check_columns(pop, [id_column], role="id")
    if ext[id_column].duplicated().any() or pop[id_column].duplicated().any():
        raise DataValidationError(f"`{id_column}` must identify records uniquely in the extract and the population")
    truth_all = pd.Index(ext[id_column]).get_indexer(pop[id_column]).astype(np.int64)
    n_members = int((truth_all >= 0).sum())
    if n_members < len(ext):
        raise DataValidationError(
            f"{len(ext) - n_members} extract record(s) have a `{id_column}` not found in the population"
        )
    return truth_all


@renamed_keyword("extract", "data")
def run_scenarios(data, population, scenarios, *, seed: int = 0, n_repeats: int = 5,
                  id_column: str | None = None, level: float = 0.95,
                  max_pairs: int = DEFAULT_MAX_PAIRS, engine: str = "idrisk", splink_backend: str = "duckdb",
                  spark_session=None, splink_options=None, memory_budget=None) -> ScenarioRunsResult:
    """Run every scenario ``n_repeats`` times with auxiliary data drawn from ``population``.

    For each scenario and repeat, the intruder's data are built from the *population's*
    values (so an extract that was protected, for example coarsened or swapped, is
    attacked with true outside knowledge): with response knowledge the targets are drawn
    from the population records that are in the extract; without it from the whole
    population (non-members included, with truth -1). Records are matched between the
    two tables on ``id_column``. A scenario without response knowledge and without a
    ``membership_prior`` uses the extract's share of the population, ``n / N`` (extract and
    population sizes are published), since that is the chance a target is in the extract.
    The scenario's divergence, the target sample and the tie-breaking derive from ``seed``
    and the repeat number.

    Parameters
    ----------
    data, population : pandas.DataFrame
        The extract and the population it was drawn from; both hold ``id_column`` and the
        scenarios' quasi-identifiers (not modified). ``extract=`` is the deprecated name of
        ``data``.
    scenarios : IntruderScenario, sequence of them, or a preset name / TOML path
    seed : int, default 0
    n_repeats : int, default 5
    id_column : str or None
        The record id shared by extract and population; ``None``: the default profile's
        ground-truth id (:attr:`idrisk.profiles.Profile.truth_id`, ``"pupil_id"`` for the NPD).
    level : float, default 0.95
        Coverage of the reported prediction interval.
    max_pairs : int
        Refuse blocking that would produce more candidate pairs.
    memory_budget : int, str or None
        The memory each linkage may take, as in :func:`~idrisk.intruder.simulate.simulate_intruder`.
    engine, splink_backend, spark_session, splink_options
        The linking engine, as in :func:`~idrisk.intruder.simulate.simulate_intruder`.

    Returns
    -------
    ScenarioRunsResult
    """
    if (spark := engine_for(data, "run_scenarios")) is not None:  # a Spark table: idrisk.spark
        return spark(data, population, scenarios, seed=seed, n_repeats=n_repeats, id_column=id_column, level=level,
                     max_pairs=max_pairs, engine=engine, splink_backend=splink_backend, spark_session=spark_session,
                     splink_options=splink_options, memory_budget=memory_budget)
    scenarios = _scenario_list(scenarios)
    n_repeats = check_positive_int(n_repeats, name="n_repeats")
    seed = check_seed(seed)
    if not (isinstance(level, float) and 0 < level < 1):
        raise InvalidParameterError(f"level must be a float in (0, 1), got {level!r}")
    engine_args = {"engine": engine, "splink_backend": splink_backend, "spark_session": spark_session,
                   "splink_options": splink_options}
    make_engine(**engine_args)  # refuse bad engine arguments before any work
    memory_budget = check_memory_budget(memory_budget)
    max_pairs = check_positive_int(max_pairs, name="max_pairs")
    id_column = default_truth_id() if id_column is None else id_column
    ext = as_frame(data, name="extract")
    pop = as_frame(population, name="population")
    truth_all = _membership(ext, pop, id_column)
    pi = len(ext) / len(pop)
    members = np.flatnonzero(truth_all >= 0)
    from tqdm.auto import tqdm

    rows = []
    seeds = np.random.SeedSequence(int(seed)).generate_state(len(scenarios) * n_repeats, dtype=np.uint32)
    jobs = [(s, r) for s in scenarios for r in range(n_repeats)]
    for i, (sc, r) in enumerate(tqdm(jobs, desc="intruder runs", disable=not sys.stderr.isatty())):
        check_columns(pop, sc.quasi_identifiers, role=f"quasi-identifier (population, scenario {sc.name!r})")
        s_i = int(seeds[i])
        rng = np.random.default_rng(s_i)
        pool = members if sc.response_knowledge else np.arange(len(pop))
        if isinstance(sc.targets, list):
            pos = target_positions(pop, sc.targets, rng)
        else:
            pos = pool[target_positions(pop.iloc[pool], sc.targets, rng)]
        aux = build_auxiliary(pop, truth_all, pos, sc, rng, pop)
        if not sc.response_knowledge and sc.membership_prior is None:
            # targets come from the population: P(in extract) is the published share n/N
            sc = dataclasses.replace(sc, membership_prior=min(pi, 1.0))
        res = simulate_intruder(ext, aux, sc, seed=s_i, sampling_fraction=pi, max_pairs=max_pairs,
                                memory_budget=memory_budget, **engine_args)
        row = {"scenario": sc.name, "repeat": r, "seed": s_i, "n_targets": res.n_targets,
               "n_targets_in_extract": res.n_targets_in_extract}
        row.update({m: getattr(res, m) for m in SUMMARY_METRICS})
        row["skinner_elliot_theta"] = res.skinner_elliot_theta
        rows.append(row)
    runs = pd.DataFrame(rows)
    return ScenarioRunsResult(level=level, n_repeats=n_repeats, seed=int(seed),
                              scenarios=[s.to_dict() for s in scenarios], runs=runs,
                              summary=_summarise(runs, level))
