"""`taar-profile-bigtable`: one scheduler stage per call, or `get` to read a profile back."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from taar_common.cli import DATE, RunSummary, configure_logging
from taar_common.hashing import hash_client_id
from taar_common.storage import LOCAL_DATA_ROOT, Storage, resolve_bucket_url

from taar_profile_bigtable import identifiers, stages
from taar_profile_bigtable.transform import decode_payload

log = logging.getLogger("taar_profile_bigtable")

BIGQUERY_SOURCE = "moz-fx-data-shared-prod.telemetry.clients_last_seen"
BIGQUERY_DELETION_SOURCE = "moz-fx-data-shared-prod.telemetry.deletion_request"
LOCAL_SOURCE = f"./{LOCAL_DATA_ROOT}/telemetry/clients_last_seen"
LOCAL_DELETION_SOURCE = f"./{LOCAL_DATA_ROOT}/telemetry/deletion_request"
AVRO_BUCKET = "taar-profile-avro"
LOCAL_STORE = f"./{LOCAL_DATA_ROOT}/bigtable/profiles.sqlite3"


def _shard(value: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected i/N, e.g. 0/4") from None
    if not 0 <= index < count:
        raise click.BadParameter(f"{value!r}: need 0 <= i < N")
    return index, count


def _checked(check: Callable[[str], str]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback applying one naming rule of `identifiers` (None passes: the default applies)."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return None
        try:
            return check(value)
        except identifiers.InvalidIdentifier as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Where the profiles live: shared by the stages and `get`."""
    options = [
        click.option(
            "--gcp-project",
            default=stages.LOCAL_PROJECT,
            show_default=True,
            callback=_checked(identifiers.gcp_project_id),
            help="GCP project of BigQuery and Bigtable.",
        ),
        click.option(
            "--bigtable-instance-id",
            callback=_checked(identifiers.bigtable_instance_id),
            help=f"Bigtable instance (default {stages.LOCAL_INSTANCE} on the emulator).",
        ),
        click.option(
            "--bigtable-table-id",
            default="taar_profile",
            show_default=True,
            callback=_checked(identifiers.bigtable_table_id),
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
            default=LOCAL_STORE,
            show_default=True,
            type=click.Path(path_type=Path),
            help="SQLite file of the local sink.",
        ),
        click.option(
            "--bigtable-timeout",
            "bigtable_timeout_s",
            type=click.FloatRange(min=0.1),
            default=30.0,
            show_default=True,
            help="Seconds each Bigtable call may take, retries included: the up-front reachability check, "
            "the table check and creation, and one mutate_rows (after which its failed rows are retried).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(invoke_without_command=True)
@click.option(
    "--iso-date",
    "--date",
    "day",
    type=DATE,
    default=lambda: dt.date.today(),
    show_default="today",
    help="Day of clients_last_seen to load (YYYYMMDD or YYYY-MM-DD).",
)
@click.option("--fill-bq", "fill_bq", is_flag=True, help="Stage: CREATE OR REPLACE the temporary profile table.")
@click.option("--bq-to-gcs", "bq_to_gcs", is_flag=True, help="Stage: export that table as Avro files.")
@click.option("--gcs-to-bigtable", "gcs_to_bigtable", is_flag=True, help="Stage: load the Avro files into Bigtable.")
@click.option(
    "--wipe-bigquery-tmp-table", "wipe_bigquery_tmp_table", is_flag=True, help="Stage: drop the temporary table."
)
@click.option("--wipe-avro", "wipe_avro", is_flag=True, help="Stage: delete the day's Avro files.")
@click.option(
    "--delete-opt-out", "delete_opt_out", is_flag=True, help="Stage: delete profiles of clients who asked for deletion."
)
@click.option(
    "--delete-days",
    type=int,
    default=28,
    show_default=True,
    help="--delete-opt-out looks at deletion requests of [date - N days, date].",
)
@click.option(
    "--bigquery-dataset-id",
    default="taar_tmp",
    show_default=True,
    callback=_checked(identifiers.bigquery_dataset_id),
    help="Dataset (DuckDB: schema) of the temporary table.",
)
@click.option(
    "--bigquery-table-id",
    default="taar_tmp_profile",
    show_default=True,
    callback=_checked(identifiers.bigquery_table_id),
    help="The temporary table.",
)
@click.option(
    "--avro-gcs-bucket",
    help=f"Where the Avro files go: URL, path or bare GCS bucket name. Default ./{LOCAL_DATA_ROOT}/{AVRO_BUCKET}.",
)
@click.option(
    "--sample-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0001,
    show_default=True,
    help="Share of clients kept (deterministic on the hashed id).",
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "bigquery"]),
    default="duckdb",
    show_default=True,
    help="Who runs the SQL: embedded DuckDB or BigQuery.",
)
@click.option(
    "--source",
    help=f"clients_last_seen: a Parquet file/folder for duckdb (default {LOCAL_SOURCE}), "
    f"a table for bigquery (default {BIGQUERY_SOURCE}).",
)
@click.option(
    "--deletion-source",
    help=f"deletion_request: Parquet for duckdb (default {LOCAL_DELETION_SOURCE}), "
    f"a table for bigquery (default {BIGQUERY_DELETION_SOURCE}).",
)
@click.option(
    "--duckdb-path",
    type=click.Path(path_type=Path),
    default=f"./{LOCAL_DATA_ROOT}/bigquery.duckdb",
    show_default=True,
    help="DuckDB file holding the temporary table.",
)
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True, help="Parallel Bigtable writers.")
@click.option(
    "--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True, help="Rows per mutate_rows call."
)
@click.option(
    "--shard",
    default="0/1",
    show_default=True,
    help="i/N: load only every N-th Avro file starting at i (one pod each).",
)
@target_options
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
def main(ctx: click.Context, **options: Any) -> None:
    """Load TAAR client profiles: clients_last_seen -> temp table -> Avro -> Bigtable.

    Give exactly one stage flag per call (the scheduler runs them in order), or use
    `get` to read one profile back.
    """
    if ctx.invoked_subcommand is not None:
        return
    configure_logging(options.pop("verbose"))
    chosen = [name for name in stages.STAGES if options.pop(name)]
    if len(chosen) != 1:
        flags = ", ".join("--" + name.replace("_", "-") for name in stages.STAGES)
        raise click.UsageError(f"give exactly one stage per call (got {len(chosen)}): {flags}")
    stage = chosen[0]
    settings = settings_from_options(**options)
    summary = RunSummary(job="profile_bigtable")
    summary.details.update(stage=stage, engine=settings.engine, date=settings.day.isoformat())
    storage = Storage()
    run_stage = getattr(stages, stage)
    summary.run(lambda: run_stage(settings, summary, storage))


