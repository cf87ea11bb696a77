"""The assessment configuration: one dataclass, the same as a TOML file.

A TOML file looks like this (every section but ``[extract]`` and one ``[[scenario]]`` is
optional; paths are relative to the TOML file)::

    [extract]
    path = "ks4_extract.parquet"        # CSV (.csv, .csv.gz), Parquet, Stata .dta, SPSS .sav
    name = "KS4 extract 2024"
    direct_identifiers = ["pupil_id"]   # dropped before anything is measured
    census = true                       # pi = 1: every pupil of the cohort is in the file
    # weights = "weight"                # sampling weights column, or
    # population_size = 650000          # size of the population the extract is drawn from

    [[scenario]]                        # one per plausible attack: the key the intruder holds
    name = "nosy neighbour"
    quasi_identifiers = ["urn", "year_group", "sex", "birth_month", "ethnicity_major"]
    intruder = "nosy_neighbour"         # optional intruder preset simulated on this key

    [sensitive]                         # attribute -> NPD tier (1 = most sensitive)
    sen_primary_need = { tier = 1, special_category = true }
    fsm = { tier = 1 }

    [tiers]                             # NPD tier of other columns (QIs...)
    birth_month = 1

    [flags]                             # content the data owner declares
    social_care = false                 # CIN / CLA indicators
    exclusion_or_absence_reasons = false
    membership_sensitive = false
    small_area_geography = false

    [thresholds]                        # see idrisk.assessment.indicators for basis
    min_k = 10
    max_individual_risk = 0.1

    [analysis]
    seed = 1
    missing = "category"
    max_msu_size = 4
    sweep_max_size = 3

    [mitigation]
    geography = ["lsoa", "postcode_district", "la_code", "region"]
    groupings = { ethnicity_minor = "ethnicity_major" }
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import InvalidParameterError

__all__ = ["AssessmentConfig", "Scenario", "SensitiveAttribute", "Thresholds", "load_config"]

MISSING = ("category", "wildcard", "never")


@dataclass
class Scenario:
    """One attack scenario: the key variables (QIs) a plausible intruder holds."""

    name: str
    quasi_identifiers: list[str]
    intruder: str | None = None  # name of an idrisk.intruder preset (or None: error-free intruder)
    public: bool = True  # a plausible *public* key: the safeguarded-route conditions apply to it

    def to_dict(self) -> dict:
        return {"name": self.name, "quasi_identifiers": list(self.quasi_identifiers),
                "intruder": self.intruder, "public": self.public}


@dataclass
class SensitiveAttribute:
    """A sensitive attribute, its NPD tier (1 = identifying and highly sensitive) and category."""

    name: str
    tier: int | None = None
    special_category: bool = False  # UK GDPR Art. 9 (ethnicity, health incl. SEN type)

    def to_dict(self) -> dict:
        return {"name": self.name, "tier": self.tier, "special_category": self.special_category}


@dataclass
class Thresholds:
    """Thresholds of the safeguarded-route conditions (domain.md section 6.2).

    Every default is an idrisk convention taken from the guidance cited in
    :mod:`idrisk.assessment.indicators`; the approval board may change any of them.
    """

    min_k: int = 10
    max_sample_unique_share: float = 0.0
    max_individual_risk: float = 0.1
    special_unique_msu_size: int = 2
    min_distinct_l: int = 2
    max_correct_claims: int = 0
    claim_confidence: float = 0.5
    refer_back_reduction: float = 0.5  # a single coarsening removing this share of at-risk records

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class AssessmentConfig:
    """Everything an assessment needs; round-trips through TOML (:func:`load_config`).

    Parameters
    ----------
    data : str or path, optional
        The extract file (CSV, Parquet, Stata .dta, SPSS .sav). ``None`` when the frame is
        passed to :func:`idrisk.assess` directly.
    scenarios : list of Scenario
        Quasi-identifier sets, one per attack scenario.
    sensitive : list of SensitiveAttribute
    direct_identifiers : list of str
        Columns dropped before measuring (their presence is reported, never their values).
    weights, population_size
        Sampling weights column or population size; neither means a census extract (pi = 1).
    census : bool
        Declares the extract a census of its population (no protection from sampling).
    flags : dict of str -> bool
        ``social_care``, ``exclusion_or_absence_reasons``, ``membership_sensitive``,
        ``small_area_geography``.
    seed : int
        Seed of every simulation (intruder); same inputs and seed give identical JSON.
    """

    scenarios: list[Scenario]
    data: str | None = None
    name: str = "extract"
    sensitive: list[SensitiveAttribute] = field(default_factory=list)
    direct_identifiers: list[str] = field(default_factory=list)
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
    mitigations: bool = True
    geography: list[str] = field(default_factory=lambda: ["lsoa", "postcode_district", "la_code", "region"])
    groupings: dict = field(default_factory=lambda: {"ethnicity_minor": "ethnicity_major"})
    tiers: dict = field(default_factory=dict)  # NPD tier of any other column (e.g. a QI like birth_month)
    base_dir: str | None = field(default=None, repr=False)

    FLAG_NAMES = ("social_care", "exclusion_or_absence_reasons", "membership_sensitive", "small_area_geography")

    def __post_init__(self):
        self.scenarios = [s if isinstance(s, Scenario) else _scenario(s, i) for i, s in enumerate(self.scenarios)]
        if not self.scenarios:
            raise InvalidParameterError("an assessment needs at least one scenario (a set of quasi-identifiers)")
        names = [s.name for s in self.scenarios]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InvalidParameterError(f"scenario names must be unique; repeated: {', '.join(dup)}")
        if isinstance(self.sensitive, dict):
            self.sensitive = [_sensitive(k, v) for k, v in self.sensitive.items()]
        self.sensitive = [s if isinstance(s, SensitiveAttribute) else _sensitive(s, {}) for s in self.sensitive]
        if isinstance(self.thresholds, dict):
            self.thresholds = _thresholds(self.thresholds)
        unknown = sorted(set(self.flags) - set(self.FLAG_NAMES))
        if unknown:
            raise InvalidParameterError(
                f"unknown flag(s): {', '.join(unknown)} (known: {', '.join(self.FLAG_NAMES)})")
        self.flags = {k: bool(self.flags.get(k, False)) for k in self.FLAG_NAMES}
        if self.missing not in MISSING:
            raise InvalidParameterError(f"missing must be one of {', '.join(MISSING)}, got {self.missing!r}")
        if self.population_size is not None:
            if isinstance(self.population_size, bool) or not isinstance(self.population_size, int) \
                    or self.population_size < 1:
                raise InvalidParameterError(
                    f"population_size must be a positive integer, got {self.population_size!r}")
        if self.weights is not None and self.population_size is not None:
            raise InvalidParameterError("give either weights or population_size, not both")
        for nm in ("seed", "intruder_targets"):
            v = getattr(self, nm)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise InvalidParameterError(f"{nm} must be a non-negative integer, got {v!r}")
        for nm in ("max_msu_size", "sweep_max_size"):
            v = getattr(self, nm)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise InvalidParameterError(f"{nm} must be a positive integer or absent, got {v!r}")
        for col, t in dict(self.tiers).items():
            if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= 4:
                raise InvalidParameterError(f"tier of {col!r} must be 1, 2, 3 or 4, got {t!r}")
        self.tiers = {str(k): int(v) for k, v in dict(self.tiers).items()}
        self.k_values = tuple(sorted({int(k) for k in self.k_values}))
        if any(k < 1 for k in self.k_values):
            raise InvalidParameterError(f"k values must be at least 1, got {self.k_values}")

    @property
    def is_census(self) -> bool:
        if self.census is not None:
            return bool(self.census)
        return self.weights is None and self.population_size is None

    @property
    def all_quasi_identifiers(self) -> list[str]:
        out: list[str] = []
        for s in self.scenarios:
            out += [q for q in s.quasi_identifiers if q not in out]
        return out

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable form (no base directory: it depends on where it ran)."""
        return {
            "name": self.name,
            "data": None if self.data is None else Path(self.data).name,
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
            "mitigations": self.mitigations,
            "geography": list(self.geography),
            "groupings": dict(self.groupings),
            "tiers": dict(sorted(self.tiers.items())),
        }

    def data_path(self) -> Path | None:
        if self.data is None:
            return None
        p = Path(self.data)
        if not p.is_absolute() and self.base_dir is not None:
            p = Path(self.base_dir) / p
        return p


