"""`taar-update-whitelist`: the editorial (recommended) GUIDs as only_guids_top_200.json."""

from __future__ import annotations

import datetime as dt

import click
from taar_common.cli import (
    RunSummary,
    amo_api_options,
    compression,
    configure_logging,
    date_option,
    publish_policy,
    resolve_storage_args,
    storage_options,
)

from taar_update_whitelist.job import UpdateWhitelistOptions, run_update_whitelist

DEFAULT_BUCKET = "telemetry-parquet"
DEFAULT_PREFIX = "telemetry-ml/addon_recommender/"


@click.command()
@date_option()
@storage_options(DEFAULT_BUCKET, DEFAULT_PREFIX)
@amo_api_options
@click.option("--validate-guids", is_flag=True, help="Check every GUID against AMO search (batched guid= queries).")
@click.option("--allow-shortlist", is_flag=True, help="Publish even when fewer than 100 GUIDs remain.")
@click.option("--verbose", is_flag=True, help="Debug logging (every retry).")
def main(
    run_date: dt.date,
    bucket: str | None,
    gcs_bucket: str | None,
    s3_bucket: str | None,
    prefix: str,
    compress: str,
    amo_url: str,
    validate_guids: bool,
    allow_shortlist: bool,
    http_timeout: float,
    retries: int,
    retry_backoff: float,
    verbose: bool,
) -> None:
    """Publish the sorted, unique editorial GUIDs to PREFIX/only_guids_top_200[YYYYMMDD].json."""
    configure_logging(verbose)
    options = UpdateWhitelistOptions(
        amo_url=amo_url,
        bucket_url=resolve_storage_args(bucket, gcs_bucket, s3_bucket, DEFAULT_BUCKET),
        prefix=prefix,
        day=run_date,
        validate_guids=validate_guids,
        allow_shortlist=allow_shortlist,
        compress=compression(compress),
        http_timeout_s=http_timeout,
        retries=retries,
        retry_backoff_s=retry_backoff,
        policy=publish_policy(),
    )
    summary = RunSummary("update_whitelist")
    summary.run(lambda: run_update_whitelist(options, summary), lease_on=(options.bucket_url, options.prefix))


if __name__ == "__main__":
    main()
