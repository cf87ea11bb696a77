"""The NPD profile: pupil records of the national pupil database (docs/methods.md#profiles).

Item tiers follow DfE's published NPD tier lists as idrisk reads them: Tier 1 =
identifying and highly sensitive (pupil identifiers, date of birth, year and month of birth,
extended language codes, SEN type, CIN/CLA indicators); Tier 2 = identifying and sensitive
(small-area geography such as LSOA, ethnicity, FSM, SEN provision, exclusions); Tier 3 =
aggregated or less sensitive items that may identify in small numbers (attainment,
absence); Tier 4 = identifying but not sensitive (school, year group, sex). Columns not
listed have no tier. The identifier value patterns are those of the English pupil and
health numbers (UPN: a letter, 11 digits and a check character; ULN and NHS number: 10
digits), UK telephone numbers, postcodes and street addresses; the refinements are the
finer forms of key variables a pupil extract can hold beside the coarse ones (a date of
birth beside the year and month, a postcode beside its district, a school beside its local
authority, a local authority beside its region, the minor ethnic group beside the major).
"""

from __future__ import annotations

from ._profile import DateOfBirth, Profile

__all__ = ["NPD"]

NPD = Profile(
    name="npd",
    description="Pupil records of the national pupil database (school census, key stages, absence).",
    identifier_pattern=(
        r"^(upn|uln|pmr|apmr|pupil_?id|person_?id|child_?id|candidate(_?number|_?no)?|"
        r"(fore|sur|first_|last_|full_)?name|address(_line_?\d)?|postcode|post_code|email|"
        r"e_?mail|phone|telephone|mobile|nhs_?number|ni_?number)$"),
    small_area_pattern=r"(^|_)(lsoa|msoa|oa|output_area|postcode|postcode_sector|postcode_unit)(_|$)",
    item_tiers={
        "pupil_id": 1, "date_of_birth": 1, "birth_month": 1, "birth_year": 1,
        "first_language": 1, "sen_primary_need": 1, "cin": 1, "cla": 1,
        "lsoa": 2, "postcode_district": 2, "ethnicity_minor": 2, "ethnicity_major": 2,
        "fsm": 2, "sen_provision": 2, "suspensions": 2, "permanent_exclusion": 2, "eal": 2,
        "ks2_reading": 3, "ks2_maths": 3, "attainment8": 3, "absence_rate": 3,
        "persistent_absence": 3,
        "urn": 4, "la_code": 4, "region": 4, "school_phase": 4, "school_type": 4,
        "year_group": 4, "sex": 4,
    },
    tier_scale="NPD",
    sources={
        "tier": ("guidance", "DfE NPD data tiers: Tier 1/2 items are identifying and (highly) sensitive"),
        "social_care": ("guidance", "DfE NPD Tier 1: Children-in-Need and Looked-After indicators"),
        "exclusion_or_absence_reasons": ("guidance", "DfE NPD Tier 1: reasons for absence and exclusion"),
        "small_area_geography": ("guidance", "DfE NPD Tier 2: small-area geography in a census extract"),
    },
    geography=("lsoa", "postcode_district", "la_code", "region"),
    groupings={"ethnicity_minor": "ethnicity_major"},
    code_pattern=r"(^|_)(urn|code|id|laestab|lsoa|msoa|postcode|year|month)(_|$)",
    numeric_coarsening=("top-coding",),
    date_of_birth=DateOfBirth(date="date_of_birth", year="birth_year", month="birth_month",
                              month_index="birth_month_index"),
    truth_id="pupil_id",
    intruder_presets="pupil",
    identifier_values={
        "UPNs (unique pupil numbers)": r"^[A-Z]\d{11}[0-9A-Z]$",
        "NHS numbers or ULNs (10-digit numbers)": r"^\d{10}$",
        "telephone numbers": r"^(\+44|0044|0)\d{9,10}$",
        "postcodes": r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$",
        "street addresses": r"^\d+[A-Z]?,?[A-Z][A-Z'.,]*(STREET|ST|ROAD|RD|AVENUE|AVE|LANE|CLOSE|DRIVE|WAY|COURT|"
                            r"CRESCENT|PLACE|GROVE|GARDENS|TERRACE|HILL|PARK|SQUARE|WALK|ROW|MEWS)\b",
    },
    refinements={
        "date_of_birth": ("birth_year", "birth_month", "birth_month_index"),
        "postcode": ("postcode_sector", "postcode_district", "lsoa", "msoa"),
        "lsoa": ("msoa", "la_code"),
        "urn": ("la_code",),
        "la_code": ("region",),
        "ethnicity_minor": ("ethnicity_major",),
    },
    labels={
        "urn": "school", "la_code": "local authority", "region": "region", "sex": "sex",
        "year_group": "year group", "birth_month": "month of birth", "birth_year": "year of birth",
        "date_of_birth": "date of birth", "ethnicity_major": "ethnic group",
        "ethnicity_minor": "detailed ethnic group", "fsm": "free school meals status",
        "sen_primary_need": "SEN primary need", "sen_provision": "SEN provision",
        "eal": "English as an additional language", "first_language": "first language",
        "postcode_district": "postcode district", "lsoa": "neighbourhood (LSOA)",
        "school_phase": "school phase", "school_type": "school type", "cin": "children-in-need status",
        "cla": "looked-after status", "attainment8": "Attainment 8 score", "ks2_reading": "KS2 reading score",
        "ks2_maths": "KS2 maths score",
    },
    person=("pupil", "pupils", "child"),
)
