"""`taar-amowhitelist`: whitelist, featured and featured-whitelist databases from the AMO dump."""

from __future__ import annotations

import datetime as dt

import click
from taar_common.amo import AMO_BUCKET, AMO_PREFIX
from taar_common.options import check_storage_url, date_option, output_options
from taar_common.publish import OutputTarget
from taar_common.summary import RunSummary

from taar_amowhitelist.job import AmowhitelistRun, run_amowhitelist


@click.command()
@date_option("Run date (YYYYMMDD or YYYY-MM-DD): the age rule counts back from it; names the dated copies.")
@output_options(AMO_BUCKET, AMO_PREFIX)
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
def main(
    run_date: dt.date,
    min_rating: float,
    min_age: int,
    dump_url: str | None,
    target: OutputTarget,
) -> None:
    """Publish whitelist_addons_database, featured_addons_database and featured_whitelist_addons
    (dated and latest) from the AMO dump in the same place."""
    run = AmowhitelistRun(
        target=target,
        run_date=run_date,
        min_rating=min_rating,
        min_age_days=min_age,
        dump_url=dump_url,
    )
    summary = RunSummary("amowhitelist")
    summary.run(lambda: run_amowhitelist(run, summary), lease_on=target)


if __name__ == "__main__":
    main()
