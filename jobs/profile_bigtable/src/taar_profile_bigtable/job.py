"""One function per scheduler stage, wiring the I/O; each records its counts on the run summary.

I/O lives in `warehouses` (the temporary table, BigQuery or DuckDB), `avro_files` (the
intermediates on any storage), `sinks` (Bigtable or the local store) and `loader` (Avro rows
into a sink, in parallel); the row -> payload mapping is the pure `transform`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from taar_common.publish import OutputTarget
from taar_common.storage import Storage
from taar_common.summary import RunSummary

from taar_profile_bigtable import avro_files, loader
from taar_profile_bigtable.settings import (
    AvroFiles,
    DeleteSettings,
    ExportSettings,
    FillSettings,
    LoadSettings,
    ProfileStore,
    TempTable,
)
from taar_profile_bigtable.sinks import BigtableSink, LocalSink, ProfileSink
from taar_profile_bigtable.transform import decode_payload
from taar_profile_bigtable.warehouses import BigQueryWarehouse, DuckDBWarehouse, Warehouse, bigquery_client

log = logging.getLogger(__name__)


@contextmanager
def open_warehouse(table: TempTable, source: str = "", deletion_source: str = "") -> Iterator[Warehouse]:
    """The engine holding `table`; `source`/`deletion_source` are read only by the stages that need them."""
    if table.engine == "duckdb":
        warehouse = DuckDBWarehouse(table.duckdb_path, table.dataset_id, table.table_id, source, deletion_source)
        try:
            yield warehouse
        finally:
            warehouse.close()
        return
    client = bigquery_client(table.gcp_project)
    try:
        yield BigQueryWarehouse(client, table.gcp_project, table.dataset_id, table.table_id, source, deletion_source)
    finally:
        client.close()


@contextmanager
def open_sink(store: ProfileStore) -> Iterator[ProfileSink]:
    """The profile store, Bigtable checked reachable up front (fails in seconds, naming the host)."""
    sink: ProfileSink
    if store.sink == "bigtable":
        sink = BigtableSink(store.gcp_project, store.instance_id, store.table_id, timeout_s=store.timeout_s)
        try:
            sink.check_reachable()
        except BaseException:
            sink.close()
            raise
    else:
        sink = LocalSink(store.local_store, store.table_id)
    try:
        yield sink
    finally:
        sink.close()


def fill_bq(settings: FillSettings, summary: RunSummary, storage: Storage) -> None:
    """CREATE OR REPLACE the temporary profile table from the day's clients_last_seen."""
    with open_warehouse(settings.table, source=settings.source) as warehouse:
        result = warehouse.fill_profiles(settings.day, settings.sample_rate)
    summary.count("source_rows", result.source_rows)
    summary.count("null_client_id_rows_dropped", result.null_client_id_rows)
    summary.count("duplicate_rows_dropped", result.duplicate_client_id_rows)
    summary.count("profiles", result.profiles)
    summary.details["table"] = settings.table.label
    log.info(
        "filled %s: %d profiles from %d rows (%d without client_id, %d repeating a client dropped)",
        settings.table.label,
        result.profiles,
        result.source_rows,
        result.null_client_id_rows,
        result.duplicate_client_id_rows,
    )


def bq_to_gcs(settings: ExportSettings, summary: RunSummary, storage: Storage) -> None:
    """Export the temporary table as the day's Avro files."""
    with open_warehouse(settings.table) as warehouse:
        urls, rows = warehouse.export_avro(storage, settings.avro.bucket_url, settings.avro.day)
    summary.count("avro_files", len(urls))
    if rows is not None:
        summary.count("rows", rows)
    for url in urls:
        summary.add_artifact(url)


def gcs_to_bigtable(settings: LoadSettings, summary: RunSummary, storage: Storage) -> None:
    """Load this shard's Avro files into the profile table (created if missing)."""
    avro = settings.avro
    all_files = avro_files.list_avro_files(storage, avro.bucket_url, avro.day)
    if not all_files:
        prefix = avro_files.avro_prefix(avro.bucket_url, avro.day)
        raise FileNotFoundError(f"no Avro files under {prefix}*; run --bq-to-gcs first")
    files = avro_files.shard_files(all_files, settings.shard_index, settings.shard_count)
    with open_sink(settings.store) as sink:
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


def wipe_bigquery_tmp_table(table: TempTable, summary: RunSummary, storage: Storage) -> None:
    """Drop the temporary profile table (absent is fine)."""
    with open_warehouse(table) as warehouse:
        summary.count("tables_dropped", int(warehouse.drop_profiles_table()))


def wipe_avro(avro: AvroFiles, summary: RunSummary, storage: Storage) -> None:
    """Delete the day's Avro files."""
    files = avro_files.list_avro_files(storage, avro.bucket_url, avro.day)
    for url in files:
        storage.delete(url)
    summary.count("avro_files_deleted", len(files))


def delete_opt_out(settings: DeleteSettings, summary: RunSummary, storage: Storage) -> None:
    """Delete the profiles of clients with a deletion request in [day - days, day]."""
    start, end = settings.window_start, settings.day
    # The sink first: an unreachable Bigtable fails in seconds, before the warehouse query runs.
    with open_sink(settings.store) as sink:
        with open_warehouse(settings.table, deletion_source=settings.deletion_source) as warehouse:
            hashed_ids = warehouse.deletion_keys(start, end)
        existed = loader.delete_profiles(sink, hashed_ids)
        summary.details["sink"] = sink.name
    summary.count("deletion_requests", len(hashed_ids))
    summary.count("rows_deleted", existed)
    summary.details["window"] = f"{start.isoformat()}..{end.isoformat()}"
    log.info("deleted %d of %d requested profiles (%s..%s)", existed, len(hashed_ids), start, end)


def stored_profile(store: ProfileStore, hashed_id: str) -> tuple[dict[str, Any] | None, str]:
    """(the decoded profile of row `hashed_id` or None, the store's name): what `get` prints."""
    with open_sink(store) as sink:
        data = sink.read_payload(hashed_id.encode("ascii"))
        return (None if data is None else decode_payload(data)), sink.name


STAGE_FUNCTIONS = {
    stage.__name__: stage
    for stage in (fill_bq, bq_to_gcs, gcs_to_bigtable, wipe_bigquery_tmp_table, wipe_avro, delete_opt_out)
}
"""The scheduler's order; each is a `--stage-name` flag."""
STAGES = tuple(STAGE_FUNCTIONS)


def run_stage(stage: str, settings: Any, details: dict[str, str], lease: tuple[OutputTarget, str]) -> None:
    """Run one stage under the run harness (summary, exit code, signals), holding its lease."""
    summary = RunSummary(job="profile_bigtable")
    summary.details.update(stage=stage, **details)
    lease_on, lease_name = lease
    summary.run(lambda: STAGE_FUNCTIONS[stage](settings, summary, Storage()), lease_on=lease_on, lease_name=lease_name)
