"""`taar-spark-collaborative`: the collaborative recommender's item matrix (implicit ALS) and add-on mapping."""

from __future__ import annotations

import dataclasses
from typing import Any

import click
from taar_common.options import date_option, num_days_option, output_options, seed_option, setting
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.summary import RunSummary

from taar_spark_collaborative import job, transform


@click.command()
@date_option("Last day of the window (YYYYMMDD or YYYY-MM-DD); names the dated copies.")
@spark_job_options("only_guids_top_200.json", "The editorial whitelist: only these add-ons are items")
@num_days_option(28, "Days of clients_daily up to --date; each client's latest row gives its add-ons.")
@setting("--rank", kind=click.IntRange(min=1), default=25, help_text="ALS latent factors per item.")
@setting("--reg-param", kind=click.FloatRange(min=0.0), default=0.1, help_text="ALS regularisation (lambda).")
@setting("--alpha", kind=click.FloatRange(min=0.0), default=10.0,
         help_text="Implicit-feedback confidence: an installed add-on weighs 1 + alpha.")  # fmt: skip
@setting("--max-iter", kind=click.IntRange(min=1), default=20, help_text="ALS iterations.")
@seed_option("Seed of ALS's initial factors (the only random step): same seed and input, same bytes.")
@output_options("telemetry-parquet", "addon_recommender/")
def main(master: str | None, target: OutputTarget, **settings: Any) -> None:
    """Publish item_matrix.json ([{"id": item id, "features": [...]}, ...], implicit-feedback ALS
    item factors) and addon_mapping.json ({"<item id>": {"id": guid, "name": ..., "isWebextension":
    true}}) from the valid whitelisted add-ons of each release Firefox client's latest row over
    --num-days days up to --date."""
    als = transform.AlsParams(
        **{field.name: settings.pop(field.name) for field in dataclasses.fields(transform.AlsParams)}
    )
    run = job.CollaborativeRun(als=als, target=target, **settings)
    summary = RunSummary("spark_collaborative")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
