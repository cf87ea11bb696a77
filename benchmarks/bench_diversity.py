"""asv suites for k-anonymity, l-diversity, t-closeness and sample risks.

Data: the project's synthetic benchmark generator (``make(n, seed)``: 8 keys k1..k8 and
a sensitive ``sens`` with 10 values). ``time_pandas_*`` are the baselines the issue asks
for (pandas ``groupby``), timed in the same run; benchmarks/ratios_diversity.py prints
the ratios.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

KEYS = [f"k{j}" for j in range(1, 9)]


def _make():
    """``make(n, seed)`` of benchmarks/make_synth.py (the generator the issues' speed goals use)."""
    try:
        from .make_synth import make  # noqa: PLC0415  (asv, and ``python -m``)
    except ImportError:
        from make_synth import make  # noqa: PLC0415  (run as a script from benchmarks/)
    return make


def synth_frame(n: int, seed: int = 20240601) -> pd.DataFrame:
    out = _make()(n, seed)
    if isinstance(out, pd.DataFrame):
        return out
    cols, w, hid, sens = out
    df = pd.DataFrame(cols)
    df["w"] = w
    df["hid"] = hid
    df["sens"] = sens
    return df


def pandas_k_anonymity(df, qis, ks=(2, 3, 5, 10)):
    """The baseline: class sizes by groupby, then the same summary."""
    fk = df.groupby(qis, dropna=False, sort=False)[qis[0]].transform("size").to_numpy()
    sizes = df.groupby(qis, dropna=False, sort=False).size().to_numpy()
    hist = np.bincount(sizes)
    return fk.min(), len(sizes), hist, {k: int((fk < k).sum()) for k in ks}, int((fk == 1).sum())


def pandas_l_diversity(df, qis, s, c=2.0):
    """The baseline: distinct, exp-entropy and recursive (c, l) per class with groupby, per record."""
    counts = df.groupby(qis + [s], dropna=False, sort=False).size().rename("r").reset_index()
    g = counts.groupby(qis, dropna=False, sort=False)
    size = g["r"].transform("sum")
    p = counts["r"] / size
    counts["plogp"] = p * np.log(p)
    counts = counts.sort_values(qis + ["r"], ascending=[True] * len(qis) + [False])
    g = counts.groupby(qis, dropna=False, sort=False)
    counts["rank"] = g.cumcount() + 1
    counts["r1"] = g["r"].transform("first")
    counts["tail"] = g["r"].transform("sum") - g["r"].cumsum() + counts["r"]  # r_l + ... + r_m
    counts["ok"] = (counts["rank"] >= 2) & (counts["r1"] < c * counts["tail"])
    per_class = g.agg(distinct=("r", "size"), h=("plogp", "sum"), ok=("ok", "sum"))
    per_class["entropy"] = np.exp(-per_class["h"])
    per_class["recursive"] = per_class["ok"] + 1
    out = df[qis].merge(per_class[["distinct", "entropy", "recursive"]].reset_index(), on=qis, how="left")
    return out[["distinct", "entropy", "recursive"]]


class KAnonymity:
    params = [100_000, 1_000_000]
    param_names = ["n_records"]
    timeout = 300

    def setup(self, n):
        import idrisk

        self.df = synth_frame(n)
        idrisk.k_anonymity(self.df.head(50), KEYS)  # compile outside the timer

    def time_k_anonymity(self, n):
        import idrisk

        idrisk.k_anonymity(self.df, KEYS)

    def time_pandas_groupby(self, n):
        pandas_k_anonymity(self.df, KEYS)


class LDiversity:
    params = [100_000, 1_000_000]
    param_names = ["n_records"]
    timeout = 300

    def setup(self, n):
        import idrisk

        self.df = synth_frame(n)
        idrisk.l_diversity(self.df.head(50), KEYS, "sens")

    def time_l_diversity(self, n):
        import idrisk

        idrisk.l_diversity(self.df, KEYS, "sens")

    def time_pandas_groupby(self, n):
        pandas_l_diversity(self.df, KEYS, "sens")

    def peakmem_l_diversity(self, n):
        import idrisk

        idrisk.l_diversity(self.df, KEYS, "sens")


class TClosenessAndSampleRisks:
    params = [1_000_000]
    param_names = ["n_records"]
    timeout = 300

    def setup(self, n):
        import idrisk

        self.df = synth_frame(n)
        idrisk.t_closeness(self.df.head(50), KEYS, "sens", distance="ordered")
        idrisk.sample_risks(self.df.head(50), KEYS)

    def time_t_closeness_ordered(self, n):
        import idrisk

        idrisk.t_closeness(self.df, KEYS, "sens", distance="ordered")

    def time_sample_risks(self, n):
        import idrisk

        idrisk.sample_risks(self.df, KEYS)
