"""The activity line: shown on a terminal within 2 s (also while kernels compile), never in a pipe."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time

import numba
import numpy as np
import pandas as pd

from idrisk._progress import activity


def test_forced_on_writes_the_line_and_sees_compiles():
    out = io.StringIO()
    with activity("idrisk test", enabled=True, file=out) as line:

        @numba.njit(cache=False)
        def _fresh_kernel(x):
            return x + 1

        assert _fresh_kernel(np.int64(41)) == 42
        time.sleep(0.4)
    assert "idrisk test" in out.getvalue()
    assert line.compiles.count >= 1
    assert "_fresh_kernel" in line.compiles.names


def test_off_when_not_a_terminal():
    out = io.StringIO()  # not a TTY
    with activity("idrisk test", file=out) as line:
        time.sleep(0.3)
    assert line is None
    assert out.getvalue() == ""


def _run_on_pty(args, cwd, first_text, timeout=600):
    """Run ``args`` with a pseudo-terminal as stdin/stdout/stderr; return (seconds to ``first_text``, output, rc)."""
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm", PYTHONWARNINGS="ignore::DeprecationWarning")
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True)
    os.close(slave)
    buf, seen_at = b"", None
    deadline = t0 + timeout
    try:
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                buf += chunk
                if seen_at is None and first_text.encode() in buf:
                    seen_at = time.perf_counter() - t0
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        rc = proc.wait(timeout=60)
    return seen_at, buf.decode(errors="replace"), rc


def test_assess_on_a_terminal_shows_progress_within_2_seconds(tmp_path):
    rng = np.random.default_rng(3)
    pd.DataFrame({"a": rng.integers(0, 3, 200), "b": rng.integers(0, 4, 200)}).to_csv(tmp_path / "d.csv", index=False)
    # the interpreter's own start-up on this (possibly loaded) machine is not idrisk's to cut
    startup, _, _ = _run_on_pty([sys.executable, "-c", "import sys; sys.stderr.write('ready')"], tmp_path, "ready")
    seen_at, out, rc = _run_on_pty([sys.executable, "-m", "idrisk", "assess", "d.csv", "--qi", "a,b", "--nofail"],
                                   tmp_path, "idrisk assess ")
    assert rc == 0, out
    assert seen_at is not None and seen_at < 2.0 + startup, (seen_at, startup, out)
    assert out.index("idrisk assess ") < out.index("idrisk assessment of"), out  # the line comes first


def test_assess_in_a_pipe_is_silent_on_stderr(tmp_path):
    pd.DataFrame({"a": [1, 2, 3] * 20, "b": [1, 1, 2] * 20}).to_csv(tmp_path / "d.csv", index=False)
    proc = subprocess.run([sys.executable, "-m", "idrisk", "assess", "d.csv", "--qi", "a,b", "--nofail"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env=dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning"))
    assert proc.returncode == 0, proc.stderr
    assert "idrisk assess" not in proc.stderr
