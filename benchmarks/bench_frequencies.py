"""asv suite for the frequency engine (idrisk.frequencies: encoding + grouping + fk/Fk).

Baselines for the ratios live in benchmarks/ratios_frequencies.py
(pandas groupby-transform timed in the same run); this suite tracks our own timings
across commits. Setup calls the function once on a small frame so JIT compilation (or
loading numba's cache) stays outside the timed region.
"""

import numpy as np
import pandas as pd

import idrisk
from idrisk._encode import encode

try:
    from .make_synth import make
except ImportError:  # run as a plain module
    from make_synth import make

QIS6 = ["k1", "k2", "k3", "k4", "k5", "k6"]
QIS8 = QIS6 + ["k7", "k8"]


def _typed(n, seed=20240601):
    cols, w, _, _ = make(n, seed)
    df = pd.DataFrame({
        "k1": cols["k1"] == 1,
        "k2": cols["k2"],
        "k3": pd.Categorical.from_codes(cols["k3"] - 1, [f"c{i}" for i in range(18)]),
        "k4": cols["k4"].astype(np.int16),
        "k5": cols["k5"].astype(np.int8),
        "k6": pd.Categorical.from_codes(cols["k6"] - 1, [f"r{i}" for i in range(30)]),
        "k7": cols["k7"],
        "k8": cols["k8"].astype(np.int8),
    })
    return df, w


def _strings(n, seed=20240601):
    cols, w, _, _ = make(n, seed)
    out = {}
    for c in QIS6:
        labels = np.array([f"{c}_value_{v}" for v in range(int(cols[c].max()) + 1)], dtype=object)
        out[c] = labels[cols[c]]
    return pd.DataFrame(out), w


def _with_missing(n, seed=20240601):
    cols, w, _, _ = make(n, seed)
    df = pd.DataFrame({f"k{j}": cols[f"k{j}"] for j in range(1, 8)})
    rng = np.random.default_rng(1)
    df["k3"] = df["k3"].astype("float64")
    df.loc[rng.random(n) < 0.01, "k3"] = np.nan
    return df, w


class FrequenciesTyped:
    """fk/Fk over 6 typed QIs (bool, ints, categoricals), encoding included."""

    params = ([100_000, 1_000_000], [False, True])
    param_names = ["n_records", "weighted"]
    timeout = 300

    def setup(self, n, weighted):
        self.df, w = _typed(n)
        self.w = w if weighted else None
        idrisk.frequencies(self.df.head(100), QIS6, weights=None if self.w is None else self.w[:100])

    def time_category(self, n, weighted):
        idrisk.frequencies(self.df, QIS6, weights=self.w)

    def time_category_8qis(self, n, weighted):
        idrisk.frequencies(self.df, QIS8, weights=self.w)

    def peakmem_category_8qis(self, n, weighted):
        idrisk.frequencies(self.df, QIS8, weights=self.w)


class FrequenciesStrings:
    """fk over 6 object-string QIs: dominated by pandas' factorize of the strings."""

    params = [100_000, 1_000_000]
    param_names = ["n_records"]
    timeout = 300

    def setup(self, n):
        self.df, _ = _strings(n)
        idrisk.frequencies(self.df.head(100), QIS6)

    def time_category(self, n):
        idrisk.frequencies(self.df, QIS6)

    def time_encode_only(self, n):
        encode(self.df, QIS6)


class FrequenciesWildcard:
    """sdcMicro freqCalc semantics: 7 QIs, 1% missing in one of them."""

    params = ([100_000, 1_000_000], [1.0, 0.5])
    param_names = ["n_records", "alpha"]
    timeout = 300

    def setup(self, n, alpha):
        self.df, self.w = _with_missing(n)
        self.qis = [f"k{j}" for j in range(1, 8)]
        idrisk.frequencies(self.df.head(1000), self.qis, weights=self.w[:1000], missing="wildcard",
                           alpha=alpha)

    def time_wildcard(self, n, alpha):
        idrisk.frequencies(self.df, self.qis, weights=self.w, missing="wildcard", alpha=alpha)

    def time_never(self, n, alpha):
        idrisk.frequencies(self.df, self.qis, weights=self.w, missing="never")


def timeraw_import_and_first_call():
    return """
import pandas as pd, idrisk
idrisk.frequencies(pd.DataFrame({"a": [1, 2, 2], "b": ["x", "y", "y"]}), ["a", "b"])
"""
