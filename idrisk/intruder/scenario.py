"""Intruder scenarios: what the intruder knows, how wrong it is, whom they target.

A scenario follows the Anonymisation Decision-Making Framework (Elliot et al. 2016;
docs/methods.md#attacker-models): the key variables an intruder holds, the *data divergence* between
their information and the extract (errors, missing values, coarsening, time lag), the
targets, *response knowledge* (does the intruder know each target is in the extract?)
and the claim rule. Every field but ``name`` and ``quasi_identifiers`` has a default, and
the defaults describe an error-free intruder who targets every record and knows that
each target is in the extract.

Scenarios load from TOML (``load_scenarios``); presets for pupil data ship in
``idrisk/intruder/presets/``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
import warnings
import functools
from dataclasses import dataclass, field
from importlib import resources
from numbers import Integral, Real
from pathlib import Path

from ..exceptions import InvalidParameterError

__all__ = ["IntruderScenario", "Comparison", "load_scenarios", "COMPARISON_KINDS", "COARSENINGS"]

#: comparison kinds: exact equality; numeric ``|x - y| <= tolerance``; calendar month of a
#: date with a tolerance in months; date with a tolerance in days; Jaro-Winkler similarity
#: of strings ``>= threshold``.
COMPARISON_KINDS = ("exact", "numeric", "month", "date", "string")
#: coarsenings applied to the intruder's values: dates to month or year; numbers rounded
#: down to a multiple (``"round:5"``); strings cut to a prefix (``"prefix:3"``).
COARSENINGS = ("month", "year", "round", "prefix")


@dataclass(frozen=True)
class Comparison:
    """How one quasi-identifier is compared between the intruder's data and the extract."""

    kind: str = "exact"
    tolerance: float = 0.0
    threshold: float = 0.85

    def to_dict(self) -> dict:
        return {"kind": self.kind, "tolerance": self.tolerance, "threshold": self.threshold}


def _per_variable(value, variables, *, name, low=0.0, high=1.0) -> dict:
    """A number for every variable, from one number or a mapping (others default to 0)."""
    if value is None:
        value = 0.0
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in variables)
        if unknown:
            raise InvalidParameterError(
                f"{name} names variables the intruder does not know: {', '.join(unknown)} "
                f"(quasi_identifiers: {', '.join(map(str, variables))})"
            )
        out = {v: 0.0 for v in variables}
        for k, x in value.items():
            out[k] = _rate(x, name=f"{name}[{k!r}]", low=low, high=high)
        return out
    x = _rate(value, name=name, low=low, high=high)
    return {v: x for v in variables}


def _rate(x, *, name, low, high) -> float:
    if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(float(x)):
        raise InvalidParameterError(f"{name} must be a finite number, got {x!r}")
    if not (low <= float(x) <= high):
        raise InvalidParameterError(f"{name} must be in [{low}, {high}], got {x!r}")
    return float(x)


def _comparison(spec, var) -> Comparison:
    if isinstance(spec, Comparison):
        c = spec
    elif isinstance(spec, str):
        c = Comparison(kind=spec)
    elif isinstance(spec, Mapping):
        bad = sorted(set(spec) - {"kind", "tolerance", "threshold"})
        if bad:
            raise InvalidParameterError(
                f"comparison for {var!r} has unknown keys: {', '.join(bad)} (allowed: kind, tolerance, threshold)"
            )
        c = Comparison(kind=spec.get("kind", "exact"), tolerance=spec.get("tolerance", 0.0),
                       threshold=spec.get("threshold", 0.85))
    else:
        raise InvalidParameterError(f"comparison for {var!r} must be a kind name or a mapping, got {spec!r}")
    if c.kind not in COMPARISON_KINDS:
        raise InvalidParameterError(
            f"comparison kind for {var!r} must be one of {', '.join(COMPARISON_KINDS)}, got {c.kind!r}"
        )
    tol = _rate(c.tolerance, name=f"tolerance of {var!r}", low=0.0, high=float("inf"))
    thr = _rate(c.threshold, name=f"threshold of {var!r}", low=0.0, high=1.0)
    return Comparison(c.kind, tol, thr)


