"""A terminal-only activity line for the command line: elapsed time and what is happening.

The first call of a kernel compiles it (numba), which can take tens of seconds on a new
install; the line says so, naming the kernel, and appears within half a second of the
command starting. It is written to stderr only when stderr is a terminal (never in a pipe,
a log file or CI), unless forced on or off.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading

_REFRESH = 0.25  # seconds between redraws


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


class _CompileWatcher:
    """numba compile events: the kernel being compiled now (innermost) and how many so far."""

    def __init__(self):
        self.stack: list[str] = []
        self.count = 0
        self.names: list[str] = []

    def on_start(self, event):
        disp = event.data.get("dispatcher")
        name = getattr(getattr(disp, "py_func", None), "__name__", "kernel")
        self.stack.append(name)
        self.names.append(name)
        self.count += 1

    def on_end(self, event):
        if self.stack:
            self.stack.pop()

    @property
    def current(self) -> str | None:
        return self.stack[-1] if self.stack else None


@contextlib.contextmanager
def activity(desc: str, enabled: bool | None = None, file=None):
    """Show ``desc``, the elapsed seconds and any kernel being compiled until the block ends.

    Parameters
    ----------
    desc : str
        What is running (e.g. ``"assessment"``).
    enabled : bool, optional
        Force the line on or off; by default it is shown only when ``file`` is a terminal.
    file : stream, optional
        Where to write (default ``sys.stderr``).

    Examples
    --------
    >>> import io
    >>> with activity("nothing", enabled=False, file=io.StringIO()) as line:
    ...     line is None
    True
    """
    file = sys.stderr if file is None else file
    if not (_is_terminal(file) if enabled is None else enabled):
        yield None
        return
    from tqdm import tqdm

    # a terminal that reports a zero size (some pseudo-terminals) would get no line from tqdm
    size = shutil.get_terminal_size((80, 24))
    bar = tqdm(total=None, desc=desc, bar_format="{desc} {elapsed} {postfix}", file=file, leave=False,
               mininterval=0, ncols=size.columns, nrows=size.lines)
    watcher = bar.compiles = _CompileWatcher()
    stop = threading.Event()

    def redraw():
        while not stop.is_set():
            cur = watcher.current
            bar.set_postfix_str(f"compiling kernels ({watcher.count}): {cur}" if cur else "", refresh=False)
            bar.refresh()
            stop.wait(_REFRESH)

    thread = threading.Thread(target=redraw, name="idrisk-progress", daemon=True)
    thread.start()
    listener = _numba_listener(watcher)
    try:
        yield bar
    finally:
        stop.set()
        thread.join()
        if listener is not None:
            from numba.core import event

            event.unregister("numba:compile", listener)
        bar.close()


def _numba_listener(watcher):
    """Register ``watcher`` for numba's compile events (None if numba has no event API)."""
    try:
        from numba.core import event
    except ImportError:  # pragma: no cover - numba without the event API
        return None

    class _Listener(event.Listener):
        def on_start(self, ev):
            watcher.on_start(ev)

        def on_end(self, ev):
            watcher.on_end(ev)

    listener = _Listener()
    event.register("numba:compile", listener)
    return listener
