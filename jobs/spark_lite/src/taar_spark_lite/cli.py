"""`taar-spark-lite`: co-installation counts and install ranking of one day of clients_daily."""

from __future__ import annotations

import datetime as dt

import click
from taar_common.options import date_option, output_options
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.summary import RunSummary
from taar_common.whitelist import default_whitelist_url

from taar_spark_lite import job

WHITELIST = "whitelist_addons_database.json"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@date_option("Day of clients_daily to read (YYYYMMDD or YYYY-MM-DD); names the dated copies.")
@spark_job_options(WHITELIST, "The AMO whitelist; its GUIDs bound the co-installations")
@click.option(
    "--sample-fraction",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=1.0,
    show_default=True,
    help="Share of clients used (chosen by a seeded hash of the client id).",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of every random step (the sampling).")
@output_options("telemetry-parquet", "taar/lite/")
def main(
    run_date: dt.date,
    input_url: str,
    whitelist_url: str | None,
    master: str | None,
    sample_fraction: float,
    seed: int,
    target: OutputTarget,
) -> None:
    """Publish guid_coinstallation.json ({guid: {other_guid: clients with both}}, over valid
    whitelisted add-ons of clients with at least two) and guid_install_ranking.json
    ({guid: clients}, every add-on id seen) for release Firefox clients of --date."""
    run = job.LiteRun(
        run_date=run_date,
        input_url=input_url,
        whitelist_url=whitelist_url or default_whitelist_url(WHITELIST),
        sample_fraction=sample_fraction,
        seed=seed,
        target=target,
    )
    summary = RunSummary("spark_lite")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
