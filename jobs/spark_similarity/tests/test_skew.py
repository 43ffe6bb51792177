"""spark_similarity on a skewed day with the driver heap capped at 512 MB: what reaches the
driver is each cluster's first `--num-donors` rows (clusters x donors), never every client.

`TAAR_SKEW_CLIENTS` sets the size (1,000,000 unless set; a smaller one is quicker locally).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from taar_fixtures.bench import write_skewed_day
from taar_fixtures.handmade import write_whitelist
from taar_testing.spark_jobs import run_within_driver_heap, skew_clients

DAY = dt.date(2026, 11, 27)


def test_skewed_day_completes_with_a_512mb_driver_heap(tmp_path: Path) -> None:
    skewed = write_skewed_day(tmp_path / "in", DAY, n_clients=skew_clients(), catalogue_size=700, seed=3)
    whitelist = write_whitelist(tmp_path, skewed.guids[:200])
    args = ["--input", str(skewed.clients_daily), "--whitelist-url", str(whitelist), "--date", f"{DAY:%Y%m%d}",
            "--from-date", f"{DAY:%Y%m%d}", "--bucket", str(tmp_path / "out"), "--seed", "1"]  # fmt: skip

    run = run_within_driver_heap("taar_spark_similarity", args, max_heap_mib=512)

    published = tmp_path / "out" / "taar" / "similarity"
    donors = json.loads((published / "donors.json").read_text())
    assert len(donors) == run.summary["counts"]["donors"] > 0
    assert len(json.loads((published / "lr_curves.json").read_text())) == 1000  # --num-pdf-points default
