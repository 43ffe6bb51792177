"""The two engines behind the BigQuery stages: BigQuery itself, and embedded DuckDB.

Both run the same SQL texts (`sql/*.sql`, BigQuery dialect; DuckDB gets the sqlglot
transpilation) and expose the same four operations, so a stage does not know which it has.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from taar_common.storage import Storage

from taar_profile_bigtable import avro_files, queries

log = logging.getLogger(__name__)


class WarehouseError(RuntimeError):
    """A warehouse object (table, dataset, source file) is missing or a job failed; names it."""


@dataclass(frozen=True)
class FillResult:
    source_rows: int
    null_client_id_rows: int
    duplicate_client_id_rows: int
    profiles: int


class Warehouse(Protocol):
    def fill_profiles(self, day: dt.date, sample_rate: float) -> FillResult: ...
    def export_avro(self, storage: Storage, bucket_url: str, day: dt.date) -> tuple[list[str], int | None]:
        """Write the table as Avro under `bucket_url`; returns the file URLs (or URI pattern) and rows."""
        ...

    def drop_profiles_table(self) -> bool: ...
    def deletion_keys(self, start: dt.date, end: dt.date) -> list[str]: ...


def _parquet_glob(location: str, option: str) -> str:
    path = Path(location.removeprefix("file://"))
    if path.is_dir():
        return str(path / "**" / "*.parquet")
    if path.is_file() or any(ch in str(path) for ch in "*?["):
        return str(path)
    raise WarehouseError(f"{option} {location}: no such Parquet file or folder (write it, or pass {option} PATH)")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _duckdb_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBWarehouse:
    """The temporary table lives in a DuckDB file; sources are local Parquet datasets."""

    def __init__(self, duckdb_path: Path, dataset_id: str, table_id: str, source: str, deletion_source: str) -> None:
        import duckdb

        duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        self.duckdb_path = duckdb_path
        self.dataset_id = dataset_id
        self.table_id = table_id
        self.source = source
        self.deletion_source = deletion_source
        self._con = duckdb.connect(str(duckdb_path))

    @property
    def table(self) -> str:
        return f"{self.dataset_id}.{self.table_id}"

    @property
    def quoted_table(self) -> str:
        """The temporary table as DuckDB SQL (ids checked by the CLI, quoted here as well)."""
        return f"{_duckdb_identifier(self.dataset_id)}.{_duckdb_identifier(self.table_id)}"

    def _view(self, name: str, location: str, option: str) -> str:
        glob = _parquet_glob(location, option)
        self._con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS "
            f"SELECT * FROM read_parquet({_sql_string(glob)}, union_by_name = true)"
        )
        return name

    def fill_profiles(self, day: dt.date, sample_rate: float) -> FillResult:
        source = self._view("clients_last_seen", self.source, "--source")
        self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {_duckdb_identifier(self.dataset_id)}")
        stats_sql = queries.to_duckdb(queries.render("source_stats", source_table=source))
        source_rows, null_rows, duplicate_rows = self._con.execute(stats_sql, {"submission_date": day}).fetchone()
        fill_sql = queries.to_duckdb(queries.render("fill_profiles", destination_table=self.table, source_table=source))
        self._con.execute(fill_sql, {"submission_date": day, "sample_threshold": queries.sample_threshold(sample_rate)})
        (profiles,) = self._con.execute(f"SELECT COUNT(*) FROM {self.quoted_table}").fetchone()
        return FillResult(source_rows, null_rows, duplicate_rows, profiles)

    def _require_table(self) -> None:
        found = self._con.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [self.dataset_id, self.table_id],
        ).fetchone()[0]
        if not found:
            raise WarehouseError(f"table {self.table} not found in {self.duckdb_path}; run --fill-bq first")

    def export_avro(self, storage: Storage, bucket_url: str, day: dt.date) -> tuple[list[str], int | None]:
        self._require_table()
        reader = self._con.execute(f"SELECT * FROM {self.quoted_table}").to_arrow_reader(10_000)
        return avro_files.write_avro_files(storage, bucket_url, day, reader, reader.schema)

    def drop_profiles_table(self) -> bool:
        existed = self._con.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [self.dataset_id, self.table_id],
        ).fetchone()[0]
        self._con.execute(f"DROP TABLE IF EXISTS {self.quoted_table}")
        return bool(existed)

    def deletion_keys(self, start: dt.date, end: dt.date) -> list[str]:
        source = self._view("deletion_request", self.deletion_source, "--deletion-source")
        sql = queries.to_duckdb(queries.render("deletion_keys", deletion_table=source))
        return [key for (key,) in self._con.execute(sql, {"start_date": start, "end_date": end}).fetchall()]

    def close(self) -> None:
        self._con.close()


def bigquery_client(project: str) -> Any:
    """A BigQuery client; with `BIGQUERY_EMULATOR_HOST` set, anonymous and aimed at it."""
    from google.cloud import bigquery

    emulator = os.environ.get("BIGQUERY_EMULATOR_HOST")
    if emulator:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        endpoint = emulator if "://" in emulator else f"http://{emulator}"
        return bigquery.Client(
            project=project, credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=endpoint)
        )
    return bigquery.Client(project=project)


class BigQueryWarehouse:
    """Production: the temporary table is `project.dataset.table`; the export goes to GCS."""

    def __init__(
        self,
        client: Any,
        project: str,
        dataset_id: str,
        table_id: str,
        source_table: str,
        deletion_table: str,
        timeout_s: float = 1800.0,
    ) -> None:
        self.client = client
        self.project = project
        self.dataset_id = dataset_id
        self.table_id = table_id
        self.source_table = source_table
        self.deletion_table = deletion_table
        self.timeout_s = timeout_s

    @property
    def table(self) -> str:
        return f"{self.project}.{self.dataset_id}.{self.table_id}"

    def _query(self, sql: str, **params: Any) -> Any:
        from google.api_core import exceptions
        from google.cloud import bigquery

        kinds = {dt.date: "DATE", str: "STRING"}
        config = bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter(k, kinds[type(v)], v) for k, v in params.items()]
        )
        try:
            return self.client.query(sql, job_config=config).result(timeout=self.timeout_s)
        except exceptions.NotFound as exc:
            raise WarehouseError(f"BigQuery object not found: {exc.message}") from exc

    def _require_dataset(self) -> None:
        from google.api_core import exceptions

        try:
            self.client.get_dataset(f"{self.project}.{self.dataset_id}")
        except exceptions.NotFound as exc:
            raise WarehouseError(
                f"dataset {self.project}.{self.dataset_id} not found; create it or pass --bigquery-dataset-id"
            ) from exc

    def fill_profiles(self, day: dt.date, sample_rate: float) -> FillResult:
        self._require_dataset()
        (stats,) = list(
            self._query(queries.render("source_stats", source_table=self.source_table), submission_date=day)
        )
        self._query(
            queries.render("fill_profiles", destination_table=self.table, source_table=self.source_table),
            submission_date=day,
            sample_threshold=queries.sample_threshold(sample_rate),
        )
        profiles = self.client.get_table(self.table).num_rows
        return FillResult(
            stats["source_rows"], stats["null_client_id_rows"], stats["duplicate_client_id_rows"], int(profiles or 0)
        )

    def export_avro(self, storage: Storage, bucket_url: str, day: dt.date) -> tuple[list[str], int | None]:
        from google.api_core import exceptions
        from google.api_core.retry import Retry
        from google.cloud import bigquery

        if not bucket_url.startswith("gs://"):
            raise WarehouseError(f"--avro-gcs-bucket {bucket_url}: a BigQuery extract can only write to gs://")
        try:
            table = self.client.get_table(self.table)
        except exceptions.NotFound as exc:
            raise WarehouseError(f"table {self.table} not found; run --fill-bq first") from exc
        config = bigquery.ExtractJobConfig(destination_format=bigquery.DestinationFormat.AVRO, compression="DEFLATE")
        destination = avro_files.avro_wildcard(bucket_url, day)
        job = self.client.extract_table(
            table,
            destination,
            job_config=config,
            retry=Retry(deadline=min(self.timeout_s, 120.0)),
        )
        job.result(timeout=self.timeout_s)
        return [destination], table.num_rows

    def drop_profiles_table(self) -> bool:
        from google.api_core import exceptions

        try:
            self.client.get_table(self.table)
        except exceptions.NotFound:
            return False
        self.client.delete_table(self.table, not_found_ok=True)
        return True

    def deletion_keys(self, start: dt.date, end: dt.date) -> list[str]:
        rows = self._query(
            queries.render("deletion_keys", deletion_table=self.deletion_table), start_date=start, end_date=end
        )
        return [row["client_id"] for row in rows]
