"""The upstream job's options, grouped by the settings piece they fill, with their parse-time
checks, and `stage_settings`, which turns them into the one settings object a stage takes.

Every id that reaches a query text or an API path is checked against its service's naming
rule (`identifiers`) when the options are parsed: a bad one exits 2 with nothing touched.
Local defaults live under the data root (`taar_common.storage.local_data_root`), wherever
the job is started.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from taar_common.options import check_bucket_option
from taar_common.publish import OutputTarget
from taar_common.storage import local_data_root, resolve_bucket_url

from taar_profile_bigtable import identifiers
from taar_profile_bigtable.settings import (
    AvroFiles,
    DeleteSettings,
    ExportSettings,
    FillSettings,
    LoadSettings,
    ProfileStore,
    TempTable,
)

STAGE_HELP = {  # the scheduler's order (`job.STAGES`): one flag each
    "fill_bq": "CREATE OR REPLACE the temporary profile table.",
    "bq_to_gcs": "export that table as Avro files.",
    "gcs_to_bigtable": "load the Avro files into Bigtable.",
    "wipe_bigquery_tmp_table": "drop the temporary table.",
    "wipe_avro": "delete the day's Avro files.",
    "delete_opt_out": "delete profiles of clients who asked for deletion.",
}
SOURCE = {"duckdb": "telemetry/clients_last_seen", "bigquery": "moz-fx-data-shared-prod.telemetry.clients_last_seen"}
DELETION_SOURCE = {
    "duckdb": "telemetry/deletion_request",
    "bigquery": "moz-fx-data-shared-prod.telemetry.deletion_request",
}
"""Per engine: a path under the data root (duckdb) or a table (bigquery)."""
AVRO_BUCKET = "taar-profile-avro"
LOCAL_PROJECT = LOCAL_INSTANCE = "taar-local"

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def checked(rule: Callable[[str], str]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback applying one naming rule of `identifiers` (None passes: the default applies)."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        try:
            return None if value is None else rule(value)
        except identifiers.InvalidIdentifier as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


def check_bigquery_sources(engine: str, source: str | None, deletion_source: str | None) -> None:
    """With `--engine bigquery` the sources are tables that reach the SQL text: checked like the ids.

    Called once every option is parsed (a click callback could run before `--engine` is known).
    """
    if engine != "bigquery":
        return
    for option, value in (("--source", source), ("--deletion-source", deletion_source)):
        try:
            value and identifiers.bigquery_table_reference(value)
        except identifiers.InvalidIdentifier as exc:
            raise click.BadParameter(str(exc), param_hint=option) from None


def _shard(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected i/N, e.g. 0/4") from None
    if not 0 <= index < count:
        raise click.BadParameter(f"{value!r}: need 0 <= i < N")
    return index, count


def _stacked(*options: Decorator) -> Decorator:
    """Apply `options` so they list in the given order in `--help`."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


stage_options = _stacked(
    *(
        click.option("--" + stage.replace("_", "-"), is_flag=True, help=f"Stage: {text}")
        for stage, text in STAGE_HELP.items()
    )
)
"""One flag per stage; the command receives each as a bool named after the stage."""

warehouse_options = _stacked(
    click.option(
        "--engine",
        type=click.Choice(["duckdb", "bigquery"]),
        default="duckdb",
        help="Who runs the SQL: embedded DuckDB or BigQuery.",
    ),
    click.option(
        "--bigquery-dataset-id",
        default="taar_tmp",
        callback=checked(identifiers.bigquery_dataset_id),
        help="Dataset (DuckDB: schema) of the temporary table.",
    ),
    click.option(
        "--bigquery-table-id",
        default="taar_tmp_profile",
        callback=checked(identifiers.bigquery_table_id),
        help="The temporary table.",
    ),
    click.option(
        "--duckdb-path",
        type=click.Path(path_type=Path),
        default=lambda: local_data_root() / "bigquery.duckdb",
        show_default="<data root>/bigquery.duckdb",
        help="DuckDB file holding the temporary table.",
    ),
    click.option(
        "--source",
        help=f"clients_last_seen: a Parquet file/folder for duckdb (default <data root>/{SOURCE['duckdb']}), "
        f"a table for bigquery (default {SOURCE['bigquery']}).",
    ),
    click.option(
        "--sample-rate",
        type=click.FloatRange(0.0, 1.0),
        default=0.0001,
        help="Share of clients kept (deterministic on the hashed id).",
    ),
    click.option(
        "--deletion-source",
        help=f"deletion_request: Parquet for duckdb (default <data root>/{DELETION_SOURCE['duckdb']}), "
        f"a table for bigquery (default {DELETION_SOURCE['bigquery']}).",
    ),
    click.option(
        "--delete-days",
        type=click.IntRange(min=0),
        default=28,
        help="--delete-opt-out looks at deletion requests of [date - N days, date].",
    ),
)
"""The temporary table, its engine and the tables it reads."""

avro_options = _stacked(
    click.option(
        "--avro-gcs-bucket",
        callback=check_bucket_option,
        help=f"Where the Avro files go: URL, path or bare GCS bucket name. Default <data root>/{AVRO_BUCKET}.",
    ),
)

