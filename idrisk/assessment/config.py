"""The assessment configuration: one dataclass, the same as a TOML or JSON file.

A TOML file looks like this (every section but ``[extract]`` and one ``[[scenario]]`` is
optional; paths are relative to the TOML file; docs/methods.md#assessment)::

    [extract]
    path = "ks4_extract.parquet"        # CSV (.csv, .csv.gz), Parquet, Stata .dta, SPSS .sav
    name = "KS4 extract 2024"
    profile = "npd"                     # what is known about the data: "npd" (default) or "generic"
    direct_identifiers = ["pupil_id"]   # dropped before anything is measured
    # removed = ["date_of_birth"]       # the assessor removes these before release (not assessed)
    # non_identifying = ["school_ref"]  # looks like an identifier (name or content), declared it is not
    # reference = "DR-2024-0183"        # shown on the report: request reference, assessor, date
    # assessor = "A. Analyst"
    # date = "2024-06-01"
    census = true                       # pi = 1: every member of the population is in the file
    # weights = "weight"                # sampling weights column, or
    # population_size = 650000          # size of the population the extract is drawn from

    [[scenario]]                        # one per plausible attack: the key the intruder holds
    name = "nosy neighbour"
    quasi_identifiers = ["urn", "year_group", "sex", "birth_month", "ethnicity_major"]
    intruder = "nosy_neighbour"         # optional intruder preset simulated on this key

    [sensitive]                         # attribute -> tier (1 = most sensitive)
    sen_primary_need = { tier = 1, special_category = true }
    fsm = { tier = 1 }

    [tiers]                             # tier of other columns (quasi-identifiers...)
    birth_month = 1

    [flags]                             # content the data owner declares
    social_care = false                 # CIN / CLA indicators
    exclusion_or_absence_reasons = false
    membership_sensitive = false
    small_area_geography = false

    [thresholds]                        # see idrisk.assessment.indicators for their basis
    min_k = 10
    max_individual_risk = 0.1

    [analysis]
    seed = 1
    missing = "category"
    max_msu_size = 4                    # "none": no limit
    intruder_runs = 5                   # seeded runs of each intruder (median and range)
    sweep_max_size = 3

    [mitigation]                        # default: the profile's
    geography = ["lsoa", "postcode_district", "la_code", "region"]
    groupings = { ethnicity_minor = "ethnicity_major" }

The same configuration as a dictionary is :meth:`AssessmentConfig.to_dict` (the
``config`` of a result); :func:`config_from_dict` reads either form, so a configuration
round-trips through a dictionary, TOML (:meth:`AssessmentConfig.to_toml`) and JSON
(:mod:`idrisk.assessment.config_io` reads them).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from .._validation import describe, output_path, raise_problems
from ..exceptions import InvalidParameterError
from ..profiles import DEFAULT_PROFILE, get_profile
from . import _toml
from ._constraints import FLAG_NAMES, NO_LIMIT, config_problems, sensitive_problems, threshold_problems


__all__ = ["AssessmentConfig", "Scenario", "SensitiveAttribute", "Thresholds", "thresholds_from_dict"]



@dataclass
class Scenario:
    """One attack scenario: the key variables (quasi-identifiers) a plausible intruder holds."""

    name: str
    quasi_identifiers: list[str]
    intruder: str | None = None  # name of an idrisk.intruder preset (or None: error-free intruder)
    public: bool = True  # a plausible *public* key: the safeguarded-route conditions apply to it

    def to_dict(self) -> dict:
        return {"name": self.name, "quasi_identifiers": list(self.quasi_identifiers),
                "intruder": self.intruder, "public": self.public}


@dataclass
class SensitiveAttribute:
    """A sensitive attribute, its tier (1 = identifying and highly sensitive) and category."""

    name: str
    tier: int | None = None
    special_category: bool = False  # UK GDPR Art. 9 (ethnicity, health incl. SEN type)

    def to_dict(self) -> dict:
        return {"name": self.name, "tier": self.tier, "special_category": self.special_category}


@dataclass
class Thresholds:
    """Thresholds of the safeguarded-route conditions (docs/methods.md#routes).

    Every default is an idrisk convention taken from the guidance cited in
    :mod:`idrisk.assessment.indicators`; the approval board may change any of them.
    """

    min_k: int = 10
    max_sample_unique_share: float = 0.0
    max_individual_risk: float = 0.1
    special_unique_msu_size: int = 2
    min_distinct_l: int = 2
    max_homogeneous_share: float = 0.0
    max_correct_claims: int = 0
    claim_confidence: float = 0.5
    refer_back_reduction: float = 0.5  # a single coarsening removing this share of at-risk records

    def __post_init__(self):
        raise_problems(threshold_problems(dataclasses.asdict(self)))
        for f in dataclasses.fields(self):  # an integer given for a share is kept as a float
            setattr(self, f.name, (int if f.type in ("int", int) else float)(getattr(self, f.name)))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(eq=False)
class AssessmentConfig:
    """Everything an assessment needs; round-trips through a dict, TOML and JSON.

    Parameters
    ----------
    scenarios : list of Scenario (or dicts, or lists of column names)
        Quasi-identifier sets, one per attack scenario.
    data : str or path, optional
        The extract file (CSV, Parquet, Stata .dta, SPSS .sav). ``None`` when the frame is
        passed to :func:`idrisk.assess` directly.
    name : str
    sensitive : list of SensitiveAttribute (or a dict name -> {tier, special_category})
    direct_identifiers : list of str
        Columns dropped before measuring (their presence is reported, never their values).
    removed : list of str
        Other columns the assessor declares will be removed before release: dropped before
        measuring, listed as removed (a finer form of a key variable is then not used).
    non_identifying : list of str
        Columns whose name or content looks like a direct identifier, declared not to
        identify anyone by the assessor (they stop forcing a controlled route).
    reference, assessor, date : str, optional
        The request reference, who assessed it and when: shown on the report's first page
        (given, never taken from the clock, so the same inputs give the same bytes).
    weights, population_size
        Sampling weights column or population size; neither means a census extract (pi = 1).
        A weight is the number of population units a record stands for: positive and finite;
        a weight below 1 is warned about, and weights adding up to fewer than the records
        (a sampling fraction above 1) are refused.
    census : bool, optional
        Declares the extract a census of its population; by default a census unless
        weights or a population size are given.
    flags : dict of str -> bool
        ``social_care``, ``exclusion_or_absence_reasons``, ``membership_sensitive``,
        ``small_area_geography``.
    thresholds : Thresholds (or a dict)
    seed : int
        Seed of every simulation (intruder); same inputs and seed give identical JSON.
    missing : {"category", "wildcard", "never"}
        The missing-value convention of every measure (docs/methods.md#missing-values).
    max_msu_size, sweep_max_size : int or None
        Largest MSU size searched by SUDA2 and largest subset of the combination sweep.
    k_values : tuple of int
    intruder_targets : int
        Most targets of a simulated intruder.
    intruder_runs : int
        Seeded runs of each simulated intruder (seeds ``seed``, ``seed + 1``, ...): the
        figures are reported as median and range, the route uses the highest.
    intruder_memory_budget : int, optional
        Bytes the simulated intruder's candidate pairs may take (``memory_budget`` of
        :func:`idrisk.intruder.simulate_intruder`); absent: ``IDRISK_MEMORY_BUDGET``, else a
        quarter of physical memory, at most 4 GiB. A linkage above it is refused before it
        allocates (the intruder measure is then not computed, with the counts as the reason).
    mitigations : bool
        Try what-if coarsenings on the riskiest scenario.
    geography, groupings : optional
        Geography ladder and fine -> coarse groupings of the what-if; default: the profile's.
    tiers : dict column -> int
        Tier of any other column (e.g. a quasi-identifier like birth_month).
    profile : str
        What is known about the kind of data: ``"npd"`` (default) or ``"generic"``
        (:mod:`idrisk.profiles`).

    Two configurations are equal when they run the same assessment: ``census``,
    ``geography`` and ``groupings`` are compared by their effective values, and the
    directory relative paths are resolved from is not compared.
    """

    scenarios: list[Scenario]
    data: str | None = None
    name: str = "extract"
    sensitive: list[SensitiveAttribute] = field(default_factory=list)
    direct_identifiers: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    non_identifying: list[str] = field(default_factory=list)
    reference: str | None = None
    assessor: str | None = None
    date: str | None = None
    weights: str | None = None
    population_size: int | None = None
    census: bool | None = None
    flags: dict = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    seed: int = 0
    missing: str = "category"
    max_msu_size: int | None = 4
    sweep_max_size: int | None = 3
    k_values: tuple = (2, 3, 5, 10)
    intruder_targets: int = 2000
    intruder_runs: int = 5
    intruder_memory_budget: int | None = None
    mitigations: bool = True
    geography: list[str] | None = None
    groupings: dict | None = None
    tiers: dict = field(default_factory=dict)
    profile: str = DEFAULT_PROFILE
    base_dir: str | None = field(default=None, repr=False)

    FLAG_NAMES = FLAG_NAMES

    def __post_init__(self):
        raise_problems(config_problems({f.name: getattr(self, f.name) for f in dataclasses.fields(self)}))
        self.scenarios = [s if isinstance(s, Scenario) else _scenario(s, i) for i, s in enumerate(self.scenarios)]
        names = [s.name for s in self.scenarios]  # a default name ("scenario 2") can meet a given one
        if len(set(names)) < len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise InvalidParameterError(
                f"config [[scenario]]: scenario names must be unique; repeated: {', '.join(dup)}")
        if isinstance(self.sensitive, dict):
            self.sensitive = [_sensitive(k, v) for k, v in self.sensitive.items()]
        self.sensitive = [s if isinstance(s, SensitiveAttribute) else _sensitive_item(s) for s in self.sensitive]
        if isinstance(self.thresholds, dict):
            self.thresholds = thresholds_from_dict(self.thresholds)
        self.flags = {k: self.flags.get(k, False) for k in self.FLAG_NAMES}
        self.seed = int(self.seed)
        self.intruder_targets = int(self.intruder_targets)
        self.intruder_runs = int(self.intruder_runs)
        if self.intruder_memory_budget is not None:
            self.intruder_memory_budget = int(self.intruder_memory_budget)
        for nm in ("max_msu_size", "sweep_max_size"):
            if getattr(self, nm) == NO_LIMIT:
                setattr(self, nm, None)
            elif getattr(self, nm) is not None:
                setattr(self, nm, int(getattr(self, nm)))
        self.tiers = {str(k): int(v) for k, v in dict(self.tiers).items()}
        self.k_values = tuple(sorted({int(k) for k in self.k_values}))
        self.direct_identifiers = list(self.direct_identifiers)
        self.removed = list(self.removed)
        self.non_identifying = list(self.non_identifying)
        if self.geography is not None:
            self.geography = list(self.geography)
        if self.groupings is not None:
            self.groupings = dict(self.groupings)
        if isinstance(self.data, PurePath):
            self.data = str(self.data)

    # -- effective values ---------------------------------------------------------------------------
    @property
    def is_census(self) -> bool:
        if self.census is not None:
            return bool(self.census)
        return self.weights is None and self.population_size is None

    @property
    def mitigation_geography(self) -> list[str]:
        """The geography ladder of the what-if: ``geography``, or the profile's."""
        return list(get_profile(self.profile).geography if self.geography is None else self.geography)

    @property
    def mitigation_groupings(self) -> dict:
        """The groupings of the what-if: ``groupings``, or the profile's."""
        return dict(get_profile(self.profile).groupings if self.groupings is None else self.groupings)

    @property
    def all_quasi_identifiers(self) -> list[str]:
        out: list[str] = []
        for s in self.scenarios:
            out += [q for q in s.quasi_identifiers if q not in out]
        return out

    def data_path(self) -> Path | None:
        if self.data is None:
            return None
        p = Path(self.data)
        if not p.is_absolute() and self.base_dir is not None:
            p = Path(self.base_dir) / p
        return p

    # -- forms --------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain, JSON-serialisable form: the ``config`` of a result.

        Effective values are written (census, geography, groupings). A relative data path is
        kept, an absolute one reduced to the file name (it names the machine it ran on); the
        base directory is left out. ``profile`` is written only when it is not the default,
        so results of the default profile keep their layout.
        """
        d = {
            "name": self.name,
            "data": _portable(self.data),
            "scenarios": [s.to_dict() for s in self.scenarios],
            "sensitive": [s.to_dict() for s in self.sensitive],
            "direct_identifiers": list(self.direct_identifiers),
            "weights": self.weights,
            "population_size": self.population_size,
            "census": self.is_census,
            "flags": dict(self.flags),
            "thresholds": self.thresholds.to_dict(),
            "seed": self.seed,
            "missing": self.missing,
            "max_msu_size": self.max_msu_size,
            "sweep_max_size": self.sweep_max_size,
            "k_values": list(self.k_values),
            "intruder_targets": self.intruder_targets,
            "intruder_runs": self.intruder_runs,
            "mitigations": self.mitigations,
            "geography": self.mitigation_geography,
            "groupings": self.mitigation_groupings,
            "tiers": dict(sorted(self.tiers.items())),
        }
        if self.profile != DEFAULT_PROFILE:
            d["profile"] = self.profile
        for name in ("removed", "non_identifying"):  # written when given
            if getattr(self, name):
                d[name] = list(getattr(self, name))
        for name in ("reference", "assessor", "date"):
            if getattr(self, name) is not None:
                d[name] = getattr(self, name)
        if self.intruder_memory_budget is not None:  # a resource limit, written only when set
            d["intruder_memory_budget"] = self.intruder_memory_budget
        return d

    def to_toml(self, path=None, *, overwrite: bool = False) -> str:
        """The configuration as TOML text (the layout of the module docstring).

        Written to ``path`` too when given; an existing file is replaced only with
        ``overwrite=True``.
        """
        d = self.to_dict()
        text = _toml.dumps(
            [("[extract]", {"path": d["data"], "name": d["name"], "profile": self.profile,
                            "direct_identifiers": d["direct_identifiers"], "census": d["census"],
                            "weights": d["weights"], "population_size": d["population_size"],
                            **{k: d[k] for k in ("removed", "non_identifying", "reference", "assessor", "date")
                               if k in d}})]
            + [("[[scenario]]", s) for s in d["scenarios"]]
            + [("[sensitive]", {s["name"]: {"tier": s["tier"], "special_category": s["special_category"]}
                                for s in d["sensitive"]}),
               ("[tiers]", d["tiers"]), ("[flags]", d["flags"]), ("[thresholds]", d["thresholds"]),
               ("[analysis]", {"seed": d["seed"], "missing": d["missing"],
                               "max_msu_size": NO_LIMIT if d["max_msu_size"] is None else d["max_msu_size"],
                               "sweep_max_size": NO_LIMIT if d["sweep_max_size"] is None else d["sweep_max_size"],
                               "k_values": d["k_values"], "intruder_targets": d["intruder_targets"],
                               "intruder_runs": d["intruder_runs"],
                               "intruder_memory_budget": self.intruder_memory_budget,
                               "mitigations": d["mitigations"]}),
               ("[mitigation]", {"geography": d["geography"], "groupings": d["groupings"]})])
        _write(path, text, overwrite)
        return text

    def to_json(self, path=None, *, overwrite: bool = False) -> str:
        """:meth:`to_dict` as JSON text (written to ``path`` too when given, never over a file
        without ``overwrite=True``)."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        _write(path, text, overwrite)
        return text

    def _identity(self) -> dict:
        d = self.to_dict()
        d["data"] = self.data
        d["profile"] = self.profile
        return d

    def __eq__(self, other):
        if not isinstance(other, AssessmentConfig):
            return NotImplemented
        return self._identity() == other._identity()

    __hash__ = None


def _portable(data) -> str | None:
    if data is None:
        return None
    p = Path(data)
    return p.name if p.is_absolute() else p.as_posix()


def _write(path, text: str, overwrite: bool) -> None:
    if path is None:
        return
    output_path(path, overwrite=overwrite).write_text(text, encoding="utf-8")


def _scenario(s, i) -> Scenario:
    """A Scenario from a list of column names or a table (already checked by config_problems)."""
    if isinstance(s, (list, tuple)):
        return Scenario(name=f"scenario {i + 1}", quasi_identifiers=list(s))
    return Scenario(name=s.get("name", f"scenario {i + 1}"), quasi_identifiers=list(s["quasi_identifiers"]),
                    intruder=s.get("intruder"), public=s.get("public", True))


def _sensitive_item(s) -> SensitiveAttribute:
    if isinstance(s, dict) and "name" in s:  # the form of to_dict
        return _sensitive(s["name"], {k: v for k, v in s.items() if k != "name"})
    return _sensitive(s, {})


def _sensitive(name, spec) -> SensitiveAttribute:
    if isinstance(spec, int) and not isinstance(spec, bool):
        spec = {"tier": spec}
    raise_problems(sensitive_problems({name: spec}))
    return SensitiveAttribute(name=name, tier=spec.get("tier"), special_category=spec.get("special_category", False))


def thresholds_from_dict(d: dict) -> Thresholds:
    """:class:`Thresholds` from a dict of some of its fields (the others keep their defaults)."""
    if not isinstance(d, dict):
        raise InvalidParameterError(f"config [thresholds]: thresholds must be a table; got {describe(d)}")
    raise_problems(threshold_problems(d))
    return Thresholds(**d)
