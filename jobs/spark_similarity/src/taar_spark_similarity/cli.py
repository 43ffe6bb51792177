"""`taar-spark-similarity`: donors and LR curves for the TAAR similarity recommender."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from taar_common.options import DATE, date_option, output_options, seed_option, setting
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.summary import RunSummary

from taar_spark_similarity import job

DEFAULT_DAYS = 90


@click.command()
@date_option("Last day of clients_daily to read (YYYYMMDD or YYYY-MM-DD); names the dated copies.")
@click.option("--from-date", type=DATE, default=None, show_default=f"--date minus {DEFAULT_DAYS - 1} days",
              help="First day of clients_daily to read (the range is inclusive).")  # fmt: skip
@spark_job_options("only_guids_top_200.json", "The editorial whitelist: only these add-ons count")
@setting("--num-clusters", kind=click.IntRange(2), default=20, help_text="Clusters of add-on sets (BisectingKMeans k).")
@setting(
    "--num-donors", kind=click.IntRange(2), default=1000, help_text="Donors drawn, in proportion to cluster sizes."
)
@setting("--kernel-bandwidth", kind=click.FloatRange(0.0, min_open=True), default=0.35,
         help_text="Standard deviation of the Gaussian KDE kernel, in distance units.")  # fmt: skip
@setting("--num-pdf-points", kind=click.IntRange(2), default=1000,
         help_text="Evenly spaced scores at which both densities are published.")  # fmt: skip
@setting("--cluster-sample-size", kind=click.IntRange(1), default=100_000,
         help_text="At most about this many clients (a seeded sample) are used to fit the clustering; "
         "every client is then assigned to a cluster.")  # fmt: skip
@seed_option("Seed of every random step (fit sample, clustering, donor and pair sampling).")
@output_options("telemetry-parquet", "taar/similarity/")
def main(
    run_date: dt.date, from_date: dt.date | None, master: str | None, target: OutputTarget, **settings: Any
) -> None:
    """Publish donors.json (clients typical of their add-on cluster, with the features the
    similarity recommender compares) and lr_curves.json ([[score, [same-cluster density,
    other-cluster density]], ...]) from the latest row of each release Firefox client with
    more than two valid whitelisted add-ons over --from-date..--date."""
    start = from_date or run_date - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > run_date:
        raise click.BadParameter(f"{start} is after --date {run_date}", param_hint="--from-date")
    run = job.SimilarityRun(run_date=run_date, from_date=start, target=target, **settings)
    summary = RunSummary("spark_similarity")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
