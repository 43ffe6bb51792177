"""`taar-spark-collaborative`: the collaborative recommender's item matrix (implicit ALS) and add-on mapping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from taar_common.options import date_option, output_options
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.summary import RunSummary
from taar_common.whitelist import default_whitelist_url

from taar_spark_collaborative import job, transform

WHITELIST = "only_guids_top_200.json"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@date_option("Last day of the window (YYYYMMDD or YYYY-MM-DD); names the dated copies.")
@spark_job_options(WHITELIST, "The editorial whitelist: only these add-ons are items")
@click.option(
    "--num-days",
    type=click.IntRange(min=1),
    default=28,
    show_default=True,
    help="Days of clients_daily up to --date; each client's latest row gives its add-ons.",
)
@click.option("--rank", type=click.IntRange(min=1), default=25, show_default=True, help="ALS latent factors per item.")
@click.option(
    "--reg-param",
    type=click.FloatRange(min=0.0),
    default=0.1,
    show_default=True,
    help="ALS regularisation (lambda).",
)
@click.option(
    "--alpha",
    type=click.FloatRange(min=0.0),
    default=10.0,
    show_default=True,
    help="Implicit-feedback confidence: an installed add-on weighs 1 + alpha.",
)
@click.option("--max-iter", type=click.IntRange(min=1), default=20, show_default=True, help="ALS iterations.")
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=42,
    show_default=True,
    help="Seed of ALS's initial factors (the only random step): same seed and input, same bytes.",
)
@output_options("telemetry-parquet", "addon_recommender/")
def main(
    run_date: dt.date,
    input_url: str,
    whitelist_url: str | None,
    num_days: int,
    master: str | None,
    target: OutputTarget,
    **als: Any,
) -> None:
    """Publish item_matrix.json ([{"id": item id, "features": [...]}, ...], implicit-feedback ALS
    item factors) and addon_mapping.json ({"<item id>": {"id": guid, "name": ..., "isWebextension":
    true}}) from the valid whitelisted add-ons of each release Firefox client's latest row over
    --num-days days up to --date."""
    run = job.CollaborativeRun(
        run_date=run_date,
        input_url=input_url,
        whitelist_url=whitelist_url or default_whitelist_url(WHITELIST),
        num_days=num_days,
        als=transform.AlsParams(**als),
        target=target,
    )
    summary = RunSummary("spark_collaborative")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
