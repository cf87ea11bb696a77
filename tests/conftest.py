"""Shared pytest configuration: keep it tiny (hypothesis profiles only)."""

import os

from hypothesis import settings

# No per-example deadline: numba compiles on first use and CI machines are shared.
settings.register_profile("default", deadline=None)
# HYPOTHESIS_PROFILE=ci: same examples on every run (reproducible CI failures).
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