def settings_from_options(**o: Any) -> stages.Settings:
    """Fill in the embedded defaults that depend on other options."""
    engine = o["engine"]
    index, count = _shard(o["shard"])
    if engine == "bigquery":  # the tables reach the SQL text: checked like the other ids
        for option in ("source", "deletion_source"):
            try:
                if o[option]:
                    identifiers.bigquery_table_reference(o[option])
            except identifiers.InvalidIdentifier as exc:
                raise click.BadParameter(str(exc), param_hint="--" + option.replace("_", "-")) from None
    return stages.Settings(
        day=o["day"],
        gcp_project=o["gcp_project"],
        bigquery_dataset_id=o["bigquery_dataset_id"],
        bigquery_table_id=o["bigquery_table_id"],
        avro_bucket_url=resolve_bucket_url(o["avro_gcs_bucket"], AVRO_BUCKET),
        bigtable_instance_id=o["bigtable_instance_id"] or stages.LOCAL_INSTANCE,
        bigtable_table_id=o["bigtable_table_id"],
        sample_rate=o["sample_rate"],
        engine=engine,
        source=o["source"] or (BIGQUERY_SOURCE if engine == "bigquery" else LOCAL_SOURCE),
        deletion_source=o["deletion_source"]
        or (BIGQUERY_DELETION_SOURCE if engine == "bigquery" else LOCAL_DELETION_SOURCE),
        duckdb_path=o["duckdb_path"],
        sink=o["sink"] or stages.default_sink(o["bigtable_instance_id"]),
        local_store=o["local_store"],
        workers=o["workers"],
        batch_size=o["batch_size"],
        shard_index=index,
        shard_count=count,
        delete_days=o["delete_days"],
        bigtable_timeout_s=o["bigtable_timeout_s"],
    )


@main.command("get")
@click.option("--client-id", help="Raw client id (hashed here; never logged).")
@click.option("--hashed-client-id", help="The row key itself (sha256 hex of the client id).")
@target_options
def get_profile(client_id: str | None, hashed_client_id: str | None, **options: Any) -> None:
    """Print one stored profile as decoded JSON (exit 1 when absent)."""
    configure_logging()
    if bool(client_id) == bool(hashed_client_id):
        raise click.UsageError("give one of --client-id or --hashed-client-id")
    key = hashed_client_id or hash_client_id(client_id)
    settings = settings_from_options(
        day=dt.date.today(),
        bigquery_dataset_id="",
        bigquery_table_id="",
        avro_gcs_bucket=None,
        sample_rate=0.0,
        engine="duckdb",
        source="",
        deletion_source="",
        duckdb_path=Path(),
        workers=1,
        batch_size=1,
        shard="0/1",
        delete_days=0,
        **options,
    )
    with stages.open_sink(settings) as sink:
        data = sink.read_payload(key.encode("ascii"))
        where = sink.name
    if data is None:
        log.error("no profile for hashed id %s in %s", key, where)
        sys.exit(1)
    click.echo(json.dumps(decode_payload(data), sort_keys=True))


if __name__ == "__main__":
    main()
