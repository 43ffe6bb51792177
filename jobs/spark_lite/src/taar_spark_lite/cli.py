"""`taar-spark-lite`: co-installation counts and install ranking of one day of clients_daily."""

from __future__ import annotations

from typing import Any

import click
from taar_common.options import date_option, output_options, sample_fraction_option, seed_option
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.summary import RunSummary

from taar_spark_lite import job


@click.command()
@date_option("Day of clients_daily to read (YYYYMMDD or YYYY-MM-DD); names the dated copies.")
@spark_job_options("whitelist_addons_database.json", "The AMO whitelist; its GUIDs bound the co-installations")
@sample_fraction_option()
@seed_option("Seed of every random step (the sampling).")
@output_options("telemetry-parquet", "taar/lite/")
def main(master: str | None, target: OutputTarget, **settings: Any) -> None:
    """Publish guid_coinstallation.json ({guid: {other_guid: clients with both}}, over valid
    whitelisted add-ons of clients with at least two) and guid_install_ranking.json
    ({guid: clients}, every add-on id seen) for release Firefox clients of --date."""
    run = job.LiteRun(target=target, **settings)
    summary = RunSummary("spark_lite")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
