"""`taar-profile-bigtable`: one scheduler stage per call (the upstream flags), or `get` to read a profile back.

Parse the options (declared and checked in `options`, which also builds the one settings
object the chosen stage takes), run that stage's function in `job`, print the summary.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

import click
from taar_common.dates import DATA_DAY_HELP, data_day
from taar_common.hashing import hash_client_id
from taar_common.options import DATE, standard_flags

from taar_profile_bigtable import job, options

log = logging.getLogger("taar_profile_bigtable")


@click.group(invoke_without_command=True, context_settings={"show_default": True})
@standard_flags
@click.option("--iso-date", "--date", "day", type=DATE, default=data_day, show_default=DATA_DAY_HELP,
              help="Day of clients_last_seen to load (YYYYMMDD or YYYY-MM-DD).")  # fmt: skip
@options.stage_options
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
    stage = options.chosen_stage(o)
    options.check_bigquery_sources(engine, o["source"], o["deletion_source"])
    settings = options.stage_settings(stage, day, engine, o)
    details = {"engine": engine, "date": day.isoformat()}
    job.run_stage(stage, settings, details, options.stage_lease(stage, settings, o["avro_gcs_bucket"]))


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
    profile, where = job.stored_profile(options.profile_store(**target), key)
    if profile is None:
        log.error("no profile for hashed id %s in %s", key, where)
        sys.exit(1)
    click.echo(json.dumps(profile, sort_keys=True))


if __name__ == "__main__":
    main()