def _scenario(s, i) -> Scenario:
    if isinstance(s, (list, tuple)):
        return Scenario(name=f"scenario {i + 1}", quasi_identifiers=list(s))
    if isinstance(s, dict):
        unknown = sorted(set(s) - {"name", "quasi_identifiers", "intruder", "public"})
        if unknown:
            raise InvalidParameterError(f"scenario {i + 1}: unknown key(s) {', '.join(unknown)}")
        qis = s.get("quasi_identifiers")
        if not qis or not isinstance(qis, (list, tuple)) or not all(isinstance(q, str) for q in qis):
            raise InvalidParameterError(
                f"scenario {i + 1} needs quasi_identifiers = a non-empty list of column names")
        return Scenario(name=str(s.get("name", f"scenario {i + 1}")), quasi_identifiers=list(qis),
                        intruder=s.get("intruder"), public=bool(s.get("public", True)))
    raise InvalidParameterError(f"scenario {i + 1} must be a table or a list of column names, got {s!r}")


def _sensitive(name, spec) -> SensitiveAttribute:
    if isinstance(spec, int) and not isinstance(spec, bool):
        spec = {"tier": spec}
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"sensitive attribute {name!r}: expected a table like {{ tier = 1 }}")
    unknown = sorted(set(spec) - {"tier", "special_category"})
    if unknown:
        raise InvalidParameterError(f"sensitive attribute {name!r}: unknown key(s) {', '.join(unknown)}")
    tier = spec.get("tier")
    if tier is not None and (isinstance(tier, bool) or not isinstance(tier, int) or not 1 <= tier <= 4):
        raise InvalidParameterError(f"sensitive attribute {name!r}: tier must be 1, 2, 3 or 4, got {tier!r}")
    return SensitiveAttribute(name=str(name), tier=tier, special_category=bool(spec.get("special_category", False)))