def _coarsening(spec, var) -> str:
    if not isinstance(spec, str):
        raise InvalidParameterError(f"coarsening for {var!r} must be a string, got {spec!r}")
    head, _, arg = spec.partition(":")
    if head not in COARSENINGS:
        raise InvalidParameterError(
            f"coarsening for {var!r} must be one of month, year, round:<width>, prefix:<n>; got {spec!r}"
        )
    if head in ("round", "prefix"):
        try:
            width = float(arg) if head == "round" else int(arg)
        except ValueError:
            width = -1
        if not width or width <= 0:
            raise InvalidParameterError(f"coarsening {spec!r} for {var!r} needs a positive number after ':'")
    elif arg:
        raise InvalidParameterError(f"coarsening {spec!r} for {var!r} takes no argument")
    return spec


def _quasi_identifiers(name, qi) -> tuple:
    """The scenario's key as a tuple of distinct column names."""
    if isinstance(qi, str) or not isinstance(qi, Sequence) or not qi:
        raise InvalidParameterError(
            f"quasi_identifiers of scenario {name!r} must be a non-empty list of column names, got {qi!r}"
        )
    qi = tuple(qi)
    if len(set(qi)) != len(qi):
        raise InvalidParameterError(f"quasi_identifiers of scenario {name!r} repeat a name: {qi}")
    return qi


def _jitter(v, var) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral) or v < 0:
        raise InvalidParameterError(f"jitter for {var!r} must be a non-negative integer, got {v!r}")
    return int(v)


def _targets(t):
    """``"all"``, a count, a share in (0, 1] or a list of labels."""
    bad = f"targets must be 'all', a count, a share or a list of labels, got {t!r}"
    if isinstance(t, str):
        if t != "all":
            raise InvalidParameterError(bad)
        return t
    if isinstance(t, bool):
        raise InvalidParameterError(bad)
    if isinstance(t, Integral):
        if t < 1:
            raise InvalidParameterError(f"targets (a count) must be at least 1, got {t}")
        return int(t)
    if isinstance(t, Real):
        share = _rate(t, name="targets (a share)", low=0.0, high=1.0)
        if share == 0:
            raise InvalidParameterError("targets (a share) must be above 0")
        return share
    if isinstance(t, Sequence):
        if not len(t):
            raise InvalidParameterError("targets (named) must name at least one record")
        return list(t)
    raise InvalidParameterError(bad)


def _blocking(blocking, kv, comparisons) -> list:
    """The blocking passes, checked; ``None``: every variable compared exactly but one, one
    pass per left-out variable (a single exact variable, or none: one pass)."""
    if blocking is None:
        # a pass needs equal values; a tolerance or similarity comparison is not equality
        exact = [v for v in kv if comparisons[v].kind == "exact"]
        if len(exact) < 2:
            return [exact or list(kv)]
        return [[v for v in exact if v != left] for left in exact]
    if isinstance(blocking, str) or not isinstance(blocking, Sequence) or not blocking:
        raise InvalidParameterError(f"blocking must be a list of passes (lists of variables), got {blocking!r}")
    passes = []
    for p in blocking:
        if isinstance(p, str):
            p = [p]
        p = list(p)
        if not p:
            raise InvalidParameterError("a blocking pass must name at least one variable")
        unknown = [str(v) for v in p if v not in kv]
        if unknown:
            raise InvalidParameterError(
                f"blocking pass {p} uses variables the intruder does not know: {', '.join(unknown)}"
            )
        passes.append(p)
    return passes


