"""`taar-spark-locale`: per-locale top whitelisted add-ons with Laplace noise, from clients_daily."""

from __future__ import annotations

from typing import Any

import click
from taar_common.options import date_option, num_days_option, output_options, seed_option, setting
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.summary import RunSummary

from taar_spark_locale import job


@click.command()
@date_option("Last day of the window (YYYYMMDD or YYYY-MM-DD); names the dated copy.")
@spark_job_options("only_guids_top_200.json", "The editorial whitelist")
@num_days_option(28, "Days of clients_daily up to --date; each client's latest row counts.")
@setting("--num-addons", kind=click.IntRange(min=1), default=10, help_text="Add-ons kept per locale.")
@setting("--epsilon", kind=click.FloatRange(min=0.0, min_open=True), default=0.4,
         help_text="Differential-privacy budget: Laplace noise of scale m/epsilon on every count.")  # fmt: skip
@setting("--max-addons-per-client", "-m", kind=click.IntRange(min=1), default=1,
         help_text="m: whitelisted add-ons a client contributes at most (chosen at random, seeded).")  # fmt: skip
@seed_option("Seed of every random step (the add-ons each client contributes, the noise).")
@output_options("telemetry-private-analysis-2", "taar/locale/")
def main(master: str | None, target: OutputTarget, **settings: Any) -> None:
    """Publish top10_dict.json: {locale: [[guid, weight], ...]}, the --num-addons whitelisted
    add-ons with the largest noisy share of the locale's release Firefox clients."""
    run = job.LocaleRun(target=target, **settings)
    summary = RunSummary("spark_locale")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
