"""Risk metrics over encoded quasi-identifiers (frequency, diversity, uniques, probabilistic)."""
