"""`taar-spark-locale`: per-locale top whitelisted add-ons with Laplace noise, from clients_daily."""

from __future__ import annotations

from typing import Any

import click
from taar_common.options import date_option, output_options
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.summary import RunSummary
from taar_common.whitelist import default_whitelist_url

from taar_spark_locale import job

WHITELIST = "only_guids_top_200.json"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@date_option("Last day of the window (YYYYMMDD or YYYY-MM-DD); names the dated copy.")
@spark_job_options(WHITELIST, "The editorial whitelist")
@click.option(
    "--num-days",
    type=click.IntRange(min=1),
    default=28,
    show_default=True,
    help="Days of clients_daily up to --date; each client's latest row counts.",
)
@click.option(
    "--num-addons", type=click.IntRange(min=1), default=10, show_default=True, help="Add-ons kept per locale."
)
@click.option(
    "--epsilon",
    type=click.FloatRange(min=0.0, min_open=True),
    default=0.4,
    show_default=True,
    help="Differential-privacy budget: Laplace noise of scale m/epsilon on every count.",
)
@click.option(
    "--max-addons-per-client",
    "-m",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="m: whitelisted add-ons a client contributes at most (chosen at random, seeded).",
)
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Seed of every random step (the add-ons each client contributes, the noise).",
)
@output_options("telemetry-private-analysis-2", "taar/locale/")
def main(whitelist_url: str | None, master: str | None, target: OutputTarget, **settings: Any) -> None:
    """Publish top10_dict.json: {locale: [[guid, weight], ...]}, the --num-addons whitelisted
    add-ons with the largest noisy share of the locale's release Firefox clients."""
    whitelist = whitelist_url or default_whitelist_url(WHITELIST)
    run = job.LocaleRun(whitelist_url=whitelist, target=target, **settings)
    summary = RunSummary("spark_locale")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
