"""What each stage needs, resolved by the CLI: one small settings object per stage.

Shared pieces (the temporary table, the day's Avro files, the profile store) are their
own dataclasses, so a stage's settings name only what that stage touches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Engine = Literal["duckdb", "bigquery"]
SinkKind = Literal["bigtable", "local"]


@dataclass(frozen=True)
class TempTable:
    """The temporary profile table: `project.dataset.table` on BigQuery, `schema.table` in a DuckDB file."""

    engine: Engine
    gcp_project: str
    dataset_id: str
    table_id: str
    duckdb_path: Path

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.dataset_id}.{self.table_id}"


@dataclass(frozen=True)
class AvroFiles:
    """The day's Avro intermediates under `bucket_url` (`taar-profile.<date>.avro.*`)."""

    bucket_url: str
    day: dt.date


@dataclass(frozen=True)
class ProfileStore:
    """Where profiles live: a Bigtable table (or its emulator), or the local SQLite store."""

    sink: SinkKind
    gcp_project: str
    instance_id: str
    table_id: str
    local_store: Path
    timeout_s: float


@dataclass(frozen=True)
class FillSettings:
    """`--fill-bq`: the day's sampled profiles from `source` into the temporary table."""

    day: dt.date
    table: TempTable
    source: str
    sample_rate: float


@dataclass(frozen=True)
class ExportSettings:
    """`--bq-to-gcs`: the temporary table as the day's Avro files."""

    table: TempTable
    avro: AvroFiles


@dataclass(frozen=True)
class LoadSettings:
    """`--gcs-to-bigtable`: shard `shard_index` of `shard_count` of the Avro files into the store."""

    avro: AvroFiles
    store: ProfileStore
    workers: int
    batch_size: int
    shard_index: int
    shard_count: int

    @property
    def cell_timestamp(self) -> dt.datetime:
        """Cells are stamped with the run date (midnight UTC): a re-run rewrites the same cell."""
        return dt.datetime.combine(self.avro.day, dt.time(), tzinfo=dt.UTC)


@dataclass(frozen=True)
class DeleteSettings:
    """`--delete-opt-out`: drop the profiles of deletion requests in [day - days, day]."""

    day: dt.date
    days: int
    table: TempTable  # the engine that reads `deletion_source`
    deletion_source: str
    store: ProfileStore

    @property
    def window_start(self) -> dt.date:
        return self.day - dt.timedelta(days=self.days)