@dataclass
class IntruderScenario:
    """An intruder scenario (ADF style): key variables, divergence, targets and claim rule.

    Parameters
    ----------
    name : str
        Label used in results.
    quasi_identifiers : sequence of str
        Columns the intruder holds for each target (the key). Every one is compared;
        blocking uses a subset. ``known_variables`` is its deprecated name (keyword and
        TOML key; accepted with a ``DeprecationWarning`` for one release).
    error_rate : float or mapping variable -> float, default 0
        Probability that the intruder's value is wrong (replaced by a different value
        drawn from the column's distribution).
    missing_rate : float or mapping, default 0
        Probability that the intruder does not know the value (blank).
    coarsening : mapping variable -> str, default {}
        ``"month"``/``"year"`` for dates, ``"round:<w>"`` for numbers, ``"prefix:<n>"``
        for strings (for example postcode sector -> district).
    jitter : mapping variable -> int, default {}
        Uniform shift in ``[-j, j]`` months (dates) or units (numbers), e.g. a birth month
        known to +-1.
    change_rate : mapping variable -> float, default {}
        Annual probability that the value changed since the intruder learnt it (school
        move, postcode change, FSM change); with ``time_lag_years`` = t the value differs
        with probability ``1 - (1 - rate)^t``.
    time_lag_years : float, default 0
    targets : "all", int, float or sequence, default "all"
        All records; a random sample of that many records (int); that share of them
        (float in (0, 1]); or the index labels of named targets (sequence).
    response_knowledge : bool, default True
        The intruder knows each target is in the extract, so the match probability is
        normalised over the target's candidates. Otherwise "not in the extract" is one
        more hypothesis with prior ``1 - membership_prior``.
    membership_prior : float or None, default None
        P(target in extract) used without response knowledge; ``None`` means 1/2 in
        :func:`simulate_intruder` and the extract's share of the population ``n / N`` in
        :func:`run_scenarios` (sizes are published).
    claim_threshold : float, default 0.5
        A target is claimed when its top candidate has ``P >= claim_threshold``.
    claim_unique_matches : bool, default True
        With response knowledge, also claim the top candidate, at its own confidence, when it
        is the one extract record matching every value the intruder holds (what the simplest
        real intruder claims), so the simulated intruder is never weaker than exact matching.
    high_confidence_threshold : float, default 0.9
    blocking : sequence of sequences of str or None, default None
        Blocking passes (candidate pairs = union over passes of pairs agreeing on every
        variable of the pass). ``None``: multi-pass over the quasi-identifiers compared
        exactly, one pass per such variable holding all the others, so a target with one
        wrong or missing value is still found through the other passes (a variable
        compared with a tolerance or by string similarity agrees without being equal, so
        blocking on equality would drop true matches; with one such variable, or none,
        one pass on it, or on all of them). A pass whose blocks are not selective (mean
        block above a tenth of the extract) is left out when the extract is linked.
    block_on_held : bool or None, default None
        A pass blocks each target on the pass's variables the target holds (a missing
        value agrees with anything), so an intruder never finds fewer candidates than
        exact matching on its held values. ``None``: True for the default blocking,
        False for passes given explicitly (a target missing a pass variable does not
        enter that pass).
    comparisons : mapping variable -> kind or {kind, tolerance, threshold}, default exact
    term_frequency : bool, default True
        Agreement weight ``log2(m_v / p_v(a))`` with ``p_v(a)`` the share of the value in the
        extract (exact comparisons only), else ``log2(m_v / u_v)``.
    description : str, default ""
    """

    name: str
    quasi_identifiers: Sequence[str]
    error_rate: Mapping | float = 0.0
    missing_rate: Mapping | float = 0.0
    coarsening: Mapping = field(default_factory=dict)
    jitter: Mapping = field(default_factory=dict)
    change_rate: Mapping = field(default_factory=dict)
    time_lag_years: float = 0.0
    targets: object = "all"
    response_knowledge: bool = True
    membership_prior: float | None = None
    claim_threshold: float = 0.5
    claim_unique_matches: bool = True
    high_confidence_threshold: float = 0.9
    blocking: Sequence[Sequence[str]] | None = None
    block_on_held: bool | None = None
    comparisons: Mapping = field(default_factory=dict)
    term_frequency: bool = True
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise InvalidParameterError(f"scenario name must be a non-empty string, got {self.name!r}")
        kv = self.quasi_identifiers = _quasi_identifiers(self.name, self.quasi_identifiers)
        self.error_rate = _per_variable(self.error_rate, kv, name="error_rate")
        self.missing_rate = _per_variable(self.missing_rate, kv, name="missing_rate")
        self.change_rate = _per_variable(dict(self.change_rate or {}), kv, name="change_rate")
        for label, mp in (("coarsening", self.coarsening), ("jitter", self.jitter), ("comparisons", self.comparisons)):
            if not isinstance(mp, Mapping):
                raise InvalidParameterError(f"{label} must be a mapping variable -> value, got {mp!r}")
            unknown = sorted(str(k) for k in mp if k not in kv)
            if unknown:
                raise InvalidParameterError(
                    f"{label} names variables the intruder does not know: {', '.join(unknown)}"
                )
        self.coarsening = {k: _coarsening(v, k) for k, v in self.coarsening.items()}
        self.jitter = {k: _jitter(v, k) for k, v in self.jitter.items()}
        self.comparisons = {v: _comparison(self.comparisons.get(v, "exact"), v) for v in kv}
        self.time_lag_years = _rate(self.time_lag_years, name="time_lag_years", low=0.0, high=100.0)
        self.targets = _targets(self.targets)
        if not isinstance(self.response_knowledge, bool):
            raise InvalidParameterError(f"response_knowledge must be True or False, got {self.response_knowledge!r}")
        if self.membership_prior is not None:
            self.membership_prior = _rate(self.membership_prior, name="membership_prior", low=0.0, high=1.0)
            if self.membership_prior == 0:
                raise InvalidParameterError("membership_prior must be above 0 (0 means no target can be found)")
        self.claim_threshold = _rate(self.claim_threshold, name="claim_threshold", low=0.0, high=1.0)
        self.high_confidence_threshold = _rate(self.high_confidence_threshold, name="high_confidence_threshold",
                                               low=0.0, high=1.0)
        if self.block_on_held is None:
            self.block_on_held = self.blocking is None
        if not isinstance(self.block_on_held, bool):
            raise InvalidParameterError(f"block_on_held must be True, False or None, got {self.block_on_held!r}")
        self.blocking = _blocking(self.blocking, kv, self.comparisons)
        if not isinstance(self.claim_unique_matches, bool):
            raise InvalidParameterError(f"claim_unique_matches must be True or False, got {self.claim_unique_matches!r}")
        if not isinstance(self.term_frequency, bool):
            raise InvalidParameterError(f"term_frequency must be True or False, got {self.term_frequency!r}")

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable description (stored with every result for audit)."""
        t = self.targets
        return {
            "name": self.name,
            "description": self.description,
            "quasi_identifiers": list(self.quasi_identifiers),
            "error_rate": {k: v for k, v in self.error_rate.items() if v},
            "missing_rate": {k: v for k, v in self.missing_rate.items() if v},
            "coarsening": dict(self.coarsening),
            "jitter": dict(self.jitter),
            "change_rate": {k: v for k, v in self.change_rate.items() if v},
            "time_lag_years": self.time_lag_years,
            "targets": t if isinstance(t, (str, int, float)) else f"{len(t)} named targets",
            "response_knowledge": self.response_knowledge,
            "membership_prior": self.membership_prior,
            "claim_threshold": self.claim_threshold,
            "claim_unique_matches": self.claim_unique_matches,
            "high_confidence_threshold": self.high_confidence_threshold,
            "blocking": [list(p) for p in self.blocking],
            "block_on_held": self.block_on_held,
            "comparisons": {k: c.to_dict() for k, c in self.comparisons.items()},
            "term_frequency": self.term_frequency,
        }

    @classmethod
    def from_dict(cls, spec: Mapping) -> "IntruderScenario":
        if not isinstance(spec, Mapping):
            raise InvalidParameterError(f"a scenario must be a table/mapping, got {type(spec).__name__}")
        allowed = set(cls.__dataclass_fields__) | {"known_variables"}
        bad = sorted(set(spec) - allowed)
        if bad:
            raise InvalidParameterError(
                f"scenario {spec.get('name', '?')!r} has unknown fields: {', '.join(bad)} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
        if "name" not in spec:
            raise InvalidParameterError(f"scenario {spec.get('name', '?')!r} needs the field 'name'")
        if "quasi_identifiers" not in spec and "known_variables" not in spec:
            raise InvalidParameterError(f"scenario {spec.get('name', '?')!r} needs the field 'quasi_identifiers'")
        return cls(**dict(spec))


def _preset_files():
    root = resources.files("idrisk.intruder") / "presets"
    return sorted((p for p in root.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)


def load_scenarios(path_or_name) -> list[IntruderScenario]:
    """Load scenarios from a TOML file, a preset file name or one preset scenario's name.

    The TOML holds one ``[[scenario]]`` table per scenario with the fields of
    :class:`IntruderScenario`. ``"pupil"`` loads every pupil-data preset shipped in
    ``idrisk/intruder/presets/pupil.toml`` (docs/methods.md#attacker-models: nosy neighbour, journalist
    fishing, targeted detailed knowledge, bulk linkage); a scenario name such as
    ``"nosy_neighbour"`` loads that preset alone.
    """
    if isinstance(path_or_name, Path) or (isinstance(path_or_name, str) and
                                          (path_or_name.endswith(".toml") or "/" in path_or_name)):
        p = Path(path_or_name)
        if not p.is_file():
            raise InvalidParameterError(f"scenario file not found: {p}")
        return _parse(p.read_text(encoding="utf-8"), str(p))
    if not isinstance(path_or_name, str):
        raise InvalidParameterError(f"load_scenarios takes a TOML path or a preset name, got {path_or_name!r}")
    files = _preset_files()
    for f in files:
        if f.name == f"{path_or_name}.toml":
            return _parse(f.read_text(encoding="utf-8"), f.name)
    everything = []
    for f in files:
        everything.extend(_parse(f.read_text(encoding="utf-8"), f.name))
    hit = [s for s in everything if s.name == path_or_name]
    if hit:
        return hit
    raise InvalidParameterError(
        f"no preset named {path_or_name!r}; preset files: {', '.join(f.name[:-5] for f in files)}; "
        f"scenarios: {', '.join(s.name for s in everything)}"
    )


def _parse(text: str, origin: str) -> list[IntruderScenario]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameterError(f"{origin} is not valid TOML: {exc}") from None
    items = doc.get("scenario")
    if not isinstance(items, list) or not items:
        raise InvalidParameterError(f"{origin} holds no [[scenario]] tables")
    return [IntruderScenario.from_dict(s) for s in items]


def _known_variables(self) -> tuple:
    """Deprecated name of :attr:`IntruderScenario.quasi_identifiers`."""
    warnings.warn("IntruderScenario.known_variables is deprecated: use quasi_identifiers", DeprecationWarning,
                  stacklevel=2)
    return self.quasi_identifiers


IntruderScenario.known_variables = property(_known_variables)
_dataclass_init = IntruderScenario.__init__


@functools.wraps(_dataclass_init)
def _init(self, *args, known_variables=None, **kwargs):
    # ``known_variables``: the deprecated name of ``quasi_identifiers`` (keyword and TOML key)
    if known_variables is not None:
        warnings.warn("IntruderScenario's `known_variables` is deprecated: use `quasi_identifiers`",
                      DeprecationWarning, stacklevel=2)
        if "quasi_identifiers" in kwargs or len(args) > 1:
            raise InvalidParameterError("give quasi_identifiers, not also its deprecated name known_variables")
        kwargs["quasi_identifiers"] = known_variables
    _dataclass_init(self, *args, **kwargs)


IntruderScenario.__init__ = _init
