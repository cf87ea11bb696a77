"""numba switches and numeric defaults shared by every kernel."""

NUMBA_OPTS = dict(nogil=True, cache=True)
NUMBA_PARALLEL_OPTS = dict(nogil=True, cache=True, parallel=True)

#: A quasi-identifier whose number of distinct values exceeds this share of the rows is
#: reported as a likely direct identifier (IdentifierWarning).
IDENTIFIER_DISTINCT_SHARE = 0.95
#: ...but only when the frame has at least this many rows (tiny frames are all unique).
IDENTIFIER_MIN_ROWS = 50
