"""Synthetic pupil data, standard extracts, public-style auxiliary data and real public data.

* :func:`make_population` / :func:`make_schools` / :func:`write_population`: a seeded,
  England-like synthetic population of pupils (see ``datasets/README.md`` for sources).
* :func:`extract`: the department's standard extracts (school census, KS2, KS4, absence
  and exclusions) with column roles.
* :func:`school_tables`, :func:`social_media_profiles`, :func:`nosy_neighbour`: what an
  intruder could find in public, each record with a hidden ``_truth_pupil_id``.
* :func:`load_public` / :func:`list_public`: the real public microdata bundled in
  ``idrisk/_data/public`` (ONS census teaching files, UCI adult, ARX, sdcMicro, SD2011).
* :func:`main`: the ``idrisk datasets make`` command line.
"""

from .population import POPULATION_COLUMNS, make_geography, make_population, make_schools
from .io import main, write_population
from .extracts import EXTRACT_KINDS, NPD_TIERS, Extract, extract
from .auxiliary import (NOSY_FIELDS, PROFILE_FIELDS, nosy_neighbour, school_tables,
                        social_media_profiles, visible_columns)
from .public import PUBLIC_DATASETS, list_public, load_public

__all__ = [
    "POPULATION_COLUMNS", "make_geography", "make_population", "make_schools",
    "write_population", "main", "EXTRACT_KINDS", "NPD_TIERS", "Extract", "extract",
    "NOSY_FIELDS", "PROFILE_FIELDS", "nosy_neighbour", "school_tables",
    "social_media_profiles", "visible_columns", "PUBLIC_DATASETS", "list_public", "load_public",
]
