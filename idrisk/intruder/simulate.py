"""``simulate_intruder``: link the intruder's data to the extract, claim, score against the truth.

docs/methods.md#intruder. The linkage runs in one of the engines behind the
:class:`~idrisk.intruder.engine.LinkingEngine` contract, chosen by ``engine=``.
"""

from __future__ import annotations


import numpy as np

from .._validation import as_frame, check_columns, check_positive_int, check_seed
from ..exceptions import DataValidationError, InvalidParameterError
from ..metrics._classes import engine_for
from .blocking import DEFAULT_MAX_PAIRS
from .divergence import make_auxiliary, truth_positions  # noqa: F401 - make_auxiliary: doctest
from .compat import renamed_keyword
from .engine import LinkingEngine
from .memory import check_memory_budget
from .numba_engine import NumbaEngine
from .scenario import IntruderScenario
from .score import IntruderResult
from .splink_engine import SplinkEngine

__all__ = ["simulate_intruder", "make_engine", "ENGINES"]

#: the names ``engine=`` accepts
ENGINES = ("idrisk", "splink")


def make_engine(engine: str = "idrisk", *, splink_backend: str = "duckdb", spark_session=None,
                splink_options=None) -> LinkingEngine:
    """The engine named ``engine`` (its options checked before any work is done)."""
    if engine not in ENGINES:
        raise InvalidParameterError(f"engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}")
    if engine == "splink":
        return SplinkEngine.create(splink_backend, spark_session, splink_options)
    if splink_backend != "duckdb" or spark_session is not None or splink_options is not None:
        raise InvalidParameterError("splink_backend, spark_session and splink_options need engine='splink'")
    return NumbaEngine()


def check_sampling_fraction(sampling_fraction) -> float:
    """pi in (0, 1]; ``None`` means 1 (a census extract)."""
    if sampling_fraction is None:
        return 1.0
    if isinstance(sampling_fraction, bool) or not isinstance(sampling_fraction, (int, float)) or \
            not (0 < float(sampling_fraction) <= 1):
        raise InvalidParameterError(f"sampling_fraction must be in (0, 1], got {sampling_fraction!r}")
    return float(sampling_fraction)


