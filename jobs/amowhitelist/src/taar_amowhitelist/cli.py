"""`taar-amowhitelist`: whitelist, featured and featured-whitelist databases from the AMO dump."""

from __future__ import annotations

import datetime as dt

import click
from taar_common.cli import (
    RunSummary,
    check_storage_url,
    compression,
    configure_logging,
    date_option,
    publish_policy,
    resolve_storage_args,
    storage_options,
)

from taar_amowhitelist.job import AmowhitelistOptions, run_amowhitelist

DEFAULT_BUCKET = "telemetry-parquet"
DEFAULT_PREFIX = "telemetry-ml/addon_recommender/"


@click.command()
@date_option("Run date (YYYYMMDD or YYYY-MM-DD): the age rule counts back from it; names the dated copies.")
@storage_options(DEFAULT_BUCKET, DEFAULT_PREFIX)
@click.option("--min-rating", type=float, default=3.0, show_default=True, help="Lowest ratings.average kept.")
@click.option(
    "--min-age",
    type=click.IntRange(0),
    default=60,
    show_default=True,
    help="Days first_create_date must precede --date by (calendar dates, UTC).",
)
@click.option(
    "--dump-url",
    callback=check_storage_url,
    help="Read this dump instead of PREFIX/extended_addons_database<DATE>.json (else the latest copy).",
)
@click.option("--verbose", is_flag=True, help="Debug logging.")
def main(
    run_date: dt.date,
    bucket: str | None,
    gcs_bucket: str | None,
    s3_bucket: str | None,
    prefix: str,
    compress: str,
    min_rating: float,
    min_age: int,
    dump_url: str | None,
    verbose: bool,
) -> None:
    """Publish whitelist_addons_database, featured_addons_database and featured_whitelist_addons
    (dated and latest) from the AMO dump in the same place."""
    configure_logging(verbose)
    options = AmowhitelistOptions(
        bucket_url=resolve_storage_args(bucket, gcs_bucket, s3_bucket, DEFAULT_BUCKET),
        prefix=prefix,
        day=run_date,
        min_rating=min_rating,
        min_age_days=min_age,
        compress=compression(compress),
        policy=publish_policy(),
        dump_url=dump_url,
    )
    summary = RunSummary("amowhitelist")
    summary.run(lambda: run_amowhitelist(options, summary), lease_on=(options.bucket_url, options.prefix))


if __name__ == "__main__":
    main()
