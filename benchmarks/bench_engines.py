"""asv suites: idrisk against polars and DuckDB on the same data (dev dependencies).

benchmarks/ratios_engines.py prints the same comparisons as ratios from one process; these
suites track each side's time across commits. A baseline whose library is not installed
is skipped (``NotImplementedError`` in setup, asv's way of skipping).

* ``FkEngines``: fk over 6 keys, typed or mixed with string columns (object, or pandas 3's
  Arrow-backed ``str``), against polars ``group_by(keys).len()`` and DuckDB
  ``count(*) OVER (PARTITION BY keys)``;
* ``LDiversityEngines``: l-diversity (distinct, entropy, recursive) against polars' distinct
  count alone;
* ``SweepEngines``: the 63-subset ``combination_sweep`` against DuckDB ``GROUP BY CUBE``.
"""

from __future__ import annotations

try:
    from .bench_suda import duckdb_cube
    from .make_synth import make
    from .ratios_engines import KEYS6, MIXED6, mixed_frame, polars_distinct, polars_len, to_polars, typed_frame
except ImportError:  # run as a plain module from benchmarks/
    from bench_suda import duckdb_cube
    from make_synth import make
    from ratios_engines import KEYS6, MIXED6, mixed_frame, polars_distinct, polars_len, to_polars, typed_frame


def _frame(kind: str, n: int):
    cols, _, _, sens = make(n, 20240601)
    if kind == "typed":
        return typed_frame(cols, sens), KEYS6
    return mixed_frame(cols, arrow=kind == "arrow"), MIXED6


def _polars(df):
    try:
        return to_polars(df)
    except ImportError:
        raise NotImplementedError("polars is not installed") from None


def _duckdb_fk(df, keys):
    import duckdb  # noqa: PLC0415

    con = duckdb.connect()
    con.register("t", df[keys])
    try:
        return con.execute(f"SELECT count(*) OVER (PARTITION BY {', '.join(keys)}) FROM t").fetchnumpy()
    finally:
        con.close()


class FkEngines:
    params = ([1_000_000], ["typed", "object", "arrow"])
    param_names = ["n_records", "keys"]
    timeout = 300

    def setup(self, n, kind):
        import idrisk  # noqa: PLC0415

        self.df, self.keys = _frame(kind, n)
        self.pl = None
        idrisk.frequencies(self.df.head(1000), self.keys)

    def time_idrisk(self, n, kind):
        import idrisk  # noqa: PLC0415

        idrisk.frequencies(self.df, self.keys)

    def time_polars_group_by_len(self, n, kind):
        if self.pl is None:
            self.pl = _polars(self.df[self.keys])
        polars_len(self.pl, self.keys)

    def time_duckdb_window_count(self, n, kind):
        try:
            _duckdb_fk(self.df, self.keys)
        except ImportError:
            raise NotImplementedError("duckdb is not installed") from None


class LDiversityEngines:
    params = [1_000_000]
    param_names = ["n_records"]
    timeout = 300

    def setup(self, n):
        import idrisk  # noqa: PLC0415

        self.df, _ = _frame("typed", n)
        self.pl = _polars(self.df)
        idrisk.l_diversity(self.df.head(1000), KEYS6, "sens")

    def time_idrisk_all_three(self, n):
        import idrisk  # noqa: PLC0415

        idrisk.l_diversity(self.df, KEYS6, "sens")

    def time_polars_distinct_only(self, n):
        polars_distinct(self.pl, KEYS6, "sens")

    def peakmem_idrisk_all_three(self, n):
        import idrisk  # noqa: PLC0415

        idrisk.l_diversity(self.df, KEYS6, "sens")


class SweepEngines:
    params = ([1_000_000], ["typed", "arrow"])
    param_names = ["n_records", "keys"]
    timeout = 300

    def setup(self, n, kind):
        import idrisk  # noqa: PLC0415

        self.df, self.keys = _frame(kind, n)
        idrisk.combination_sweep(self.df.head(1000), self.keys)

    def time_idrisk(self, n, kind):
        import idrisk  # noqa: PLC0415

        idrisk.combination_sweep(self.df, self.keys)

    def time_duckdb_group_by_cube(self, n, kind):
        try:
            duckdb_cube(self.df[self.keys], self.keys)
        except ImportError:
            raise NotImplementedError("duckdb is not installed") from None

    def peakmem_idrisk(self, n, kind):
        import idrisk  # noqa: PLC0415

        idrisk.combination_sweep(self.df, self.keys)
