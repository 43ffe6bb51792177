"""`taar-spark-ensemble`: the ensemble recommender's weights, trained on held-out add-ons."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from taar_common.options import check_storage_url, date_option, output_options
from taar_common.publish import OutputTarget
from taar_common.spark import spark_job_options
from taar_common.storage import join_url, resolve_bucket_url
from taar_common.summary import RunSummary
from taar_common.whitelist import default_whitelist_url

from taar_spark_ensemble import job

WHITELIST = "only_guids_top_200.json"
MODEL_DEFAULTS = {  # where the other jobs publish on their defaults: (bucket, prefix, name)
    "locale_url": ("telemetry-private-analysis-2", "taar/locale/", "top10_dict.json"),
    "donors_url": ("telemetry-parquet", "taar/similarity/", "donors.json"),
    "lr_curves_url": ("telemetry-parquet", "taar/similarity/", "lr_curves.json"),
    "item_matrix_url": ("telemetry-parquet", "addon_recommender/", "item_matrix.json"),
    "addon_mapping_url": ("telemetry-parquet", "addon_recommender/", "addon_mapping.json"),
}


def model_default(option: str) -> str:
    bucket, prefix, name = MODEL_DEFAULTS[option]
    return join_url(resolve_bucket_url(None, bucket), prefix, name)


def model_option(flag: str, what: str) -> click.Option:
    option = flag.removeprefix("--").replace("-", "_")
    bucket, prefix, name = MODEL_DEFAULTS[option]
    return click.option(
        flag,
        option,
        default=None,
        show_default=f"<data root>/{bucket}/{prefix}{name}",
        callback=check_storage_url,
        help=f"{what} (.json or .json.bz2).",
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@date_option("Last day of clients_daily to read (YYYYMMDD or YYYY-MM-DD); names the dated copies.")
@click.option("--num-days", type=click.IntRange(1), default=7, show_default=True,
              help="Days of clients_daily up to --date; each client's latest row is used.")  # fmt: skip
@spark_job_options(WHITELIST, "The editorial whitelist: only these add-ons can be held out")
@model_option("--locale-url", "The locale recommender's top10_dict")
@model_option("--donors-url", "The similarity recommender's donors")
@model_option("--lr-curves-url", "The similarity recommender's lr_curves")
@model_option("--item-matrix-url", "The collaborative recommender's item_matrix")
@model_option("--addon-mapping-url", "The collaborative recommender's addon_mapping")
@click.option("--min-addons", type=click.IntRange(2), default=3, show_default=True,
              help="Valid whitelisted add-ons a client needs (one is held out).")  # fmt: skip
@click.option("--sample-fraction", type=click.FloatRange(0.0, 1.0, min_open=True), default=1.0, show_default=True,
              help="Share of clients used (chosen by a seeded hash of the client id).")  # fmt: skip
@click.option("--test-fraction", type=click.FloatRange(0.0, 1.0, max_open=True), default=0.2, show_default=True,
              help="Share of the sampled clients kept out of training to measure hit rates.")  # fmt: skip
@click.option("--negatives", type=click.IntRange(1), default=5, show_default=True,
              help="Other listed add-ons per training client used as negative examples (seeded choice).")  # fmt: skip
@click.option("--reg-param", type=click.FloatRange(0.0), default=0.1, show_default=True,
              help="Logistic regression regularisation strength.")  # fmt: skip
@click.option("--elastic-net-param", type=click.FloatRange(0.0, 1.0), default=0.01, show_default=True,
              help="Logistic regression L1 share of the regularisation (0 = L2).")  # fmt: skip
@click.option("--max-iter", type=click.IntRange(1), default=50, show_default=True,
              help="Logistic regression iterations.")  # fmt: skip
@click.option("--partitions", type=click.IntRange(1), default=8, show_default=True,
              help="Partitions the clients are scored in (part of what makes a run reproducible).")  # fmt: skip
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=42, show_default=True,
              help="Seed of every random step (sampling, train/test split, negatives).")  # fmt: skip
@output_options("telemetry-parquet", "taar/ensemble/")
def main(
    run_date: dt.date,
    input_url: str,
    whitelist_url: str | None,
    master: str | None,
    target: OutputTarget,
    **training: Any,
) -> None:
    """Publish ensemble_weight.json ({"ensemble_weights": {"collaborative": w, "similarity": w,
    "locale": w}}, each in [0, 1], summing to 1): a logistic regression of "is this the client's
    most recently installed add-on" on the three recommenders' scores, computed from their
    published artifacts for release Firefox clients of the --num-days up to --date."""
    urls = {key.removesuffix("_url"): training.pop(key) or model_default(key) for key in MODEL_DEFAULTS}
    run = job.EnsembleRun(
        run_date=run_date,
        input_url=input_url,
        whitelist_url=whitelist_url or default_whitelist_url(WHITELIST),
        models=job.ModelUrls(**urls),
        target=target,
        **training,
    )
    summary = RunSummary("spark_ensemble")
    summary.run(lambda: job.main(run, summary, master), lease_on=target)
