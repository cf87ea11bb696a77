"""Published figures the synthetic pupil population is calibrated to, with their sources.

Every number here is either a published DfE/ONS statistic (rounded) or is marked
``approximate``/``model`` in its comment. ``datasets/README.md`` at the repository root
lists the same figures with their full source references; keep the two in step.

Abbreviations used in the comments:

* SPC24  DfE, "Schools, pupils and their characteristics", academic year 2023/24
  (January 2024 school census), explore-education-statistics.service.gov.uk.
* SEN24  DfE, "Special educational needs in England", January 2024.
* EXC23  DfE, "Suspensions and permanent exclusions in England", academic year 2022/23.
* ABS    DfE, "Pupil absence in schools in England" (full-year 2022/23 figures).
* KS2-24 DfE, "Key stage 2 attainment", 2023/24 (provisional/revised).
* KS4-24 DfE, "Key stage 4 performance", 2023/24.
* CIN24  DfE, "Characteristics of children in need", 2024 (31 March 2024).
* CLA24  DfE, "Children looked after in England including adoptions", 2024.

Where a figure is "approximate" it was recalled from the publication or derived from
other published figures and is good to about +/- 10% relative; "model" marks a modelling
choice (for example the spread of school-level random effects) that no publication gives
directly and that is tuned so that the published national marginals hold.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------
# Scale and schools
# ---------------------------------------------------------------------------------------
#: Census reference date (spring census, third Thursday of January 2024: 18 January 2024).
CENSUS_YEAR = 2024
CENSUS_DATE = "2024-01-18"
#: Calendar year in which the academic year of the census started (2023/24 -> 2023).
ACADEMIC_YEAR_START = 2023

#: Pupils on roll in state-funded schools, January 2024. SPC24: 9,092,073 in all schools
#: of which about 6.5% (c. 594k) in independent schools -> about 8.5 million state-funded.
NATIONAL_PUPILS = 8_500_000

#: Number of state-funded schools by phase at national scale. SPC24 (approximate):
#: about 16,800 primary, 3,400 secondary and about 1,000 state-funded special schools
#: (plus about 60 non-maintained special schools, folded in here).
NATIONAL_SCHOOLS = {"primary": 16_800, "secondary": 3_400, "special": 1_050}

#: Share of state-funded pupils by phase (SPC24, approximate: primary c. 4.6M, secondary
#: c. 3.7M incl. school sixth forms, special c. 0.16M; nursery and AP schools are not
#: modelled and their pupils are folded into primary/secondary).
PHASE_SHARE = {"primary": 0.545, "secondary": 0.436, "special": 0.019}

#: Coefficient of variation of school size within a phase (approximate; SPC24 school-level
#: data: primaries range from under 50 to over 800 pupils, secondaries from c. 300 to 2,000+).
SCHOOL_SIZE_CV = {"primary": 0.45, "secondary": 0.35, "special": 0.55}

#: Share of schools by type within phase (SPC24 approximate: 41.8% of primaries and 81.7%
#: of secondaries were academies or free schools in January 2024; the split of
#: LA-maintained schools follows the GIAS establishment type counts, approximate).
SCHOOL_TYPES = {
    "primary": {
        "community": 0.33, "voluntary_aided": 0.10, "voluntary_controlled": 0.12,
        "foundation": 0.03, "academy_converter": 0.32, "academy_sponsor_led": 0.09,
        "free_school": 0.01,
    },
    "secondary": {
        "community": 0.09, "voluntary_aided": 0.05, "voluntary_controlled": 0.01,
        "foundation": 0.04, "academy_converter": 0.52, "academy_sponsor_led": 0.22,
        "free_school": 0.07,
    },
    "special": {
        "community_special": 0.40, "foundation_special": 0.03, "academy_special": 0.42,
        "free_school_special": 0.09, "non_maintained_special": 0.06,
    },
}

#: Share of state-funded secondary schools with a sixth form (approximate, GIAS: about
#: 55-60% of secondaries have "has sixth form" = yes).
SIXTH_FORM_SHARE = 0.57

#: Relative cohort sizes by year group within a phase (0 = Reception, 1..13 = Years 1-13).
#: Primary cohorts shrink towards Reception because births in England and Wales peaked in
#: 2012 and fell afterwards (ONS births; SPC24 year-group headcounts, approximate).
#: School sixth forms hold fewer pupils than Year 11 because many 16-18 year olds attend
#: FE and sixth-form colleges, which are not in the school census (SPC24 approximate).
#: Special schools have more older than younger pupils (SEN24, approximate).
YEAR_GROUP_WEIGHTS = {
    "primary": {0: 0.93, 1: 0.95, 2: 0.97, 3: 0.99, 4: 1.00, 5: 1.01, 6: 1.02},
    "secondary": {7: 1.02, 8: 1.02, 9: 1.01, 10: 1.00, 11: 0.99, 12: 0.75, 13: 0.68},
    "special": {0: 0.35, 1: 0.45, 2: 0.55, 3: 0.62, 4: 0.68, 5: 0.74, 6: 0.80, 7: 0.88,
                8: 0.92, 9: 0.96, 10: 1.0, 11: 1.0, 12: 0.85, 13: 0.75},
}

# ---------------------------------------------------------------------------------------
# Geography
# ---------------------------------------------------------------------------------------
#: Regions, number of local authorities in each (DfE LA list 2024: 153 LAs; approximate
#: after the 2023 Cumbria split) and share of state-funded pupils (SPC24 regional
#: headcounts, approximate).
REGIONS = {
    "North East": (12, 0.046),
    "North West": (24, 0.135),
    "Yorkshire and The Humber": (15, 0.099),
    "East Midlands": (9, 0.086),
    "West Midlands": (14, 0.110),
    "East of England": (11, 0.114),
    "London": (33, 0.153),
    "South East": (19, 0.160),
    "South West": (15, 0.089),
}
#: Lower-layer super output areas (LSOA 2021) in England: 33,755 (ONS). Scaled with n.
NATIONAL_LSOAS = 33_755
#: Postcode districts in England (approximate: about 2,300 of the UK's c. 3,000). Scaled.
NATIONAL_POSTCODE_DISTRICTS = 2_300
#: Share of pupils who live in a different LA from their school's (approximate: DfE
#: cross-border mobility in school admissions, roughly 5-10% of pupils; model value).
CROSS_BORDER_SHARE = 0.07
#: Strength of the link between FSM and neighbourhood deprivation (model): FSM pupils
#: are pulled towards the more deprived of two candidate LSOAs in their school's
#: catchment with this probability (others towards the less deprived one). Income
#: deprivation and FSM eligibility are strongly related (IDACI, the income deprivation
#: affecting children index, is built from benefit receipt); no published figure gives
#: this parameter.
FSM_DEPRIVATION_PULL = 0.6

# ---------------------------------------------------------------------------------------
# Pupil characteristics
# ---------------------------------------------------------------------------------------
#: Share of boys by phase (SPC24: 51.2% of all pupils are boys; special schools about 73%
#: boys, SEN24 approximate).
MALE_SHARE = {"primary": 0.511, "secondary": 0.510, "special": 0.73}

#: DfE minor ethnic groups (census codes) -> major group. REFU = refused, NOBT = not
#: obtained; both are "Unclassified".
ETHNICITY_MAJOR = {
    "WBRI": "White", "WIRI": "White", "WIRT": "White", "WOTH": "White", "WROM": "White",
    "MWBC": "Mixed", "MWBA": "Mixed", "MWAS": "Mixed", "MOTH": "Mixed",
    "AIND": "Asian", "APKN": "Asian", "ABAN": "Asian", "AOTH": "Asian",
    "BCRB": "Black", "BAFR": "Black", "BOTH": "Black",
    "CHNE": "Chinese", "OOTH": "Any other ethnic group",
    "REFU": "Unclassified", "NOBT": "Unclassified",
}
ETHNICITY_MAJOR_LEVELS = ["White", "Mixed", "Asian", "Black", "Chinese",
                          "Any other ethnic group", "Unclassified"]

#: National shares of pupils by minor ethnic group, January 2024 (SPC24 "pupil
#: characteristics - ethnicity" national table, all phases, as tabulated in a public copy
#: of the table: Any other ethnic group 2.4%, Any other Asian 2.2%, Bangladeshi 1.8%,
#: Chinese 0.8%, Indian 4.0%, Pakistani 4.6%, Any other Black 0.8%, Black African 4.8%,
#: Black Caribbean 0.9%, Any other Mixed 2.8%, White and Asian 1.7%, White and Black
#: African 0.9%, White and Black Caribbean 1.6%). The White groups and Unclassified were
#: not in that copy: Irish 0.3%, Traveller of Irish heritage 0.1%, Gypsy/Roma 0.5%, any
#: other White 7.7% and Unclassified 1.0% are approximate, and White British is the
#: remainder (about 60%).
ETHNICITY_NATIONAL = {
    "WIRI": 0.003, "WIRT": 0.001, "WOTH": 0.077, "WROM": 0.005,
    "MWBC": 0.016, "MWBA": 0.009, "MWAS": 0.017, "MOTH": 0.028,
    "AIND": 0.040, "APKN": 0.046, "ABAN": 0.018, "AOTH": 0.022,
    "BCRB": 0.009, "BAFR": 0.048, "BOTH": 0.008,
    "CHNE": 0.008, "OOTH": 0.024,
    "REFU": 0.006, "NOBT": 0.004,
}
ETHNICITY_NATIONAL = {"WBRI": round(1.0 - sum(ETHNICITY_NATIONAL.values()), 3),
                      **ETHNICITY_NATIONAL}

#: Regional ethnic composition (approximate, after the SPC regional ethnicity tables):
#: share of pupils in each major group by region; minor groups within a major group follow
#: the national split, except that the Asian split leans to Pakistani in the North and
#: West Midlands and to Bangladeshi/Indian in London (see ASIAN_SPLIT). These regional
#: tables give the *pattern* of regional variation; the generator then rakes them
#: (iterative proportional fitting) so that the pupil-weighted national mix equals
#: ETHNICITY_NATIONAL exactly.
REGION_MAJOR_SHARE = {
    #                          White  Mixed  Asian  Black  Chin.  Other  Uncl.
    "North East":             (0.865, 0.040, 0.060, 0.015, 0.004, 0.010, 0.006),
    "North West":             (0.755, 0.050, 0.140, 0.025, 0.004, 0.018, 0.008),
    "Yorkshire and The Humber": (0.755, 0.055, 0.145, 0.020, 0.004, 0.015, 0.006),
    "East Midlands":          (0.765, 0.065, 0.115, 0.030, 0.004, 0.015, 0.006),
    "West Midlands":          (0.640, 0.075, 0.210, 0.045, 0.004, 0.020, 0.006),
    "East of England":        (0.795, 0.070, 0.070, 0.040, 0.005, 0.013, 0.007),
    "London":                 (0.395, 0.110, 0.215, 0.195, 0.010, 0.065, 0.010),
    "South East":             (0.800, 0.070, 0.080, 0.025, 0.006, 0.013, 0.006),
    "South West":             (0.875, 0.060, 0.035, 0.013, 0.004, 0.007, 0.006),
}
#: Share of White pupils who are White British by region (approximate, SPC24: London has
#: the largest "Any other White background" share, about a third of White pupils).
REGION_WBRI_OF_WHITE = {
    "North East": 0.96, "North West": 0.93, "Yorkshire and The Humber": 0.92,
    "East Midlands": 0.88, "West Midlands": 0.90, "East of England": 0.87,
    "London": 0.62, "South East": 0.89, "South West": 0.92,
}
#: Split of Asian pupils (AIND, APKN, ABAN, AOTH) by region (approximate, SPC24).
ASIAN_SPLIT = {
    "North East": (0.22, 0.38, 0.20, 0.20),
    "North West": (0.16, 0.55, 0.14, 0.15),
    "Yorkshire and The Humber": (0.10, 0.70, 0.07, 0.13),
    "East Midlands": (0.55, 0.22, 0.06, 0.17),
    "West Midlands": (0.24, 0.52, 0.13, 0.11),
    "East of England": (0.30, 0.30, 0.17, 0.23),
    "London": (0.30, 0.17, 0.31, 0.22),
    "South East": (0.32, 0.34, 0.10, 0.24),
    "South West": (0.35, 0.18, 0.17, 0.30),
}
#: Split of Black pupils (BCRB, BAFR, BOTH): national about 18/70/12; London a little more
#: Caribbean (approximate, SPC24).
BLACK_SPLIT = {"London": (0.20, 0.67, 0.13), "default": (0.15, 0.73, 0.12)}

#: Concentration of the school-level Dirichlet around the regional ethnic mix (model:
#: schools within a region differ a lot in ethnic composition; 8 gives school-level
#: minority shares from near 0 to a majority, as in SPC24 school-level data).
SCHOOL_ETHNICITY_CONCENTRATION = 8.0

#: English as an additional language: about 20% of pupils (model value; SPC: 16.6% of
#: pupils in January 2014 and 20.6% of primary pupils in January 2017, rising since;
#: approximate for 2024). The generator keeps the relative odds of the per-group
#: probabilities below and calibrates the intercept so that the national share is EAL_SHARE.
EAL_SHARE = 0.20
#: Probability that a pupil's first language is not English, by minor ethnic group
#: (approximate, after the SPC ethnicity-by-language tables: nearly all White British and
#: Black Caribbean pupils have English as first language, most Bangladeshi, Pakistani,
#: Gypsy/Roma and "any other White" pupils do not).
EAL_BY_ETHNICITY = {
    "WBRI": 0.005, "WIRI": 0.05, "WIRT": 0.02, "WOTH": 0.78, "WROM": 0.90,
    "MWBC": 0.03, "MWBA": 0.25, "MWAS": 0.25, "MOTH": 0.35,
    "AIND": 0.80, "APKN": 0.88, "ABAN": 0.92, "AOTH": 0.85,
    "BCRB": 0.03, "BAFR": 0.60, "BOTH": 0.50,
    "CHNE": 0.70, "OOTH": 0.85,
    "REFU": 0.15, "NOBT": 0.30,
}
#: First languages (DfE language codes) of EAL pupils by minor ethnic group, with weights
#: (approximate; the most common non-English first languages in English schools are
#: Polish, Urdu, Panjabi, Bengali, Arabic, Romanian, Portuguese, Somali, Gujarati, Spanish).
FIRST_LANGUAGE = {
    "WOTH": {"POL": 0.30, "ROM": 0.20, "POR": 0.10, "LIT": 0.06, "BUL": 0.06, "SPA": 0.06,
             "ITA": 0.04, "HUN": 0.04, "ALB": 0.05, "RUS": 0.04, "LAT": 0.03, "OTL": 0.02},
    "WROM": {"ROM": 0.55, "SLO": 0.25, "CZE": 0.15, "OTL": 0.05},
    "AIND": {"PNJ": 0.35, "GUJ": 0.30, "TAM": 0.12, "HIN": 0.08, "MLM": 0.07, "TEL": 0.05,
             "OTL": 0.03},
    "APKN": {"URD": 0.60, "PNJ": 0.32, "PAT": 0.04, "OTL": 0.04},
    "ABAN": {"BNG": 0.65, "SYL": 0.33, "OTL": 0.02},
    "AOTH": {"TAM": 0.20, "NEP": 0.15, "PAS": 0.15, "SIN": 0.10, "FAR": 0.10, "ARA": 0.10,
             "OTL": 0.20},
    "BAFR": {"SOM": 0.30, "YOR": 0.15, "ARA": 0.10, "TGR": 0.10, "AKA": 0.08, "FRN": 0.07,
             "SWA": 0.05, "POR": 0.05, "OTL": 0.10},
    "BOTH": {"SOM": 0.25, "FRN": 0.20, "POR": 0.15, "ARA": 0.10, "OTL": 0.30},
    "CHNE": {"CHI": 1.00},
    "OOTH": {"ARA": 0.45, "KUR": 0.15, "FAR": 0.10, "TUR": 0.10, "VIE": 0.05, "OTL": 0.15},
    "default": {"ARA": 0.20, "POL": 0.15, "URD": 0.10, "SPA": 0.10, "POR": 0.10,
                "FRN": 0.10, "OTL": 0.25},
}

#: SEN provision (SEN24): 4.8% of all pupils have an EHC plan and 13.6% receive SEN
#: support (January 2024, all schools). In state-funded special schools about 98% of
#: pupils have an EHC plan (SEN24, approximate).
SEN_EHC_SHARE = 0.048
SEN_SUPPORT_SHARE = 0.136
SPECIAL_SCHOOL_EHC_SHARE = 0.98
#: Boys are about 73% of pupils with EHC plans and about 64% of pupils on SEN support
#: (SEN24, approximate) -> odds ratios boys vs girls used in the logistic models.
SEN_SUPPORT_MALE_OR = 1.9
SEN_EHC_MALE_OR = 2.7
#: SEN support by year group (SEN24 approximate: lowest in Reception, peaks in Years 4-6,
#: then falls through secondary): multipliers on the odds.
SEN_SUPPORT_YEAR_OR = {0: 0.60, 1: 0.85, 2: 1.00, 3: 1.10, 4: 1.18, 5: 1.22, 6: 1.22,
                       7: 1.05, 8: 1.00, 9: 0.95, 10: 0.90, 11: 0.85, 12: 0.45, 13: 0.40}
#: EHC plans in mainstream schools by year group (rises with age up to secondary).
SEN_EHC_YEAR_OR = {0: 0.55, 1: 0.70, 2: 0.80, 3: 0.90, 4: 1.00, 5: 1.05, 6: 1.10,
                   7: 1.10, 8: 1.10, 9: 1.10, 10: 1.05, 11: 1.00, 12: 0.70, 13: 0.60}
#: Primary type of need by provision (SEN24, approximate shares). SEN support: speech,
#: language and communication needs (SLCN) most common; EHC plans: autistic spectrum
#: disorder (ASD) most common.
SEN_NEED = {
    "K": {"SLCN": 0.24, "SEMH": 0.20, "MLD": 0.17, "SPLD": 0.13, "ASD": 0.08, "OTH": 0.04,
          "PD": 0.02, "HI": 0.01, "VI": 0.01, "SLD": 0.003, "MSI": 0.002, "PMLD": 0.001,
          "NSA": 0.074},
    "E": {"ASD": 0.33, "SLCN": 0.21, "SEMH": 0.14, "SLD": 0.07, "MLD": 0.08, "PD": 0.04,
          "PMLD": 0.02, "HI": 0.02, "VI": 0.01, "SPLD": 0.03, "MSI": 0.005, "OTH": 0.045},
}

#: Free school meal eligibility: 24.6% of pupils in January 2024 (SPC24).
FSM_SHARE = 0.246
#: Regional FSM eligibility, January 2024 (SPC24 as reported by The Independent,
#: 6 June 2024: North East highest at 31.2%, South East lowest at 19.7%, South West
#: 20.5%; the other regions are approximate). Each region's intercept is calibrated to
#: its rate (their pupil-weighted mean is 24.6%, the national rate).
REGION_FSM = {
    "North East": 0.312, "North West": 0.285, "Yorkshire and The Humber": 0.265,
    "East Midlands": 0.235, "West Midlands": 0.285, "East of England": 0.210,
    "London": 0.260, "South East": 0.197, "South West": 0.205,
}
#: FSM eligibility by SEN provision (SEN24: pupils with SEN are much more likely to be
#: eligible: about 40% of pupils with SEN support or an EHC plan vs about 21% without).
FSM_BY_SEN = {"N": 0.21, "K": 0.40, "E": 0.42}
#: FSM eligibility by minor ethnic group (SPC24 characteristics tables, approximate).
FSM_BY_ETHNICITY = {
    "WBRI": 0.235, "WIRI": 0.16, "WIRT": 0.58, "WOTH": 0.17, "WROM": 0.45,
    "MWBC": 0.42, "MWBA": 0.33, "MWAS": 0.18, "MOTH": 0.30,
    "AIND": 0.09, "APKN": 0.29, "ABAN": 0.32, "AOTH": 0.20,
    "BCRB": 0.40, "BAFR": 0.34, "BOTH": 0.40,
    "CHNE": 0.08, "OOTH": 0.36,
    "REFU": 0.22, "NOBT": 0.25,
}
#: Spread (SD on the logit scale) of a school random effect for FSM (model: school FSM
#: shares in SPC24 school-level data range from under 5% to over 60%).
SCHOOL_FSM_SD = 0.75

#: Children in need and looked-after children among pupils (CIN24/CLA24: 399,500 children
#: in need at 31 March 2024, about 3.3% of children; 83,600 looked after, about 0.7%).
#: Pupils in need are strongly over-represented among FSM and SEN pupils (CIN24 education
#: outcomes: about 3 in 5 children in need have SEN; approximate odds ratios).
CIN_SHARE = 0.033
CLA_SHARE_OF_CIN = 0.2
CIN_OR = {"fsm": 3.5, "K": 2.5, "E": 4.0}

#: Key stage 2 (KS2-24): average scaled score reading 105, maths 104; 74% reached the
#: expected standard (>= 100) and 28% the high standard (>= 110) in reading; 73% and
#: 24% in maths (denominator: all pupils, including the ~4% not scored). Scaled scores
#: run 80..120. Mean and SD of the scored pupils' (rounded normal) scores are solved
#: from those two shares: reading P(>= 99.5) = 0.74 / 0.957 and P(>= 109.5) = 0.28 / 0.957
#: give mean 105.3, SD 7.7; maths 0.73 / 0.957 and 0.24 / 0.957 give 104.7, SD 7.2 (the
#: implied means agree with the published averages 105 and 104).
KS2_MEAN = {"reading": 105.3, "maths": 104.7}
KS2_SD = {"reading": 7.7, "maths": 7.2}
KS2_CANCELLED_YEARS = (2020, 2021)
KS2_FIRST_YEAR = 2016  # first year of scaled scores
#: Attainment 8 (KS4 performance, national characteristics table, 2022/23): average 46.3
#: in state-funded schools (EHC plan 14.0, SEN support 33.3); 2018/19: disadvantaged
#: pupils 36.7, all other pupils 50.3. SD about 19.5 (approximate).
A8_MEAN = 46.3
A8_BY_SEN = {"E": 14.0, "K": 33.3}
A8_DISADVANTAGE_GAP = 50.3 - 36.7
A8_SD = 19.5
#: Attainment gaps in SD units of a latent attainment score (approximate, from KS2-24 and
#: KS4-24 breakdowns: FSM-eligible pupils' Attainment 8 is about 15 points (0.8 SD) below
#: other pupils; SEN support about 17 points (0.9 SD) and EHC plan about 36 points
#: (1.9 SD) below pupils without SEN; girls about 4 points (0.2 SD) above boys;
#: disadvantaged pupils 21 points lower in the KS2 RWM expected-standard rate).
ATTAINMENT_EFFECTS = {
    "fsm": -0.62, "K": -0.95, "E": -2.2, "female_reading": 0.22, "female_maths": -0.05,
    "female_a8": 0.15, "eal": -0.05, "summer_born_per_month": -0.025, "cla": -0.6,
}
#: Ethnic-group attainment offsets (SD units, approximate, KS4-24 Attainment 8 by
#: ethnicity: Chinese and Indian pupils highest, Gypsy/Roma and Irish Traveller lowest).
ATTAINMENT_ETHNICITY = {
    "CHNE": 0.75, "AIND": 0.45, "ABAN": 0.20, "AOTH": 0.30, "BAFR": 0.15, "APKN": 0.05,
    "WIRI": 0.20, "WOTH": 0.10, "MWAS": 0.20, "BCRB": -0.20, "MWBC": -0.25,
    "WIRT": -0.90, "WROM": -1.10,
}
#: School random effect on attainment (model; between-school share of variance ~10%).
SCHOOL_ATTAINMENT_SD = 0.3
#: Share of pupils with an EHC plan who have no KS2 scaled score (working below the
#: standard of the tests or not entered; KS2-24 approximate) and general absence rate.
KS2_NOT_SCORED = {"E": 0.55, "K": 0.04, "N": 0.01}

#: Overall absence rate 2022/23: 7.5% of sessions (DfE pupil attendance statistics,
#: full year); by phase approximately primary 5.9%, secondary 9.0%, special 12%
#: (ABS, approximate). Persistent absence (>= 10% of sessions missed) 22.3% of pupils
#: in 2022/23 (ABS as reported by Schools Week/EdCentral); in 2021/22 37.2% of
#: FSM-eligible pupils vs 17.5% of others were persistently absent.
ABSENCE_RATE = {"primary": 0.059, "secondary": 0.090, "special": 0.122}
#: Relative absence rates (ABS 2022/23, approximate): FSM-eligible pupils about 1.8x,
#: pupils with SEN support about 1.5x and with an EHC plan about 1.6x.
ABSENCE_MULT = {"fsm": 1.8, "K": 1.5, "E": 1.6, "cla": 1.2}
#: Beta concentration of individual absence rates (model: tuned so that about 21-23% of
#: pupils are persistently absent given the mean rates above; 3 gives about 22-23%).
ABSENCE_CONCENTRATION = 3.0
SESSIONS_POSSIBLE = 380
PERSISTENT_ABSENCE_SHARE = 0.223
OVERALL_ABSENCE_RATE = 0.075

#: Suspensions and permanent exclusions (EXC23): 786,961 suspensions (9.33 per 100
#: pupils) and 9,376 permanent exclusions (0.11 per 100 pupils) in 2022/23. Rates are
#: higher for boys (about 1.5x suspensions, 2x permanent exclusions), for FSM-eligible
#: pupils (about 4x and 5x), pupils with SEN support (about 4x, 5x) and EHC plans (3x, 3x).
#: Most suspensions are in secondary schools (EXC23 approximate: secondary rate about
#: 20 per 100 pupils, primary about 1.7).
SUSPENSION_RATE = 0.0933
PERMANENT_EXCLUSION_RATE = 0.0011
#: Pupils with one or more suspensions (EXC23 approximate: about 2.5% of pupils) -> a mean
#: of about 3.7 suspensions per suspended pupil.
ONE_PLUS_SUSPENSION_RATE = 0.025
EXCLUSION_RR = {"male": (1.5, 2.0), "fsm": (4.0, 5.0), "K": (4.0, 5.0), "E": (3.0, 3.0)}
#: Relative suspension rate by year group (EXC23 approximate: rises through primary,
#: peaks in Years 9-10, falls in the sixth form).
SUSPENSION_YEAR_RR = {0: 0.02, 1: 0.05, 2: 0.08, 3: 0.12, 4: 0.15, 5: 0.2, 6: 0.25,
                      7: 1.2, 8: 1.9, 9: 2.3, 10: 2.3, 11: 1.6, 12: 0.3, 13: 0.2}
