"""spark_locale on a skewed day with the driver heap capped at 512 MB: what reaches the driver
is one row per (locale, whitelisted add-on), never per client, however lopsided the locales.

`TAAR_SKEW_CLIENTS` sets the size (1,000,000 unless set; a smaller one is quicker locally).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from taar_fixtures.bench import SKEW_LOCALE, write_skewed_day
from taar_fixtures.handmade import write_whitelist
from taar_testing.spark_jobs import run_within_driver_heap, skew_clients

DAY = dt.date(2026, 11, 27)


def test_skewed_day_completes_with_a_512mb_driver_heap(tmp_path: Path) -> None:
    skewed = write_skewed_day(tmp_path / "in", DAY, n_clients=skew_clients(), catalogue_size=1_200, seed=3)
    whitelist = write_whitelist(tmp_path, skewed.guids[:200])
    args = ["--date", f"{DAY:%Y%m%d}", "--num-days", "1", "--input", str(skewed.clients_daily),
            "--whitelist-url", str(whitelist), "--bucket", str(tmp_path / "out"), "--seed", "1"]  # fmt: skip

    run_within_driver_heap("taar_spark_locale", args, max_heap_mib=512)

    top = json.loads((tmp_path / "out" / "taar" / "locale" / "top10_dict.json").read_text())
    assert len(top[SKEW_LOCALE]) == 10
    # One add-on per client: with every client holding the common add-on it leads the big locale.
    assert top[SKEW_LOCALE][0][0] == skewed.common_guid
