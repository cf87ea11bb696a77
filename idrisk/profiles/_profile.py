"""The :class:`Profile` type: what idrisk knows about one kind of data (docs/methods.md#profiles)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["DateOfBirth", "Profile"]


def normalise_name(column) -> str:
    """A column name as the name patterns read it: lower case, spaces and dashes to ``_``."""
    return re.sub(r"[\s\-]+", "_", str(column).strip().lower())


@dataclass(frozen=True)
class DateOfBirth:
    """How a profile's extracts hold a date of birth.

    Attributes
    ----------
    date : str
        The full date of birth, as intruder presets name the variable.
    year, month : str
        The year and the month of birth: what standard extracts hold instead of the date.
    month_index : str
        Name of the derived column ``year * 12 + month`` (month of birth as one number),
        on which an intruder's date of birth is compared when the extract has no date.
    """

    date: str
    year: str
    month: str
    month_index: str


def _frozen(mapping) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Profile:
    """Knowledge about one kind of data, kept out of the generic code.

    Attributes
    ----------
    name, description : str
    identifier_pattern : str or None
        Regular expression matched against normalised column names (lower case, spaces
        and dashes as ``_``): a match looks like a direct identifier and is warned about.
    small_area_pattern : str or None
        Regular expression searched in normalised column names: a match is small-area
        geography (a content flag of a census extract).
    item_tiers : mapping column -> int
        Sensitivity tier of known items (1 = most sensitive, 4 = least).
    tier_scale : str
        Name of the tier scale, shown in the tier indicator (empty: the data owner's tiers).
    sources : mapping indicator id -> (basis, source)
        The basis and source of the content indicators that depend on the kind of data.
    geography : tuple of str
        Geography ladder, finest first: the what-if moves a column one level up.
    groupings : mapping column -> column
        A fine column and the coarser column it can be replaced by.
    code_pattern : str or None
        Regular expression searched in lower-case column names: a numeric column that
        matches is a code (school, area, year), never top-coded or banded.
    numeric_coarsening : tuple of str
        What the what-if tries on a numeric quantity: ``"top-coding"`` (cap at the 95th
        percentile) and/or ``"banding"`` (equal-width bands).
    date_of_birth : DateOfBirth or None
        The date-of-birth columns (a what-if drops the month when the year is also in the
        key; the intruder's date of birth is mapped onto year and month).
    truth_id : str or None
        The record identifier that links an extract to its ground truth.
    intruder_presets : str or None
        The preset file of :func:`idrisk.intruder.load_scenarios` the scenarios draw on.
    identifier_values : mapping kind -> str
        Regular expressions matched against a column's values (as text, upper case, spaces
        removed): when most values match, the column holds direct identifiers of that kind
        (a national number, a postcode...). Only the kind is ever reported, never a value.
    refinements : mapping column -> tuple of str
        A column and the coarser key variables it refines (a date of birth refines the
        year and month of birth): when the file holds both, the scenarios use the finer one.
    labels : mapping column -> str
        Plain words for known items, used in the report's sentences (``urn``: "school").
    person : tuple of str
        How the report names one person, several, and one as a subject: ("pupil",
        "pupils", "child") for pupil records.
    """

    name: str
    description: str = ""
    identifier_pattern: str | None = None
    small_area_pattern: str | None = None
    item_tiers: Mapping = field(default_factory=dict)
    tier_scale: str = ""
    sources: Mapping = field(default_factory=dict)
    geography: tuple = ()
    groupings: Mapping = field(default_factory=dict)
    code_pattern: str | None = None
    numeric_coarsening: tuple = ("banding",)
    date_of_birth: DateOfBirth | None = None
    truth_id: str | None = None
    intruder_presets: str | None = None
    identifier_values: Mapping = field(default_factory=dict)
    refinements: Mapping = field(default_factory=dict)
    labels: Mapping = field(default_factory=dict)
    person: tuple = ("person", "people", "person")

    def __post_init__(self):
        for name in ("item_tiers", "sources", "groupings", "identifier_values", "refinements", "labels"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "geography", tuple(self.geography))
        object.__setattr__(self, "numeric_coarsening", tuple(self.numeric_coarsening))

    def is_direct_identifier(self, column) -> bool:
        """Whether the column's name looks like a direct identifier."""
        return bool(self.identifier_pattern) and re.match(self.identifier_pattern, normalise_name(column)) is not None

    def is_small_area(self, column) -> bool:
        """Whether the column's name is small-area geography."""
        return bool(self.small_area_pattern) and re.search(self.small_area_pattern, normalise_name(column)) is not None

    def is_code(self, column) -> bool:
        """Whether a numeric column of that name is a code rather than a quantity."""
        return bool(self.code_pattern) and re.search(self.code_pattern, str(column).lower()) is not None
