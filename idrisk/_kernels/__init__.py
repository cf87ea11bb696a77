"""numba kernels: integer arrays in, arrays out; no pandas, no I/O, no mutable globals.

Every kernel module is imported here, inside :func:`idrisk._config.kernel_cache`, so that
each cached kernel is decorated with the cache directory outside the source tree.
"""

from .._config import kernel_cache

with kernel_cache():
    from . import anonymise, codes, combinations, diversity, groups, hashing, linkage, risk, suda2  # noqa: F401
