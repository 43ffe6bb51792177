"""spark_lite on a skewed day with the driver heap capped at 512 MB: what reaches the driver
is bounded by add-ons (one row per whitelisted add-on, one per add-on id seen), never by clients.

`TAAR_SKEW_CLIENTS` sets the size (100,000 here; `make bench` runs 1,000,000).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.amo.catalogue import PIONEER_GUID
from taar_fixtures.bench import HEAVY_CLIENT_ADDONS, skew_clients_daily
from taar_fixtures.telemetry import write_clients_daily
from taar_testing.spark_jobs import run_job

DAY = dt.date(2026, 11, 27)
SKEW_CLIENTS = int(os.environ.get("TAAR_SKEW_CLIENTS", "100000"))


def test_skewed_day_completes_with_a_512mb_driver_heap(tmp_path: Path) -> None:
    # The Pioneer add-on is never valid: keep it out of the add-ons the assertions follow.
    guids = sorted(set(generate_catalogue(1_200, seed=0).guids) - {PIONEER_GUID})
    whitelisted = guids[: HEAVY_CLIENT_ADDONS + 100]
    clients_daily = write_clients_daily(tmp_path / "in", n_clients=SKEW_CLIENTS, dates=[DAY], seed=3, addon_guids=guids)
    day = clients_daily / f"submission_date_s3={DAY:%Y%m%d}"
    common, heavy = whitelisted[0], whitelisted[1 : HEAVY_CLIENT_ADDONS + 1]
    skew_clients_daily(day, common_guid=common, heavy_guids=heavy, seed=3)
    whitelist = tmp_path / "whitelist_addons_database.json"
    whitelist.write_text(json.dumps({g: {"guid": g} for g in whitelisted}))

    run = run_job(
        "taar_spark_lite",
        ["--date", f"{DAY:%Y%m%d}", "--input", str(clients_daily), "--whitelist-url", str(whitelist),
         "--bucket", str(tmp_path / "out"), "--seed", "1"],
        master="local[2]",
    )  # fmt: skip

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.driver_heap_mib is not None and run.driver_heap_mib <= 512, run.java_heaps_mib
    rows = pq.read_table(day, columns=["client_id", "channel", "app_name"])
    release = rows.filter(pc.and_(pc.equal(rows["channel"], "release"), pc.equal(rows["app_name"], "Firefox")))
    release_clients = len(pc.unique(release["client_id"].drop_null()))
    published = tmp_path / "out" / "taar" / "lite"
    ranking = json.loads((published / "guid_install_ranking.json").read_text())
    coinstallation = json.loads((published / "guid_coinstallation.json").read_text())
    assert ranking[common] == release_clients
    assert set(coinstallation[heavy[-1]]) >= {common, *heavy[:-1]}
