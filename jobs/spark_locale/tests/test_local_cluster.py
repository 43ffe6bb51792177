"""spark_locale under `local-cluster`: separate executor JVMs and Python workers, a real shuffle
between processes. Code that only works when driver and executors share a JVM, or a seeded
step that depends on which process runs a partition, fails here."""

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
DATES = [DAY - dt.timedelta(days=k) for k in (2, 1, 0)]
MODULE = "taar_spark_locale"


def test_local_cluster_artifacts_equal_the_local_run_byte_for_byte(tmp_path: Path) -> None:
    guids = sorted(generate_catalogue(300, seed=0).guids)
    clients_daily = write_clients_daily(tmp_path / "in", n_clients=2000, dates=DATES, seed=5, addon_guids=guids)
    whitelist = write_whitelist(tmp_path, guids[::2][:200])
    args = ["--date", f"{DAY:%Y%m%d}", "--num-days", "3", "--input", str(clients_daily),
            "--whitelist-url", str(whitelist), "--seed", "7"]  # fmt: skip

    local, cluster = local_and_cluster_artifacts(MODULE, args, tmp_path)

    assert "top10_dict.json" in {Path(name).name for name in local}
    assert cluster == local
