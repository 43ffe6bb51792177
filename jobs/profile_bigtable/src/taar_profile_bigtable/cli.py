"""`taar-profile-bigtable`: one scheduler stage per call (the upstream flags), or `get` to read a profile back.

Parse the options (declared and checked in `options`), build the one settings object the
chosen stage takes (`settings`), run that stage's function in `job`, print the summary.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click
from taar_common.dates import DATA_DAY_HELP, data_day
from taar_common.hashing import hash_client_id
from taar_common.options import DATE, standard_flags
from taar_common.publish import OutputTarget
from taar_common.storage import Storage, resolve_bucket_url
from taar_common.summary import RunSummary

from taar_profile_bigtable import job, options
from taar_profile_bigtable.settings import (
    AvroFiles,
    DeleteSettings,
    ExportSettings,
    FillSettings,
    LoadSettings,
    ProfileStore,
    TempTable,
)

log = logging.getLogger("taar_profile_bigtable")


@click.group(invoke_without_command=True, context_settings={"show_default": True})
@standard_flags
@click.option("--iso-date", "--date", "day", type=DATE, default=data_day, show_default=DATA_DAY_HELP,
              help="Day of clients_last_seen to load (YYYYMMDD or YYYY-MM-DD).")  # fmt: skip
@click.option("--fill-bq", is_flag=True, help="Stage: CREATE OR REPLACE the temporary profile table.")
@click.option("--bq-to-gcs", is_flag=True, help="Stage: export that table as Avro files.")
@click.option("--gcs-to-bigtable", is_flag=True, help="Stage: load the Avro files into Bigtable.")
@click.option("--wipe-bigquery-tmp-table", is_flag=True, help="Stage: drop the temporary table.")
@click.option("--wipe-avro", is_flag=True, help="Stage: delete the day's Avro files.")
@click.option("--delete-opt-out", is_flag=True, help="Stage: delete profiles of clients who asked for deletion.")
@options.warehouse_options
@options.avro_options
@options.load_options
@options.target_options
@click.pass_context
def main(ctx: click.Context, day: dt.date, engine: str, **o: Any) -> None:
    """Load TAAR client profiles: clients_last_seen -> temp table -> Avro -> Bigtable.

    Give exactly one stage flag per call (the scheduler runs them in order), or use
    `get` to read one profile back.
    """
    if ctx.invoked_subcommand is not None:
        return
    chosen = [stage for stage in job.STAGES if o.pop(stage)]
    if len(chosen) != 1:
        flags = ", ".join("--" + stage.replace("_", "-") for stage in job.STAGES)
        raise click.UsageError(f"give exactly one stage per call (got {len(chosen)}): {flags}")
    stage = chosen[0]
    options.check_bigquery_sources(engine, o["source"], o["deletion_source"])
    settings = stage_settings(stage, day, engine, o)
    summary = RunSummary(job="profile_bigtable")
    summary.details.update(stage=stage, engine=engine, date=day.isoformat())
    storage = Storage()
    # One run at a time per stage (and load shard): the lease lives beside the day's Avro files.
    part = f"{stage}-{settings.shard_index}of{settings.shard_count}" if stage == "gcs_to_bigtable" else stage
    lease = OutputTarget(resolve_bucket_url(o["avro_gcs_bucket"], options.AVRO_BUCKET), "")
    summary.run(
        lambda: getattr(job, stage)(settings, summary, storage), lease_on=lease, lease_name=f"profile_bigtable-{part}"
    )


def stage_settings(stage: str, day: dt.date, engine: str, o: dict[str, Any]) -> Any:
    """The one settings object `stage` takes, its embedded defaults filled in."""
    table = TempTable(engine, o["gcp_project"], o["bigquery_dataset_id"], o["bigquery_table_id"], o["duckdb_path"])
    avro = AvroFiles(resolve_bucket_url(o["avro_gcs_bucket"], options.AVRO_BUCKET), day)
    match stage:
        case "fill_bq":
            return FillSettings(day, table, o["source"] or options.SOURCE[engine], o["sample_rate"])
        case "bq_to_gcs":
            return ExportSettings(table, avro)
        case "gcs_to_bigtable":
            return LoadSettings(avro, profile_store(**o), o["workers"], o["batch_size"], *o["shard"])
        case "wipe_bigquery_tmp_table":
            return table
        case "wipe_avro":
            return avro
    deletion_source = o["deletion_source"] or options.DELETION_SOURCE[engine]
    return DeleteSettings(day, o["delete_days"], table, deletion_source, profile_store(**o))


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
    instance = bigtable_instance_id or options.LOCAL_INSTANCE
    return ProfileStore(sink or default, gcp_project, instance, bigtable_table_id, local_store, bigtable_timeout_s)


@main.command("get")
@standard_flags
@click.option("--client-id", help="Raw client id (hashed here; never logged).")
@click.option("--hashed-client-id", help="The row key itself (sha256 hex of the client id).")
@options.target_options
def get_profile(client_id: str | None, hashed_client_id: str | None, **target: Any) -> None:
    """Print one stored profile as decoded JSON (exit 1 when absent)."""
    if bool(client_id) == bool(hashed_client_id):
        raise click.UsageError("give one of --client-id or --hashed-client-id")
    key = hashed_client_id or hash_client_id(client_id)
    profile, where = job.stored_profile(profile_store(**target), key)
    if profile is None:
        log.error("no profile for hashed id %s in %s", key, where)
        sys.exit(1)
    click.echo(json.dumps(profile, sort_keys=True))


if __name__ == "__main__":
    main()
