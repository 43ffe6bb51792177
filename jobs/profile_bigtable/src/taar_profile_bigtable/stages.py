"""One function per scheduler task; each records its counts on the run summary."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from taar_common.cli import RunSummary
from taar_common.storage import Storage

from taar_profile_bigtable import avro_files, loader
from taar_profile_bigtable.sinks import BigtableSink, LocalSink, ProfileSink
from taar_profile_bigtable.warehouses import (
    BigQueryWarehouse,
    DuckDBWarehouse,
    Warehouse,
    bigquery_client,
)

log = logging.getLogger(__name__)

STAGES = ("fill_bq", "bq_to_gcs", "gcs_to_bigtable", "wipe_bigquery_tmp_table", "wipe_avro", "delete_opt_out")
LOCAL_PROJECT = "taar-local"
LOCAL_INSTANCE = "taar-local"


@dataclass(frozen=True)
class Settings:
    """Every option of a run, resolved (defaults filled in)."""

    day: dt.date
    gcp_project: str
    bigquery_dataset_id: str
    bigquery_table_id: str
    avro_bucket_url: str
    bigtable_instance_id: str
    bigtable_table_id: str
    sample_rate: float
    engine: str
    source: str
    deletion_source: str
    duckdb_path: Path
    sink: str
    local_store: Path
    workers: int
    batch_size: int
    shard_index: int
    shard_count: int
    delete_days: int
    bigtable_timeout_s: float

    @property
    def cell_timestamp(self) -> dt.datetime:
        """Cells are stamped with the run date (midnight UTC): a re-run rewrites the same cell."""
        return dt.datetime.combine(self.day, dt.time(), tzinfo=dt.UTC)


def default_sink(instance_id: str | None) -> str:
    """Bigtable when an instance is named or the emulator is configured, else the local store."""
    return "bigtable" if instance_id or os.environ.get("BIGTABLE_EMULATOR_HOST") else "local"


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    if settings.engine == "duckdb":
        warehouse = DuckDBWarehouse(
            settings.duckdb_path,
            settings.bigquery_dataset_id,
            settings.bigquery_table_id,
            settings.source,
            settings.deletion_source,
        )
        try:
            yield warehouse
        finally:
            warehouse.close()
        return
    client = bigquery_client(settings.gcp_project)
    try:
        yield BigQueryWarehouse(
            client,
            settings.gcp_project,
            settings.bigquery_dataset_id,
            settings.bigquery_table_id,
            settings.source,
            settings.deletion_source,
        )
    finally:
        client.close()


@contextmanager
def open_sink(settings: Settings) -> Iterator[ProfileSink]:
    sink: ProfileSink
    if settings.sink == "bigtable":
        sink = BigtableSink(
            settings.gcp_project,
            settings.bigtable_instance_id,
            settings.bigtable_table_id,
            timeout_s=settings.bigtable_timeout_s,
        )
        try:
            sink.check_reachable()  # up front: an unreachable instance fails in seconds, not minutes
        except BaseException:
            sink.close()
            raise
    else:
        sink = LocalSink(settings.local_store, settings.bigtable_table_id)
    try:
        yield sink
    finally:
        sink.close()


def fill_bq(settings: Settings, summary: RunSummary, storage: Storage) -> None:
    """CREATE OR REPLACE the temporary profile table from the day's clients_last_seen."""
    with open_warehouse(settings) as warehouse:
        result = warehouse.fill_profiles(settings.day, settings.sample_rate)
    summary.count("source_rows", result.source_rows)
    summary.count("null_client_id_rows_dropped", result.null_client_id_rows)
    summary.count("duplicate_rows_dropped", result.duplicate_client_id_rows)
    summary.count("profiles", result.profiles)
    summary.details["table"] = f"{settings.engine}:{settings.bigquery_dataset_id}.{settings.bigquery_table_id}"
    log.info(
        "filled %s.%s: %d profiles from %d rows (%d without client_id, %d repeating a client dropped)",
        settings.bigquery_dataset_id,
        settings.bigquery_table_id,
        result.profiles,
        result.source_rows,
        result.null_client_id_rows,
        result.duplicate_client_id_rows,
    )


def bq_to_gcs(settings: Settings, summary: RunSummary, storage: Storage) -> None:
    """Export the temporary table as Avro files under --avro-gcs-bucket."""
    with open_warehouse(settings) as warehouse:
        urls, rows = warehouse.export_avro(storage, settings.avro_bucket_url, settings.day)
    summary.count("avro_files", len(urls))
    if rows is not None:
        summary.count("rows", rows)
    for url in urls:
        summary.add_artifact(url)


def gcs_to_bigtable(settings: Settings, summary: RunSummary, storage: Storage) -> None:
    """Load this shard's Avro files into the profile table (created if missing)."""
    all_files = avro_files.list_avro_files(storage, settings.avro_bucket_url, settings.day)
    if not all_files:
        raise FileNotFoundError(
            f"no Avro files under {avro_files.avro_prefix(settings.avro_bucket_url, settings.day)}*; "
            "run --bq-to-gcs first"
        )
    files = avro_files.shard_files(all_files, settings.shard_index, settings.shard_count)
    with open_sink(settings) as sink:
        summary.count("table_created", int(sink.ensure_table()))
        result = loader.load_profiles(
            storage, files, sink, settings.cell_timestamp, batch_size=settings.batch_size, workers=settings.workers
        )
    summary.count("avro_files_total", len(all_files))
    summary.count("avro_files_loaded", result.files)
    summary.count("rows_written", result.rows_written)
    summary.count("rows_without_client_id_skipped", result.rows_without_client_id)
    summary.details["sink"] = sink.name
    summary.details["shard"] = f"{settings.shard_index}/{settings.shard_count}"


def wipe_bigquery_tmp_table(settings: Settings, summary: RunSummary, storage: Storage) -> None:
    """Drop the temporary profile table (absent is fine)."""
    with open_warehouse(settings) as warehouse:
        summary.count("tables_dropped", int(warehouse.drop_profiles_table()))


def wipe_avro(settings: Settings, summary: RunSummary, storage: Storage) -> None:
    """Delete the day's Avro files."""
    files = avro_files.list_avro_files(storage, settings.avro_bucket_url, settings.day)
    for url in files:
        storage.delete(url)
    summary.count("avro_files_deleted", len(files))


def delete_opt_out(settings: Settings, summary: RunSummary, storage: Storage) -> None:
    """Delete the profiles of clients with a deletion request in [date - N days, date]."""
    if settings.delete_days < 0:
        raise ValueError(f"--delete-days must be >= 0, got {settings.delete_days}")
    start = settings.day - dt.timedelta(days=settings.delete_days)
    with open_warehouse(settings) as warehouse:
        hashed_ids = warehouse.deletion_keys(start, settings.day)
    with open_sink(settings) as sink:
        existed = loader.delete_profiles(sink, hashed_ids)
        summary.details["sink"] = sink.name
    summary.count("deletion_requests", len(hashed_ids))
    summary.count("rows_deleted", existed)
    summary.details["window"] = f"{start.isoformat()}..{settings.day.isoformat()}"
    log.info("deleted %d of %d requested profiles (%s..%s)", existed, len(hashed_ids), start, settings.day)
