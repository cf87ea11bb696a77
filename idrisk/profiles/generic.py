"""The generic profile: no knowledge of any kind of data (docs/methods.md#profiles).

No name is taken for a direct identifier or small-area geography, no item has a tier, there
is no geography ladder, grouping, code column, date-of-birth mapping or intruder preset.
A numeric quasi-identifier is coarsened into equal-width bands.
"""

from __future__ import annotations

from ._profile import Profile

__all__ = ["GENERIC"]

GENERIC = Profile(
    name="generic",
    description="Any record-level data: nothing is assumed about column names.",
    sources={
        "tier": ("idrisk default", "tiers declared by the data owner: Tier 1/2 items are identifying and "
                                   "(highly) sensitive"),
        "social_care": ("idrisk default", "declared by the data owner: social-care records"),
        "exclusion_or_absence_reasons": ("idrisk default", "declared by the data owner: reasons for absence "
                                                           "or exclusion"),
        "small_area_geography": ("idrisk default", "declared by the data owner: small-area geography in a "
                                                   "census extract"),
    },
    numeric_coarsening=("banding",),
)
