"""`taar-spark-similarity`: donors and LR curves for the TAAR similarity recommender."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from taar_common.options import DATE, date_option, output_options
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.summary import RunSummary
from taar_common.whitelist import default_whitelist_url

from taar_spark_similarity import job

WHITELIST = "only_guids_top_200.json"
DEFAULT_DAYS = 90


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@date_option("Last day of clients_daily to read (YYYYMMDD or YYYY-MM-DD); names the dated copies.")
@click.option(
    "--from-date",
    type=DATE,
    default=None,
    show_default=f"--date minus {DEFAULT_DAYS - 1} days",
    help="First day of clients_daily to read (the range is inclusive).",
)
@spark_job_options(WHITELIST, "The editorial whitelist: only these add-ons count")
@click.option(
    "--num-clusters",
    type=click.IntRange(2),
    default=20,
    show_default=True,
    help="Clusters of add-on sets (BisectingKMeans k).",
)
@click.option(
    "--num-donors",
    type=click.IntRange(2),
    default=1000,
    show_default=True,
    help="Donors drawn, in proportion to cluster sizes.",
)
@click.option(
    "--kernel-bandwidth",
    type=click.FloatRange(0.0, min_open=True),
    default=0.35,
    show_default=True,
    help="Standard deviation of the Gaussian KDE kernel, in distance units.",
)
@click.option(
    "--num-pdf-points",
    type=click.IntRange(2),
    default=1000,
    show_default=True,
    help="Evenly spaced scores at which both densities are published.",
)
@click.option(
    "--cluster-sample-size",
    type=click.IntRange(1),
    default=100_000,
    show_default=True,
    help="At most about this many clients (a seeded sample) are used to fit the clustering; "
    "every client is then assigned to a cluster.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**31 - 1),
    default=42,
    show_default=True,
    help="Seed of every random step (fit sample, clustering, donor and pair sampling).",
)
@output_options("telemetry-parquet", "taar/similarity/")
def main(
    run_date: dt.date,
    from_date: dt.date | None,
    whitelist_url: str | None,
    master: str | None,
    target: OutputTarget,
    **settings: Any,
) -> None:
    """Publish donors.json (clients typical of their add-on cluster, with the features the
    similarity recommender compares) and lr_curves.json ([[score, [same-cluster density,
    other-cluster density]], ...]) from the latest row of each release Firefox client with
    more than two valid whitelisted add-ons over --from-date..--date."""
    start = from_date or run_date - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > run_date:
        raise click.BadParameter(f"{start} is after --date {run_date}", param_hint="--from-date")
    run = job.SimilarityRun(
        run_date=run_date,
        from_date=start,
        whitelist_url=whitelist_url or default_whitelist_url(WHITELIST),
        target=target,
        **settings,
    )
    summary = RunSummary("spark_similarity")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
