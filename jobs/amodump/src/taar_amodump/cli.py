"""`taar-amodump`: list every AMO add-on, add its first_create_date, publish the dump."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import click
from taar_common.cli import (
    RunSummary,
    amo_api_options,
    check_storage_url,
    compression,
    configure_logging,
    date_option,
    publish_policy,
    resolve_storage_args,
    storage_options,
)

from taar_amodump.job import DEFAULT_REFRESH_FRACTION, RESULT_WINDOW, AmodumpOptions, run_amodump

DEFAULT_BUCKET = "telemetry-parquet"
DEFAULT_PREFIX = "telemetry-ml/addon_recommender/"


def _fraction(ctx: click.Context, param: click.Parameter, value: str) -> Fraction:
    try:
        fraction = Fraction(value)
    except (ValueError, ZeroDivisionError) as exc:
        raise click.BadParameter(f"{value!r} is not a number or a fraction like 1/7") from exc
    if not 0 <= fraction <= 1:
        raise click.BadParameter(f"{value} is not between 0 and 1")
    return fraction


@click.command()
@date_option()
@storage_options(DEFAULT_BUCKET, DEFAULT_PREFIX)
@amo_api_options
@click.option("--workers", type=click.IntRange(1, 256), default=32, show_default=True, help="Concurrent HTTP requests.")
@click.option(
    "--max-missing",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Add-ons allowed to fail after retries (listed in the summary); more fails the run.",
)
@click.option(
    "--result-window",
    type=click.IntRange(50),
    default=RESULT_WINDOW,
    show_default=True,
    help="Most results AMO returns per query; larger listings are split by created/users ranges.",
)
@click.option(
    "--previous",
    "previous_url",
    default=None,
    callback=check_storage_url,
    help="Dump whose first_create_dates are reused (default: the current latest copy at the output "
    "location, when it exists and is readable).",
)
@click.option(
    "--refresh-fraction",
    default=str(DEFAULT_REFRESH_FRACTION),
    show_default=True,
    callback=_fraction,
    help="Share of known add-ons whose versions are re-read each day (by GUID and date; 1/7 re-reads each "
    "one weekly). New add-ons are always read.",
)
@click.option("--full", is_flag=True, help="Read every add-on's versions; ignore any previous dump.")
@click.option("--progress-interval", type=float, default=5.0, show_default=True, help="Seconds between progress lines.")
@click.option("--verbose", is_flag=True, help="Debug logging (every retry).")
def main(
    run_date: dt.date,
    bucket: str | None,
    gcs_bucket: str | None,
    s3_bucket: str | None,
    prefix: str,
    compress: str,
    amo_url: str,
    workers: int,
    max_missing: int,
    result_window: int,
    previous_url: str | None,
    refresh_fraction: Fraction,
    full: bool,
    http_timeout: float,
    retries: int,
    retry_backoff: float,
    progress_interval: float,
    verbose: bool,
) -> None:
    """Dump every AMO extension (beyond the 25,000 search window) with its first_create_date
    to PREFIX/extended_addons_database[YYYYMMDD].json, re-reading versions only for new add-ons
    and a daily share of known ones unless --full."""
    configure_logging(verbose)
    options = AmodumpOptions(
        amo_url=amo_url,
        bucket_url=resolve_storage_args(bucket, gcs_bucket, s3_bucket, DEFAULT_BUCKET),
        prefix=prefix,
        day=run_date,
        workers=workers,
        max_missing=max_missing,
        compress=compression(compress),
        result_window=result_window,
        http_timeout_s=http_timeout,
        retries=retries,
        retry_backoff_s=retry_backoff,
        progress_interval_s=progress_interval,
        previous_url=previous_url,
        full=full,
        refresh_fraction=refresh_fraction,
        policy=publish_policy(),
    )
    summary = RunSummary("amodump")
    summary.run(lambda: run_amodump(options, summary), lease_on=(options.bucket_url, options.prefix))


if __name__ == "__main__":
    main()
