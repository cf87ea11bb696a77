"""Chunks of a ``nogil`` kernel run on threads (instead of ``parallel=True``).

A ``parallel=True`` kernel costs several seconds of compilation in every new install;
the kernels here release the GIL, so the same chunks run on a small thread pool from
Python with the serial kernel compiled once. Each chunk writes only its own part of the
outputs, so the results do not depend on the number of threads.

The pool is made once and kept (starting threads on every call cost a millisecond or
more per call on a loaded machine); a chunk that itself calls :func:`run_chunks` runs its
inner chunks in its own thread, so a full pool never waits on itself. A forked child
makes its own pool.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numba

_PREFIX = "idrisk-kernel"
_lock = threading.Lock()
_pool: list = []  # [executor, its number of workers] once made


def _forget_pool() -> None:
    _pool.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def n_workers(n_chunks: int) -> int:
    """Threads for ``n_chunks`` chunks: at most numba's thread count (``NUMBA_NUM_THREADS``)."""
    return max(1, min(int(n_chunks), int(numba.get_num_threads())))


def _executor(workers: int) -> ThreadPoolExecutor:
    with _lock:
        if not _pool or _pool[1] < workers:
            _pool[:] = [ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_PREFIX), workers]
        return _pool[0]


def run_chunks(fn, n_chunks: int) -> None:
    """Call ``fn(ch)`` for ``ch = 0 .. n_chunks-1`` on up to :func:`n_workers` threads."""
    n_chunks = int(n_chunks)
    workers = n_workers(n_chunks)
    if workers == 1 or threading.current_thread().name.startswith(_PREFIX):
        for ch in range(n_chunks):
            fn(ch)
        return
    ex = _executor(workers)
    futures = [ex.submit(fn, ch) for ch in range(n_chunks)]
    wait(futures)  # every chunk has ended before the call returns or raises
    for f in futures:
        f.result()  # re-raises the first exception of a chunk
