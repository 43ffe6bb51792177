"""spark_similarity under `local-cluster`: separate executor JVMs and Python workers, a real
shuffle between processes. The clustering, the seeded donor draw and the LR curves must not
depend on driver and executors sharing a JVM."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.handmade import write_whitelist
from taar_fixtures.telemetry import write_clients_daily
from taar_testing.spark_jobs import local_and_cluster_artifacts

pytestmark = pytest.mark.cluster

DAY = dt.date(2026, 11, 27)
DATES = [DAY - dt.timedelta(days=1), DAY]
MODULE = "taar_spark_similarity"


def test_local_cluster_artifacts_equal_the_local_run_byte_for_byte(tmp_path: Path) -> None:
    guids = sorted(generate_catalogue(60, seed=3).guids)
    clients_daily = write_clients_daily(tmp_path / "in", n_clients=600, dates=DATES, seed=3, addon_guids=guids)
    whitelist = write_whitelist(tmp_path, guids)
    args = ["--input", str(clients_daily), "--whitelist-url", str(whitelist), "--date", f"{DAY:%Y%m%d}",
            "--from-date", f"{DATES[0]:%Y%m%d}", "--num-clusters", "3", "--num-donors", "40",
            "--num-pdf-points", "50", "--seed", "5"]  # fmt: skip

    local, cluster = local_and_cluster_artifacts(MODULE, args, tmp_path)

    assert {Path(name).name for name in local} >= {"donors.json", "lr_curves.json"}
    assert cluster == local
