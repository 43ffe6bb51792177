"""spark_similarity on a skewed day with the driver heap capped at 512 MB: what reaches the
driver is each cluster's first `--num-donors` rows (clusters x donors), never every client.

`TAAR_SKEW_CLIENTS` sets the size (100,000 here; `make bench` runs 1,000,000).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from taar_fixtures.amo import generate_catalogue
from taar_fixtures.amo.catalogue import PIONEER_GUID
from taar_fixtures.bench import HEAVY_CLIENT_ADDONS, skew_clients_daily
from taar_fixtures.telemetry import write_clients_daily
from taar_testing.spark_jobs import run_job

DAY = dt.date(2026, 11, 27)
SKEW_CLIENTS = int(os.environ.get("TAAR_SKEW_CLIENTS", "100000"))


def test_skewed_day_completes_with_a_512mb_driver_heap(tmp_path: Path) -> None:
    # The Pioneer add-on is never valid: keep it out of the add-ons the assertions follow.
    guids = sorted(set(generate_catalogue(700, seed=0).guids) - {PIONEER_GUID})
    whitelisted = guids[:200]
    clients_daily = write_clients_daily(tmp_path / "in", n_clients=SKEW_CLIENTS, dates=[DAY], seed=3, addon_guids=guids)
    day = clients_daily / f"submission_date_s3={DAY:%Y%m%d}"
    skew_clients_daily(day, common_guid=whitelisted[0], heavy_guids=guids[1 : HEAVY_CLIENT_ADDONS + 1], seed=3)
    whitelist = tmp_path / "only_guids_top_200.json"
    whitelist.write_text(json.dumps(whitelisted))

    run = run_job(
        "taar_spark_similarity",
        ["--input", str(clients_daily), "--whitelist-url", str(whitelist), "--date", f"{DAY:%Y%m%d}",
         "--from-date", f"{DAY:%Y%m%d}", "--bucket", str(tmp_path / "out"), "--seed", "1"],
        master="local[2]",
    )  # fmt: skip

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.driver_heap_mib is not None and run.driver_heap_mib <= 512, run.java_heaps_mib
    published = tmp_path / "out" / "taar" / "similarity"
    donors = json.loads((published / "donors.json").read_text())
    assert len(donors) == run.summary["counts"]["donors"] > 0
    assert len(json.loads((published / "lr_curves.json").read_text())) == 1000  # --num-pdf-points default