def _thresholds(d: dict) -> Thresholds:
    known = {f.name: f for f in dataclasses.fields(Thresholds)}
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise InvalidParameterError(f"unknown threshold(s): {', '.join(unknown)} (known: {', '.join(known)})")
    out = Thresholds()
    for k, v in d.items():
        default = getattr(out, k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InvalidParameterError(f"threshold {k} must be a number, got {v!r}")
        if isinstance(default, int) and not float(v).is_integer():
            raise InvalidParameterError(f"threshold {k} must be a whole number, got {v!r}")
        if v < 0:
            raise InvalidParameterError(f"threshold {k} must not be negative, got {v!r}")
        setattr(out, k, type(default)(v))
    return out


_TOP = {"extract", "scenario", "sensitive", "flags", "thresholds", "analysis", "mitigation", "tiers"}


def config_from_dict(doc: dict, *, base_dir: str | None = None) -> AssessmentConfig:
    """Build an :class:`AssessmentConfig` from the parsed TOML document."""
    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise InvalidParameterError(f"unknown section(s) in the config: {', '.join(unknown)} "
                                    f"(known: {', '.join(sorted(_TOP))})")
    ext = dict(doc.get("extract", {}))
    known_ext = {"path", "name", "direct_identifiers", "census", "weights", "population_size"}
    bad = sorted(set(ext) - known_ext)
    if bad:
        raise InvalidParameterError(f"unknown key(s) in [extract]: {', '.join(bad)}")
    analysis = dict(doc.get("analysis", {}))
    known_an = {"seed", "missing", "max_msu_size", "sweep_max_size", "k_values", "intruder_targets", "mitigations"}
    bad = sorted(set(analysis) - known_an)
    if bad:
        raise InvalidParameterError(f"unknown key(s) in [analysis]: {', '.join(bad)}")
    mit = dict(doc.get("mitigation", {}))
    bad = sorted(set(mit) - {"geography", "groupings"})
    if bad:
        raise InvalidParameterError(f"unknown key(s) in [mitigation]: {', '.join(bad)}")
    scen = doc.get("scenario")
    if not scen:
        raise InvalidParameterError("the config needs at least one [[scenario]] with quasi_identifiers")
    kwargs: dict[str, Any] = dict(
        scenarios=list(scen), data=ext.get("path"), name=str(ext.get("name", "extract")),
        direct_identifiers=list(ext.get("direct_identifiers", [])), weights=ext.get("weights"),
        population_size=ext.get("population_size"), census=ext.get("census"),
        sensitive=dict(doc.get("sensitive", {})), flags=dict(doc.get("flags", {})),
        thresholds=dict(doc.get("thresholds", {})), tiers=dict(doc.get("tiers", {})), base_dir=base_dir)
    for k in known_an:
        if k in analysis:
            kwargs[k] = tuple(analysis[k]) if k == "k_values" else analysis[k]
    if "geography" in mit:
        kwargs["geography"] = list(mit["geography"])
    if "groupings" in mit:
        kwargs["groupings"] = dict(mit["groupings"])
    return AssessmentConfig(**kwargs)


def load_config(path) -> AssessmentConfig:
    """Read an assessment TOML file (see the module docstring for its layout)."""
    p = Path(path)
    if not p.is_file():
        raise InvalidParameterError(f"config file not found: {p}")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"{p} is not a valid TOML file: {exc}") from None
    return config_from_dict(doc, base_dir=str(p.parent))
