"""Chunks of a ``nogil`` kernel run on threads (instead of ``parallel=True``).

A ``parallel=True`` kernel costs several seconds of compilation in every new install;
the kernels here release the GIL, so the same chunks run on a small thread pool from
Python with the serial kernel compiled once. Each chunk writes only its own part of the
outputs, so the results do not depend on the number of threads.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba


def n_workers(n_chunks: int) -> int:
    """Threads for ``n_chunks`` chunks: at most numba's thread count (``NUMBA_NUM_THREADS``)."""
    return max(1, min(int(n_chunks), int(numba.get_num_threads())))


_PREFIX = "idrisk-kernel"
_POOLS: dict = {}
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """One pool per thread count, kept for the process (starting threads on every call costs
    more than many small kernels take)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_PREFIX)
        return pool


def run_chunks(fn, n_chunks: int) -> None:
    """Call ``fn(ch)`` for ``ch = 0 .. n_chunks-1`` on up to :func:`n_workers` threads (in
    turn when called from one of those threads, so a chunk never waits for the pool it holds)."""
    n_chunks = int(n_chunks)
    workers = n_workers(n_chunks)
    if workers == 1 or threading.current_thread().name.startswith(_PREFIX):
        for ch in range(n_chunks):
            fn(ch)
        return
    for _ in _pool(workers).map(fn, range(n_chunks)):  # re-raises the first exception of a chunk
        pass
