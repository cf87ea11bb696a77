"""The compiled-kernel cache lives outside the source tree, in a directory keyed on every
kernel source, and is really used by a second process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import idrisk
from idrisk import _config

PKG = Path(idrisk.__file__).resolve().parent


def test_cache_dir_is_outside_the_package_and_named_by_version_and_hash(monkeypatch, tmp_path):
    monkeypatch.delenv("IDRISK_NUMBA_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    d = _config.kernel_cache_dir()
    assert d.parent == tmp_path / "idrisk" / "numba"
    assert d.name == f"{idrisk.__version__}-{_config.kernel_source_hash()}"
    assert PKG not in d.parents
    monkeypatch.setenv("IDRISK_NUMBA_CACHE", str(tmp_path / "elsewhere"))
    assert _config.kernel_cache_dir().parent == tmp_path / "elsewhere"


def test_every_cached_kernel_points_at_the_cache_dir():
    from idrisk import _kernels  # noqa: F401  (imports every kernel module)

    if not _config.kernel_cache_enabled():  # the suite itself may run with IDRISK_NUMBA_CACHE=0
        return
    expected = _config.kernel_cache_dir()
    seen = 0
    for name in ("codes", "combinations", "diversity", "groups", "hashing", "linkage", "risk", "suda2"):
        mod = sys.modules[f"idrisk._kernels.{name}"]
        for obj in vars(mod).values():
            cache = getattr(obj, "_cache", None)
            if cache is not None and hasattr(cache, "cache_path"):
                assert Path(cache.cache_path).parent == expected, (name, obj)
                seen += 1
    assert seen > 40


def test_hash_changes_with_any_kernel_source(monkeypatch, tmp_path):
    fake = tmp_path / "_kernels"
    fake.mkdir()
    for p in (PKG / "_kernels").glob("*.py"):
        (fake / p.name).write_bytes(p.read_bytes())
    monkeypatch.setattr(_config, "_KERNELS", fake)
    h0 = _config.kernel_source_hash()
    assert h0 == _config.kernel_source_hash()
    (fake / "hashing.py").write_bytes((fake / "hashing.py").read_bytes() + b"\n# edit\n")
    h1 = _config.kernel_source_hash()
    assert h1 != h0
    (fake / "new_kernels.py").write_text("x = 1\n")
    assert _config.kernel_source_hash() not in (h0, h1)


def _run(code, env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600,
                          cwd=str(Path(env["XDG_CACHE_HOME"])))


def test_second_process_loads_the_kernel_from_the_cache(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    env.pop("IDRISK_NUMBA_CACHE", None)
    code = textwrap.dedent("""
        import numpy as np
        from idrisk._kernels import hashing
        from idrisk._config import kernel_cache_dir
        disp = hashing.new_table
        disp(5)
        print(sum(disp.stats.cache_hits.values()),
              sum(disp.stats.cache_misses.values()), kernel_cache_dir())
    """)
    first = _run(code, env)
    assert first.returncode == 0, first.stderr
    hits, misses, where = first.stdout.split()
    assert (hits, misses) == ("0", "1")
    assert Path(where).is_dir() and any(Path(where).rglob("*.nbi"))
    second = _run(code, env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split()[:2] == ["1", "0"]


def test_cache_can_be_switched_off(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), IDRISK_NUMBA_CACHE="0")
    code = "from idrisk._config import NUMBA_OPTS; print(NUMBA_OPTS['cache'])"
    out = _run(code, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    assert not (tmp_path / "idrisk").exists()
