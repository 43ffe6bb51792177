"""`taar-spark-ensemble`: the ensemble recommender's weights, trained on held-out add-ons."""

from __future__ import annotations

from typing import Any

import click
from taar_common.options import (
    date_option,
    num_days_option,
    output_options,
    sample_fraction_option,
    seed_option,
    setting,
)
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.summary import RunSummary

from taar_spark_ensemble import job
from taar_spark_ensemble.model_inputs import model_url_options, model_urls


@click.command()
@date_option("Last day of clients_daily to read (YYYYMMDD or YYYY-MM-DD); names the dated copies.")
@num_days_option(7, "Days of clients_daily up to --date; each client's latest row is used.")
@spark_job_options("only_guids_top_200.json", "The editorial whitelist: only these add-ons can be held out")
@model_url_options
@setting("--min-addons", kind=click.IntRange(2), default=3,
         help_text="Valid whitelisted add-ons a client needs (one is held out).")  # fmt: skip
@sample_fraction_option()
@setting("--test-fraction", kind=click.FloatRange(0.0, 1.0, max_open=True), default=0.2,
         help_text="Share of the sampled clients kept out of training to measure hit rates.")  # fmt: skip
@setting("--negatives", kind=click.IntRange(1), default=5,
         help_text="Other listed add-ons per training client used as negative examples (seeded choice).")  # fmt: skip
@setting("--reg-param", kind=click.FloatRange(0.0), default=0.1,
         help_text="Logistic regression regularisation strength.")  # fmt: skip
@setting("--elastic-net-param", kind=click.FloatRange(0.0, 1.0), default=0.01,
         help_text="Logistic regression L1 share of the regularisation (0 = L2).")  # fmt: skip
@setting("--max-iter", kind=click.IntRange(1), default=50,
         help_text="Logistic regression iterations.")  # fmt: skip
@setting("--partitions", kind=click.IntRange(1), default=8,
         help_text="Partitions the clients are scored in (part of what makes a run reproducible).")  # fmt: skip
@seed_option("Seed of every random step (sampling, train/test split, negatives).")
@output_options("telemetry-parquet", "taar/ensemble/")
def main(master: str | None, target: OutputTarget, **settings: Any) -> None:
    """Publish ensemble_weight.json ({"ensemble_weights": {"collaborative": w, "similarity": w,
    "locale": w}}, each in [0, 1], summing to 1): a logistic regression of "is this the client's
    most recently installed add-on" on the three recommenders' scores, computed from their
    published artifacts for release Firefox clients of the --num-days up to --date."""
    run = job.EnsembleRun(models=model_urls(settings), target=target, **settings)
    summary = RunSummary("spark_ensemble")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
