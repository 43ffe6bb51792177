"""Where the ensemble reads the other recommenders' artifacts: their default locations (where
those jobs publish on their own defaults) and the CLI options that override them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from taar_common.options import check_storage_url
from taar_common.storage import join_url, resolve_bucket_url

from taar_spark_ensemble.job import ModelUrls

MODEL_LOCATIONS = {  # option: (what it is, default bucket, prefix, name)
    "locale_url": ("The locale recommender's top10_dict", "telemetry-private-analysis-2", "taar/locale/",
                   "top10_dict.json"),
    "donors_url": ("The similarity recommender's donors", "telemetry-parquet", "taar/similarity/", "donors.json"),
    "lr_curves_url": ("The similarity recommender's lr_curves", "telemetry-parquet", "taar/similarity/",
                      "lr_curves.json"),
    "item_matrix_url": ("The collaborative recommender's item_matrix", "telemetry-parquet", "addon_recommender/",
                        "item_matrix.json"),
    "addon_mapping_url": ("The collaborative recommender's addon_mapping", "telemetry-parquet",
                          "addon_recommender/", "addon_mapping.json"),
}  # fmt: skip


def model_url_options(command: Callable) -> Callable:
    """`--locale-url`, `--donors-url`, `--lr-curves-url`, `--item-matrix-url`, `--addon-mapping-url`."""
    for option, (what, bucket, prefix, name) in reversed(MODEL_LOCATIONS.items()):
        command = click.option(
            "--" + option.replace("_", "-"),
            option,
            default=None,
            show_default=f"<data root>/{bucket}/{prefix}{name}",
            callback=check_storage_url,
            help=f"{what} (.json or .json.bz2).",
        )(command)
    return command


def model_urls(settings: dict[str, Any]) -> ModelUrls:
    """The model locations popped from the CLI's `settings`, each defaulting under the data root
    (resolved when the run starts, so `TAAR_DATA` and the working directory apply then)."""
    urls = {}
    for option, (_, bucket, prefix, name) in MODEL_LOCATIONS.items():
        urls[option.removesuffix("_url")] = settings.pop(option) or join_url(
            resolve_bucket_url(None, bucket), prefix, name
        )
    return ModelUrls(**urls)
