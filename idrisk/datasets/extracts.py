"""Standard extracts cut from a pupil population, with the role of every column.

Modelled on the NPD standard extracts offered in the ONS Secure Research Service
(School Census pupil-level, KS2, KS4 linked to KS2 prior attainment, absence and
exclusions). Each :class:`Extract` says which columns are direct identifiers (must never
leave the secure setting), quasi-identifiers (an intruder could know them), sensitive
attributes (with their NPD tier) and other columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .._validation import as_frame, check_columns
from ..exceptions import InvalidParameterError
from ..profiles import NPD

__all__ = ["EXTRACT_KINDS", "Extract", "extract", "NPD_TIERS", "ROLES"]

ROLES = ("direct_identifier", "quasi_identifier", "sensitive", "other")

#: NPD tier of each population column (the NPD profile's item tiers, see
#: :mod:`idrisk.profiles.npd`); columns not listed have no tier.
NPD_TIERS = NPD.item_tiers
#: the direct identifier of every extract: the pupil id that links it to the ground truth
_PUPIL_ID = NPD.truth_id

_SCHOOL = ["urn", "la_code", "region", "school_phase", "school_type"]
_PERSON = ["year_group", "sex", "birth_month", "birth_year"]

# (direct identifiers, quasi-identifiers, sensitive, other, row filter, description)
_SPECS = {
    "school_census": dict(
        direct=[_PUPIL_ID],
        qi=_SCHOOL + _PERSON + ["ethnicity_minor", "ethnicity_major", "eal",
                                "first_language", "lsoa", "postcode_district"],
        sensitive=["fsm", "sen_provision", "sen_primary_need"],
        other=[],
        rows=None,
        description="Spring school census, pupil level: every pupil on roll in a "
                    "state-funded school (January 2024)."),
    "ks2": dict(
        direct=[_PUPIL_ID],
        qi=_SCHOOL + ["sex", "birth_month", "birth_year", "ethnicity_minor",
                      "ethnicity_major", "eal", "first_language"],
        sensitive=["ks2_reading", "ks2_maths", "fsm", "sen_provision", "sen_primary_need"],
        other=[],
        rows=lambda p: p["year_group"] == 6,
        description="Key stage 2 (end of Year 6, summer 2024) with pupil characteristics; "
                    "pupils not scored have missing scaled scores."),
    "ks4": dict(
        direct=[_PUPIL_ID],
        qi=_SCHOOL + ["sex", "birth_month", "birth_year", "ethnicity_minor",
                      "ethnicity_major", "eal", "first_language"],
        sensitive=["attainment8", "ks2_reading", "ks2_maths", "fsm", "sen_provision",
                   "sen_primary_need"],
        other=[],
        rows=lambda p: p["year_group"] == 11,
        description="Key stage 4 (end of Year 11, summer 2024) linked to KS2 prior "
                    "attainment (KS2 taken in 2019)."),
    "absence_exclusions": dict(
        direct=[_PUPIL_ID],
        qi=_SCHOOL + _PERSON + ["ethnicity_major"],
        sensitive=["absence_rate", "persistent_absence", "suspensions",
                   "permanent_exclusion", "fsm", "sen_provision"],
        other=[],
        rows=lambda p: p["year_group"] >= 1,
        description="Absence and exclusions for Years 1-13 in 2023/24 (Reception is below "
                    "compulsory school age and is left out); persistent absence = at least "
                    "10% of possible sessions missed."),
}
EXTRACT_KINDS = tuple(_SPECS)
_DERIVED = {"persistent_absence": ("absence_rate", lambda s: s >= 0.10)}


@dataclass(frozen=True)
class Extract:
    """A standard extract: its rows and the role of every column.

    Attributes
    ----------
    name : str
        The extract kind, e.g. ``"ks4"``.
    data : pandas.DataFrame
        The records (a copy; modifying it does not change the population).
    roles : dict column -> role
        One of ``"direct_identifier"``, ``"quasi_identifier"``, ``"sensitive"``, ``"other"``.
    sensitive_tiers : dict column -> int
        NPD tier (1 = most sensitive) of every column that has one (the NPD profile's item
        tiers, :data:`NPD_TIERS`).
    description : str
    """

    name: str
    data: pd.DataFrame = field(repr=False)
    roles: dict
    sensitive_tiers: dict
    description: str = ""

    def _with_role(self, role):
        return [c for c, r in self.roles.items() if r == role]

    @property
    def direct_identifiers(self) -> list:
        """Columns that identify a pupil on their own and must never leave (e.g. pupil_id)."""
        return self._with_role("direct_identifier")

    @property
    def quasi_identifiers(self) -> list:
        return self._with_role("quasi_identifier")

    @property
    def sensitive(self) -> list:
        return self._with_role("sensitive")

    @property
    def other(self) -> list:
        return self._with_role("other")

    @property
    def n_rows(self) -> int:
        return len(self.data)

    def releasable(self) -> pd.DataFrame:
        """The data without its direct identifiers (what could ever be assessed for release)."""
        return self.data.drop(columns=self.direct_identifiers)

    def to_dict(self) -> dict:
        """JSON-serialisable description (no record-level values)."""
        return {
            "name": self.name,
            "description": self.description,
            "n_rows": int(len(self.data)),
            "columns": [str(c) for c in self.data.columns],
            "roles": {str(k): str(v) for k, v in self.roles.items()},
            "sensitive_tiers": {str(k): int(v) for k, v in self.sensitive_tiers.items()},
        }


def extract(population: pd.DataFrame, kind: str, *, include_date_of_birth: bool = False,
            include_direct_identifiers: bool = True) -> Extract:
    """Cut a standard extract from a population made by :func:`make_population`.

    Parameters
    ----------
    population : pandas.DataFrame
        One row per pupil with the columns of ``POPULATION_COLUMNS`` (extra columns are
        ignored). Not modified.
    kind : {"school_census", "ks2", "ks4", "absence_exclusions"}
    include_date_of_birth : bool, default False
        Add the full date of birth as a quasi-identifier (standard extracts carry only
        month and year of birth).
    include_direct_identifiers : bool, default True
        Keep ``pupil_id`` (role ``"direct_identifier"``; it is what links the extract to
        the ground truth in intruder simulations, and must be dropped before any release:
        see :meth:`Extract.releasable`).

    Returns
    -------
    Extract
    """
    if kind not in _SPECS:
        raise InvalidParameterError(
            f"unknown extract kind {kind!r}; choose one of: {', '.join(EXTRACT_KINDS)}")
    frame = as_frame(population, name="population")
    spec = _SPECS[kind]
    direct = list(spec["direct"]) if include_direct_identifiers else []
    qi = list(spec["qi"]) + (["date_of_birth"] if include_date_of_birth else [])
    wanted = direct + qi + list(spec["sensitive"]) + list(spec["other"])
    needed = sorted({_DERIVED[c][0] if c in _DERIVED else c for c in wanted}
                    | ({"year_group"} if spec["rows"] is not None else set()))
    check_columns(frame, needed, role="population")
    rows = frame if spec["rows"] is None else frame.loc[spec["rows"](frame).to_numpy()]
    cols = {}
    for c in wanted:
        if c in _DERIVED:
            src, fn = _DERIVED[c]
            cols[c] = fn(rows[src]).astype(bool)
        else:
            cols[c] = rows[c]
    data = pd.DataFrame(cols, index=rows.index).copy()
    roles = {}
    for role, names in (("direct_identifier", direct), ("quasi_identifier", qi),
                        ("sensitive", spec["sensitive"]), ("other", spec["other"])):
        for c in names:
            roles[c] = role
    tiers = {c: NPD_TIERS[c] for c in data.columns if c in NPD_TIERS}
    return Extract(kind, data, roles, tiers, spec["description"])