load_options = _stacked(
    click.option("--workers", type=click.IntRange(1, 64), default=4, help="Parallel Bigtable writers."),
    click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, help="Rows per mutate_rows call."),
    click.option(
        "--shard",
        default="0/1",
        callback=_shard,
        help="i/N: load only every N-th Avro file starting at i (one pod each).",
    ),
)
"""How `--gcs-to-bigtable` spreads its work."""

target_options = _stacked(
    click.option(
        "--gcp-project",
        default=LOCAL_PROJECT,
        callback=checked(identifiers.gcp_project_id),
        help="GCP project of BigQuery and Bigtable.",
    ),
    click.option(
        "--bigtable-instance-id",
        callback=checked(identifiers.bigtable_instance_id),
        help=f"Bigtable instance (default {LOCAL_INSTANCE} on the emulator).",
    ),
    click.option(
        "--bigtable-table-id",
        default="taar_profile",
        callback=checked(identifiers.bigtable_table_id),
        help="Bigtable table of the profiles.",
    ),
    click.option(
        "--sink",
        type=click.Choice(["bigtable", "local"]),
        help="bigtable (Cloud Bigtable, or the emulator when BIGTABLE_EMULATOR_HOST is set) or local "
        "(SQLite store). Default: bigtable when --bigtable-instance-id or BIGTABLE_EMULATOR_HOST "
        "is set, else local.",
    ),
    click.option(
        "--local-store",
        default=lambda: local_data_root() / "bigtable" / "profiles.sqlite3",
        show_default="<data root>/bigtable/profiles.sqlite3",
        type=click.Path(path_type=Path),
        help="SQLite file of the local sink.",
    ),
    click.option(
        "--bigtable-timeout",
        "bigtable_timeout_s",
        type=click.FloatRange(min=0.1),
        default=30.0,
        help="Seconds each Bigtable call may take, retries included: the up-front reachability check, "
        "the table check and creation, and one mutate_rows (after which its failed rows are retried).",
    ),
)
"""Where the profiles live: shared by the stages and `get`."""


def chosen_stage(o: dict[str, Any]) -> str:
    """The one stage flag given, popping every stage flag from `o`; a usage error unless exactly one."""
    chosen = [stage for stage in STAGE_HELP if o.pop(stage)]
    if len(chosen) != 1:
        flags = ", ".join("--" + stage.replace("_", "-") for stage in STAGE_HELP)
        raise click.UsageError(f"give exactly one stage per call (got {len(chosen)}): {flags}")
    return chosen[0]


def stage_settings(stage: str, day: dt.date, engine: str, o: dict[str, Any]) -> Any:
    """The one settings object `stage` takes, its embedded defaults filled in."""
    table = TempTable(engine, o["gcp_project"], o["bigquery_dataset_id"], o["bigquery_table_id"], o["duckdb_path"])
    avro = AvroFiles(resolve_bucket_url(o["avro_gcs_bucket"], AVRO_BUCKET), day)
    match stage:
        case "fill_bq":
            return FillSettings(day, table, o["source"] or default_source(SOURCE, engine), o["sample_rate"])
        case "bq_to_gcs":
            return ExportSettings(table, avro)
        case "gcs_to_bigtable":
            return LoadSettings(avro, profile_store(**o), o["workers"], o["batch_size"], *o["shard"])
        case "wipe_bigquery_tmp_table":
            return table
        case "wipe_avro":
            return avro
    deletion_source = o["deletion_source"] or default_source(DELETION_SOURCE, engine)
    return DeleteSettings(day, o["delete_days"], table, deletion_source, profile_store(**o))


def default_source(sources: dict[str, str], engine: str) -> str:
    """The engine's default table, or for duckdb the Parquet folder under the data root."""
    return str(local_data_root() / sources[engine]) if engine == "duckdb" else sources[engine]


def stage_lease(stage: str, settings: Any, avro_gcs_bucket: str | None) -> tuple[OutputTarget, str]:
    """(where, name) of the lease of one stage, or one load shard: one run at a time of each,
    the lease beside the day's Avro files."""
    part = f"{stage}-{settings.shard_index}of{settings.shard_count}" if stage == "gcs_to_bigtable" else stage
    return OutputTarget(resolve_bucket_url(avro_gcs_bucket, AVRO_BUCKET), ""), f"profile_bigtable-{part}"


def profile_store(
    gcp_project: str,
    bigtable_instance_id: str | None,
    bigtable_table_id: str,
    sink: str | None,
    local_store: Path,
    bigtable_timeout_s: float,
    **_: Any,
) -> ProfileStore:
    """Bigtable when asked, or when an instance or the emulator is named; else the local store."""
    default = "bigtable" if bigtable_instance_id or os.environ.get("BIGTABLE_EMULATOR_HOST") else "local"
    instance = bigtable_instance_id or LOCAL_INSTANCE
    return ProfileStore(sink or default, gcp_project, instance, bigtable_table_id, local_store, bigtable_timeout_s)
