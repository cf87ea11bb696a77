"""Shared pytest configuration: keep it tiny (hypothesis profiles only)."""

import os

from hypothesis import settings

# No per-example deadline: numba compiles on first use and CI machines are shared.
settings.register_profile("default", deadline=None)
# "ci": the same examples on every run, so a CI result is reproducible; chosen when the CI
# environment variable is set (CI runs with CI=true) or with HYPOTHESIS_PROFILE=ci. Local runs
# keep drawing new random examples, which is where hypothesis finds new bugs.
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
_default = "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "default"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))
