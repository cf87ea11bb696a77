"""numba switches, the kernel cache and numeric defaults shared by every kernel.

Kernel cache: compiled kernels are cached outside the source tree, in
``<user cache>/idrisk/numba/<idrisk version>-<hash>``, where the hash covers the source of
every ``idrisk/_kernels/*.py`` and the numba version. Any kernel source change gives a new
directory, so a kernel that calls a kernel of another file can never be loaded stale (numba's
own index only checks the calling function's file). ``IDRISK_NUMBA_CACHE=0`` disables
caching; ``IDRISK_NUMBA_CACHE=<directory>`` puts the cache under that directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

_KERNELS = Path(__file__).resolve().parent / "_kernels"
_CACHE_ENV = "IDRISK_NUMBA_CACHE"


def switched_on(name: str) -> bool:
    """False when the environment variable ``name`` is ``0``, ``off``, ``false`` or ``no``
    (any case, spaces ignored); True when it is unset or anything else."""
    return os.environ.get(name, "").strip().lower() not in {"0", "off", "false", "no"}


def kernel_cache_enabled() -> bool:
    """False when ``IDRISK_NUMBA_CACHE=0`` (or ``off``/``false``/``no``)."""
    return switched_on(_CACHE_ENV)


def kernel_source_hash() -> str:
    """SHA-256 (16 hex digits) of every ``idrisk/_kernels/*.py`` (names and bytes) and numba's version."""
    import numba

    h = hashlib.sha256(numba.__version__.encode())
    for path in sorted(_KERNELS.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def kernel_cache_dir() -> Path:
    """The directory of the compiled-kernel cache (see the module docstring)."""
    from . import __version__

    base = os.environ.get(_CACHE_ENV, "").strip()
    if not base or not kernel_cache_enabled():
        xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
        base = os.path.join(xdg or os.path.join(os.path.expanduser("~"), ".cache"), "idrisk", "numba")
    return Path(base) / f"{__version__}-{kernel_source_hash()}"


@contextlib.contextmanager
def kernel_cache():
    """Point numba's cache at :func:`kernel_cache_dir` while the kernels are decorated.

    numba fixes a cached function's directory when it is decorated, so the setting is
    restored afterwards and other numba code in the process is not affected.
    """
    if not kernel_cache_enabled():
        yield None
        return
    from numba.core import config

    path = kernel_cache_dir()
    saved = config.CACHE_DIR
    config.CACHE_DIR = str(path)
    try:
        yield path
    finally:
        config.CACHE_DIR = saved


#: Every kernel: ``nogil`` (chunks run on threads, see ``idrisk/_kernels/threads.py``) and
#: cached. No kernel is compiled with ``parallel=True``: on a new install its compilation
#: cost more than the parallel speed-up gave back on two cores.
NUMBA_OPTS = dict(nogil=True, cache=kernel_cache_enabled())

#: A quasi-identifier whose number of distinct values exceeds this share of the rows is
#: reported as a likely direct identifier (IdentifierWarning).
IDENTIFIER_DISTINCT_SHARE = 0.95
#: ...but only when the frame has at least this many rows (tiny frames are all unique).
IDENTIFIER_MIN_ROWS = 50