@renamed_keyword("extract", "data")
def simulate_intruder(data, auxiliary, scenario: IntruderScenario, *, seed: int = 0,
                      sampling_fraction: float | None = None,
                      max_pairs: int = DEFAULT_MAX_PAIRS, engine: str = "idrisk",
                      splink_backend: str = "duckdb", spark_session=None,
                      splink_options=None, id_column: str | None = None, memory_budget=None) -> IntruderResult:
    """Simulate an intruder linking ``auxiliary`` to the extract ``data`` and score the claims.

    Steps (docs/methods.md#intruder, docs/methods.md#joint-frequencies): blocking passes
    (union; by default one pass per exactly compared field left out, each target blocked on
    the values it holds) -> field comparisons -> ``m_v = P(agree | same person)`` by EM on up
    to 2,000 targets against the *whole* extract (one match per target; the non-member
    hypothesis without response knowledge) -> each candidate's likelihood ratio under the
    recording model (a wrong value is another value of the field), normalised over every
    extract record from the joint frequencies of the target's values in the extract (class
    sizes on each subset of the exactly compared fields), and, without response knowledge,
    over the population records outside the extract (Robbins' estimate on every subset of the key)
    -> a claim per target (top candidate, ``P >= claim_threshold``, and with response
    knowledge the unique exact match; ties broken uniformly at random from ``seed``) ->
    scoring against the hidden truth, beside the exact-match intruder
    (``result.exact_match_correct``; ``result.decision_correct_claims`` takes the larger).

    Parameters
    ----------
    data : pandas.DataFrame
        The extract: the data to be released (not modified). ``extract=`` is the deprecated
        name of this argument.
    auxiliary : pandas.DataFrame
        The intruder's data: the scenario's quasi-identifiers and the hidden ground truth,
        either ``_truth_row`` (extract row position, -1 for a non-member), as built by
        :func:`make_auxiliary`, or ``_truth_<id_column>`` (the record's id, matched against
        ``data[id_column]``) (not modified).
    scenario : IntruderScenario
    seed : int, default 0
        Tie-breaking and the random pairs used to estimate u for tolerance comparisons.
    sampling_fraction : float or None
        The extract's share of the population (pi) for the Skinner-Elliot comparison;
        ``None`` means 1 (a census extract).
    max_pairs : int
        Refuse blocking that would produce more candidate pairs.
    memory_budget : int, str or None
        The memory the linkage may take, in bytes or as a size such as ``"8GB"``; ``None``:
        ``IDRISK_MEMORY_BUDGET``, else a quarter of physical memory, at most 4 GiB. The
        candidate pairs are counted from the block sizes before any is allocated, and a
        linkage whose pairs would take more (about 50 bytes a pair, :mod:`idrisk.intruder.memory`)
        is refused with a :class:`~idrisk.exceptions.ResourceLimitError` naming the counts. The
        Splink engine gives it to DuckDB as its ``memory_limit``.
    id_column : str or None
        The record id behind a ``_truth_<id_column>`` ground-truth column; ``None``: the
        default profile's ground-truth id (:attr:`idrisk.profiles.Profile.truth_id`).
    engine : {"idrisk", "splink"}, default "idrisk"
        ``"idrisk"``: the numba pipeline described above. ``"splink"``: Splink
        (optional: ``pip install 'idrisk[splink]'``; DuckDB, or a Spark session) makes the
        candidate pairs and their comparison vectors for the same passes (blocking rules,
        exact / Jaro-Winkler / tolerance comparison levels), and idrisk's estimators,
        normalisation and scoring run on them, so the result is the idrisk engine's
        wherever Splink's comparisons agree with idrisk's (always for exact and tolerance
        comparisons; see :mod:`idrisk.intruder.splink_engine`,
        docs/methods.md#splink-engine). ``result.em["engine"]`` records which engine ran
        (it is in ``to_dict()``).
    splink_backend : {"duckdb", "spark"}, default "duckdb"
        DuckDB embedded, or Spark on a cluster (needs ``spark_session``).
    spark_session : pyspark.sql.SparkSession or None
        An existing session for ``splink_backend="spark"`` (idrisk does not depend on pyspark).
    splink_options : mapping or None
        ``u_max_pairs`` (random pairs for u, default 2e6); ``probability``
        (``"normalised"``, the default, or ``"match_probability"``: Splink's per-pair
        posterior of the top candidate, which ignores competing candidates);
        ``duckdb_connection`` (an existing ``duckdb`` connection, e.g. with a memory limit).

    Returns
    -------
    IntruderResult

    Examples
    --------
    Zero divergence and exact keys (docs/methods.md#intruder-scoring): classes of sizes (2, 1, 1, 1)
    give ``P = 1/f``, so all five records are claimed at 0.5, the three sample uniques
    are unique matches, and the expected number of correct claims is ``3 + 2/2``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": list("FFMMF"), "yob": [2012, 2012, 2012, 2013, 2013]})
    >>> sc = IntruderScenario(name="exact", quasi_identifiers=["sex", "yob"])
    >>> r = simulate_intruder(df, make_auxiliary(df, sc, seed=0), sc, seed=0)
    >>> r.claims, r.unique_matches_correct, round(r.expected_correct, 9)
    (5, 3, 4.0)

    Notes
    -----
    idrisk's engine: record ``b`` explains target ``a`` with ``Phi_ab = prod_v`` ``m_v / p_v(a_v)``
    on agreement, ``(1 - m_v) c_v(a_v)`` on disagreement (exact fields; ``m_v/u_v`` and
    ``(1 - m_v)/(1 - u_v)`` for the others), 1 for a value the intruder lacks; with response
    knowledge ``P(b | a) = Phi_ab / sum_b' Phi_ab'`` over *every* extract record (the sum is exact
    from the joint counts, so a record blocking missed still counts); without it the
    denominator also holds the non-member mass, weighted by ``(1 - pi)/pi`` with ``pi`` =
    ``membership_prior`` (docs/methods.md#joint-frequencies). The Splink engine scores
    Splink's pairs with the same model (docs/methods.md#splink-engine). recordlinkage's ``ECMClassifier`` classifies each pair on
    its own (no normalisation over a target's candidates), so its claims can differ.
    """
    if (spark := engine_for(data, "simulate_intruder")) is not None:  # a Spark table: idrisk.spark
        return spark(data, auxiliary, scenario, seed=seed, sampling_fraction=sampling_fraction, max_pairs=max_pairs,
                     engine=engine, splink_backend=splink_backend, spark_session=spark_session,
                     splink_options=splink_options, id_column=id_column, memory_budget=memory_budget)
    if not isinstance(scenario, IntruderScenario):
        raise InvalidParameterError(f"scenario must be an IntruderScenario, got {type(scenario).__name__}")
    seed = check_seed(seed)
    max_pairs = check_positive_int(max_pairs, name="max_pairs")
    memory_budget = check_memory_budget(memory_budget)
    eng = make_engine(engine, splink_backend=splink_backend, spark_session=spark_session,
                      splink_options=splink_options)
    pi = check_sampling_fraction(sampling_fraction)
    ext = as_frame(data, name="extract")
    aux = as_frame(auxiliary, name="auxiliary")
    qi = list(scenario.quasi_identifiers)
    check_columns(ext, qi, role="quasi-identifier (extract)")
    missing = [str(c) for c in qi if c not in aux.columns]
    if missing:
        raise DataValidationError(
            f"the auxiliary data lack the scenario {scenario.name!r}'s quasi-identifier"
            f"{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
            f"(auxiliary columns: {', '.join(map(str, aux.columns[:30]))})"
        )
    truth = truth_positions(ext, aux, id_column=id_column)
    outside = int((np.asarray(truth) < 0).sum())
    if scenario.response_knowledge and outside:
        raise InvalidParameterError(
            f"scenario {scenario.name!r} declares response knowledge (every target is in the extract) but "
            f"{outside} of the {len(truth)} targets are not in the extract by the ground truth: draw the targets "
            "from the extract, or set response_knowledge=False (with membership_prior, the chance a target is "
            "in the extract)")
    return eng.link(ext, aux, scenario, np.asarray(truth), seed=seed, sampling_fraction=pi, max_pairs=max_pairs,
                    memory_budget=memory_budget)
