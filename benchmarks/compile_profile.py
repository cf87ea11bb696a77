"""Where the first run's time goes: numba compile time per kernel and signature.

Usage::

    .venv/bin/python benchmarks/compile_profile.py            # the demo, empty kernel cache
    .venv/bin/python benchmarks/compile_profile.py --top 40

Runs ``idrisk demo`` (into a temporary directory) with caching off (``IDRISK_NUMBA_CACHE=0``),
so every kernel compiles, and records numba's ``numba:compile`` events. Compiles nest (a kernel
compiles the kernels it calls), so each row's *own* time excludes the nested compiles; the
own times add up to the total compile time. CPU time is reported besides wall time because
the machine may be shared.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

os.environ["IDRISK_NUMBA_CACHE"] = "0"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from numba.core import event  # noqa: E402


KERNEL_MODULES = {"codes", "combinations", "diversity", "groups", "hashing", "linkage", "risk", "suda2"}


class CompileRecorder(event.Listener):
    def __init__(self):
        self.stack = []  # [name, sig, wall start, cpu start, nested wall, nested cpu]
        self.rows = []   # (name, sig, own wall, own cpu, parent kernel)

    def on_start(self, ev):
        d = ev.data["dispatcher"]
        name = f"{d.py_func.__module__.rsplit('.', 1)[-1]}.{d.py_func.__name__}"
        sig = ", ".join(str(a) for a in ev.data["args"])
        self.stack.append([name, sig, time.perf_counter(), time.process_time(), 0.0, 0.0])

    def on_end(self, ev):
        name, sig, w0, c0, nw, nc = self.stack.pop()
        w, c = time.perf_counter() - w0, time.process_time() - c0
        parent = next((f[0] for f in reversed(self.stack) if f[0].split(".")[0] in KERNEL_MODULES), "")
        self.rows.append((name, sig, w - nw, c - nc, parent))
        if self.stack:
            self.stack[-1][4] += w
            self.stack[-1][5] += c


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--n", type=int, default=None, help="population size of the demo")
    args = ap.parse_args(argv)
    rec = CompileRecorder()
    event.register("numba:compile", rec)
    from idrisk.assessment.demo import run_demo

    t0, c0 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        run_demo(__import__("pathlib").Path(tmp), overwrite=True, n=args.n)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    event.unregister("numba:compile", rec)
    per_fn = defaultdict(lambda: [0.0, 0.0, 0])
    for name, _, w, c, _ in rec.rows:
        per_fn[name][0] += w
        per_fn[name][1] += c
        per_fn[name][2] += 1
    tot_w = sum(r[2] for r in rec.rows)
    tot_c = sum(r[3] for r in rec.rows)
    print(f"\ndemo: {wall:.1f} s wall, {cpu:.1f} s CPU; compiling: {tot_w:.1f} s wall, {tot_c:.1f} s CPU, "
          f"{len(rec.rows)} compilations of {len(per_fn)} kernels")
    print(f"\n{'own wall':>9} {'own cpu':>8} {'n':>3}  kernel")
    for name, (w, c, n) in sorted(per_fn.items(), key=lambda kv: -kv[1][1])[: args.top]:
        print(f"{w:9.2f} {c:8.2f} {n:3d}  {name}")
    print("\nnumba's own overloads (np.empty, str, sorting, ...) compiled for each kernel, CPU s:")
    by_parent = defaultdict(float)
    for name, _, _, c, parent in rec.rows:
        if name.split(".")[0] not in KERNEL_MODULES:
            by_parent[parent] += c
    for parent, c in sorted(by_parent.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {c:6.2f}  {parent}")
    print("\nspecialisations (kernels compiled more than once):")
    for name, (w, c, n) in sorted(per_fn.items(), key=lambda kv: -kv[1][1]):
        if n > 1:
            print(f"  {name}:")
            for r in rec.rows:
                if r[0] == name:
                    print(f"    {r[3]:6.2f} s CPU  ({r[1]})")


if __name__ == "__main__":
    main()
