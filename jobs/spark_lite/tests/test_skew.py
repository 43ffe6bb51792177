"""spark_lite on a skewed day with the driver heap capped at 512 MB: what reaches the driver
is bounded by add-ons (one row per whitelisted add-on, one per add-on id seen), never by clients.

`TAAR_SKEW_CLIENTS` sets the size (1,000,000 unless set; a smaller one is quicker locally).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from taar_fixtures.bench import HEAVY_CLIENT_ADDONS, write_skewed_day
from taar_fixtures.handmade import write_whitelist
from taar_testing.spark_jobs import run_within_driver_heap, skew_clients

DAY = dt.date(2026, 11, 27)


def test_skewed_day_completes_with_a_512mb_driver_heap(tmp_path: Path) -> None:
    skewed = write_skewed_day(tmp_path / "in", DAY, n_clients=skew_clients(), catalogue_size=1_200, seed=3)
    whitelist = write_whitelist(tmp_path, {g: {"guid": g} for g in skewed.guids[: HEAVY_CLIENT_ADDONS + 100]})
    args = ["--date", f"{DAY:%Y%m%d}", "--input", str(skewed.clients_daily), "--whitelist-url", str(whitelist),
            "--bucket", str(tmp_path / "out"), "--seed", "1"]  # fmt: skip

    run_within_driver_heap("taar_spark_lite", args, max_heap_mib=512)

    rows = pq.read_table(skewed.partition, columns=["client_id", "channel", "app_name"])
    release = rows.filter(pc.and_(pc.equal(rows["channel"], "release"), pc.equal(rows["app_name"], "Firefox")))
    release_clients = len(pc.unique(release["client_id"].drop_null()))
    published = tmp_path / "out" / "taar" / "lite"
    ranking = json.loads((published / "guid_install_ranking.json").read_text())
    coinstallation = json.loads((published / "guid_coinstallation.json").read_text())
    common, heavy = skewed.common_guid, skewed.heavy_guids
    assert ranking[common] == release_clients
    assert set(coinstallation[heavy[-1]]) >= {common, *heavy[:-1]}
