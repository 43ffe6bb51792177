"""`taar-amowhitelist`: whitelist, featured and featured-whitelist databases from the AMO dump."""

from __future__ import annotations

from typing import Any

import click
from taar_common.amo import AMO_BUCKET, AMO_PREFIX
from taar_common.options import check_storage_url, date_option, output_options, setting
from taar_common.publish import OutputTarget
from taar_common.summary import RunSummary

from taar_amowhitelist.job import AmowhitelistRun, run_amowhitelist


@click.command()
@date_option("Run date (YYYYMMDD or YYYY-MM-DD): the age rule counts back from it; names the dated copies.")
@output_options(AMO_BUCKET, AMO_PREFIX)
@setting("--min-rating", kind=float, default=3.0, help_text="Lowest ratings.average kept.")
@setting("--min-age", "min_age_days", kind=click.IntRange(0), default=60,
         help_text="Days first_create_date must precede --date by (calendar dates, UTC).")  # fmt: skip
@click.option("--dump-url", callback=check_storage_url,
              help="Read this dump instead of PREFIX/extended_addons_database<DATE>.json "
              "(else the latest copy).")  # fmt: skip
def main(target: OutputTarget, **settings: Any) -> None:
    """Publish whitelist_addons_database, featured_addons_database and featured_whitelist_addons
    (dated and latest) from the AMO dump in the same place."""
    run = AmowhitelistRun(target=target, **settings)
    summary = RunSummary("amowhitelist")
    summary.run(lambda: run_amowhitelist(run, summary), lease_on=target)


if __name__ == "__main__":
    main()
