"""One local Spark session (local[2]) for the Spark tests, started once per test session.

The session carries Splink's jar of similarity functions (jaro_winkler ...) and a
checkpoint directory, which Splink's Spark backend needs, as a user's session would.
"""

from pathlib import Path

import pyspark  # noqa: F401  (the spark extra: the Makefile's test environment installs it and Java)
import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Under pytest-xdist (``--dist loadgroup``) every Spark test runs on one worker: one
    Spark session (one JVM) for the run, while the other workers take the other tests."""
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    session = (SparkSession.builder.master("local[2]").appName("idrisk-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.driver.memory", "2g")
               .config("spark.jars", similarity_jar_location())
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(tmp_path_factory.mktemp("spark-checkpoints")))
    yield session
    session.stop()
