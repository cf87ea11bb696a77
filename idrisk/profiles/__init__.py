"""Profiles: knowledge about one kind of data, kept out of the generic code.

A :class:`Profile` holds everything idrisk assumes about a kind of data
(docs/methods.md#profiles): the names that look like direct identifiers or small-area
geography, item tiers, the geography ladder and groupings the what-if coarsens along, which
numeric columns are codes, how the date of birth is held, the ground-truth id and the
intruder presets.

* :data:`NPD` (``"npd"``, the default): pupil records of the national pupil database.
* :data:`GENERIC` (``"generic"``): no knowledge at all; numeric keys are banded.

An assessment chooses its profile with ``profile = "npd"`` / ``"generic"`` (keyword,
configuration field, or ``[extract] profile`` in TOML).
"""

from __future__ import annotations

from ..exceptions import InvalidParameterError
from ._profile import DateOfBirth, Profile, normalise_name
from .generic import GENERIC
from .npd import NPD

__all__ = ["Profile", "DateOfBirth", "NPD", "GENERIC", "PROFILES", "DEFAULT_PROFILE", "get_profile",
           "normalise_name"]

#: every profile by name
PROFILES = {p.name: p for p in (NPD, GENERIC)}
#: the profile of an assessment that names none (pupil data, the package's first use)
DEFAULT_PROFILE = "npd"


def get_profile(profile=None) -> Profile:
    """The profile named ``profile`` (a :class:`Profile` is returned as is; None: the default)."""
    if profile is None:
        profile = DEFAULT_PROFILE
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, str) and profile in PROFILES:
        return PROFILES[profile]
    raise InvalidParameterError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
