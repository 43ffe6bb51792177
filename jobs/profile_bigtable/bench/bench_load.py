#!/usr/bin/env python
"""Benchmark: Avro profiles -> cbtemulator with `--workers` 1, 4, 8 vs the emulator's ceiling.

Standalone (`.venv/profile_bigtable/bin/python jobs/profile_bigtable/bench/bench_load.py`):
starts its own cbtemulator, generates `--rows` profiles as Avro files (hashed ids only),
then measures
  * ceiling: pre-built rows, one bulk `mutate_rows` per 10,000 (no Avro, no JSON, no zlib);
  * the job's loader (`load_profiles` into `BigtableSink`) for each worker count;
  * peak RSS of a `taar-profile-bigtable --gcs-to-bigtable` process at each `--rss-rows`.
Prints one JSON object; `--out FILE` also writes it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
from taar_common.storage import Storage
from taar_fixtures.bench import measure_process
from taar_profile_bigtable import avro_files, loader
from taar_profile_bigtable.sinks import BigtableSink
from taar_profile_bigtable.transform import COLUMN_FAMILY, PAYLOAD_COLUMN, profile_row
from taar_testing.services import BigtableEmulator

DAY = dt.date(2026, 11, 27)
ADDON = pa.struct(
    [("addon_id", pa.string()), ("is_system", pa.bool_()), ("user_disabled", pa.bool_()), ("version", pa.string())]
)
SCHEMA = pa.schema(
    [
        ("client_id", pa.string()),
        ("city", pa.string()),
        ("locale", pa.string()),
        ("os", pa.string()),
        ("subsession_length", pa.int64()),
        ("places_bookmarks_count", pa.float64()),
        ("scalar_parent_browser_engagement_tab_open_event_count", pa.int64()),
        ("scalar_parent_browser_engagement_total_uri_count", pa.int64()),
        ("scalar_parent_browser_engagement_unique_domains_count", pa.float64()),
        ("active_addons", pa.list_(ADDON)),
        ("disabled_addons_ids", pa.list_(pa.string())),
    ]
)


def profile_batches(rows: int, seed: int = 1, chunk: int = 10_000) -> Iterator[pa.RecordBatch]:
    """`rows` synthetic profile rows (as --fill-bq makes them), `chunk` at a time."""
    rng = random.Random(seed)
    for start in range(0, rows, chunk):
        records = []
        for i in range(start, min(rows, start + chunk)):
            addons = [
                {"addon_id": f"addon-{rng.randrange(200)}@example.org", "is_system": False,
                 "user_disabled": rng.random() < 0.05, "version": "1.0"}
                for _ in range(rng.randint(1, 5))
            ]  # fmt: skip
            records.append(
                {
                    "client_id": hashlib.sha256(f"bench-client-{i}".encode()).hexdigest(),
                    "city": rng.choice(["Paris", "Berlin", "Lagos", "Lima"]),
                    "locale": "en-US",
                    "os": "Linux",
                    "subsession_length": rng.randrange(100_000),
                    "places_bookmarks_count": float(rng.randrange(500)),
                    "scalar_parent_browser_engagement_tab_open_event_count": rng.randrange(300),
                    "scalar_parent_browser_engagement_total_uri_count": rng.randrange(3000),
                    "scalar_parent_browser_engagement_unique_domains_count": float(rng.randrange(80)),
                    "active_addons": addons,
                    "disabled_addons_ids": [a["addon_id"] for a in addons if a["user_disabled"]],
                }
            )
        yield pa.RecordBatch.from_pylist(records, schema=SCHEMA)


def write_profiles(bucket: Path, rows: int) -> list[str]:
    urls, written = avro_files.write_avro_files(
        Storage(), str(bucket), DAY, profile_batches(rows), SCHEMA, max_file_bytes=8 * 1024 * 1024
    )
    assert written == rows
    return urls


def ceiling(emulator: BigtableEmulator, files: list[str], table_id: str) -> float:
    """Rows/s of bare bulk mutate_rows (10,000 pre-built rows per call)."""
    from google.cloud.bigtable.row import DirectRow

    sink = BigtableSink(emulator.project, emulator.instance, table_id)
    sink.ensure_table()
    stamp = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    rows = []
    for url in files:
        for record in avro_files.read_avro_records(Storage(), url):
            key, value = profile_row(record)
            row = DirectRow(key)
            row.set_cell(COLUMN_FAMILY, PAYLOAD_COLUMN, value, timestamp=stamp)
            rows.append(row)
    table = sink._table
    start = time.perf_counter()
    for first in range(0, len(rows), 10_000):
        statuses = table.mutate_rows(rows[first : first + 10_000])
        assert all(s.code == 0 for s in statuses)
    took = time.perf_counter() - start
    sink.close()
    return len(rows) / took


def job_rate(emulator: BigtableEmulator, files: list[str], table_id: str, workers: int, batch_size: int) -> float:
    sink = BigtableSink(emulator.project, emulator.instance, table_id)
    sink.ensure_table()
    start = time.perf_counter()
    result = loader.load_profiles(
        Storage(), files, sink, dt.datetime(2026, 11, 27, tzinfo=dt.UTC), batch_size=batch_size, workers=workers
    )
    took = time.perf_counter() - start
    sink.close()
    return result.rows_written / took


def peak_rss_mib(emulator: BigtableEmulator, bucket: Path, table_id: str) -> float:
    """Peak RSS of one CLI load process over the files in `bucket`."""
    argv = [
        sys.executable, "-m", "taar_profile_bigtable", "--gcs-to-bigtable", "--iso-date", DAY.strftime("%Y%m%d"),
        "--avro-gcs-bucket", str(bucket), "--gcp-project", emulator.project,
        "--bigtable-instance-id", emulator.instance, "--bigtable-table-id", table_id, "--workers", "4",
    ]  # fmt: skip
    env = {**os.environ, "BIGTABLE_EMULATOR_HOST": emulator.host}
    # VmHWM sampled from /proc: rusage's ru_maxrss would include the parent's RSS at fork
    # time (Linux folds the pre-exec high-water mark into it).
    run = measure_process(argv, env=env, interval_s=0.1)
    if run.returncode != 0:
        raise RuntimeError(f"load of {bucket} failed with exit {run.returncode}")
    return run.peak_rss_kib() / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--rss-rows", type=int, nargs="*", default=[200_000, 1_000_000])
    parser.add_argument("--batch-size", type=int, default=1000, help="the job's --batch-size")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    figures: dict[str, object] = {
        "rows": args.rows,
        "batch_size": args.batch_size,
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="taar-bench-") as scratch, BigtableEmulator() as emulator:
        os.environ["BIGTABLE_EMULATOR_HOST"] = emulator.host
        bucket = Path(scratch) / "avro"
        start = time.perf_counter()
        files = write_profiles(bucket, args.rows)
        figures["avro_files"] = len(files)
        figures["generate_s"] = round(time.perf_counter() - start, 1)
        figures["ceiling_rows_per_s"] = round(ceiling(emulator, files, "bench_ceiling"))
        for workers in args.workers:
            rate = job_rate(emulator, files, f"bench_w{workers}", workers, args.batch_size)
            figures[f"workers_{workers}_rows_per_s"] = round(rate)
            figures[f"workers_{workers}_pct_of_ceiling"] = round(100 * rate / figures["ceiling_rows_per_s"], 1)
        for rows in args.rss_rows:
            rss_bucket = Path(scratch) / f"rss-{rows}"
            write_profiles(rss_bucket, rows)
            figures[f"peak_rss_mib_at_{rows}_rows"] = round(peak_rss_mib(emulator, rss_bucket, f"bench_rss_{rows}"), 1)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
