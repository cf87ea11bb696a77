"""Chunks of a ``nogil`` kernel run on threads (instead of ``parallel=True``).

A ``parallel=True`` kernel costs several seconds of compilation in every new install;
the kernels here release the GIL, so the same chunks run on a small thread pool from
Python with the serial kernel compiled once. Each chunk writes only its own part of the
outputs, so the results do not depend on the number of threads.

The pool is made once and kept (starting threads on every call cost a millisecond or
more per call on a loaded machine), and the calling thread takes chunks too, so a call
wakes one thread fewer; a chunk that itself calls :func:`run_chunks` runs its inner
chunks in its own thread, so a full pool never waits on itself. A forked child makes
its own pool.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numba

_PREFIX = "idrisk-kernel"
_lock = threading.Lock()
_pool: list = []  # [executor, its number of workers] once made
_inside = threading.local()  # .on: this (calling) thread is running chunks of run_chunks


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


class PerThread:
    """One scratch value per thread that asks for it, made by ``make()`` on its first
    :meth:`get`: the count tables chunks add into, which the caller sums once
    :func:`run_chunks` has returned (integer counts, so the sum does not depend on which
    thread counted which rows). Each thread writes only its own entry."""

    def __init__(self, make):
        self._make = make
        self._by_thread: dict = {}

    def get(self):
        tid = threading.get_ident()
        value = self._by_thread.get(tid)
        if value is None:
            value = self._by_thread[tid] = self._make()
        return value

    def values(self) -> list:
        return list(self._by_thread.values())


def run_chunks(fn, n_chunks: int) -> None:
    """Call ``fn(ch)`` for ``ch = 0 .. n_chunks-1`` on up to :func:`n_workers` threads.

    The calling thread is one of them: it takes chunks too (from one shared ticket counter,
    so a thread that finishes early takes the next chunk), and only ``workers - 1`` pool
    threads are woken. A ``run_chunks`` inside a chunk runs serially in its own thread.
    """
    n_chunks = int(n_chunks)
    workers = n_workers(n_chunks)
    if workers == 1 or threading.current_thread().name.startswith(_PREFIX) or getattr(_inside, "on", False):
        for ch in range(n_chunks):
            fn(ch)
        return
    ex = _executor(workers - 1)
    tickets = itertools.count()  # next() on a count is atomic under the GIL
    errors = []

    def drain():
        while (ch := next(tickets)) < n_chunks:
            try:
                fn(ch)
            except BaseException as e:  # noqa: BLE001  (raised below, once every chunk has ended)
                errors.append((ch, e))

    futures = [ex.submit(drain) for _ in range(workers - 1)]
    _inside.on = True
    try:
        drain()
    finally:
        _inside.on = False
        # a pool thread that has not started finds no chunk left: cancel it; wait for the
        # others, so every chunk has ended before the call returns or raises
        wait([f for f in futures if not f.cancel()])
    if errors:
        raise min(errors, key=lambda item: item[0])[1]  # the lowest chunk's, whichever thread ran it
