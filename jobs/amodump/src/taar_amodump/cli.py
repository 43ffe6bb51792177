"""`taar-amodump`: list every AMO add-on, add its first_create_date, publish the dump."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import click
from taar_common.amo import AMO_BUCKET, AMO_PREFIX, AmoApi, amo_api_options
from taar_common.options import check_storage_url, date_option, output_options, setting
from taar_common.publish import OutputTarget
from taar_common.summary import RunSummary

from taar_amodump.job import DEFAULT_REFRESH_FRACTION, RESULT_WINDOW, AmodumpRun, run_amodump


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
@output_options(AMO_BUCKET, AMO_PREFIX)
@amo_api_options
@setting("--workers", kind=click.IntRange(1, 256), default=32, help_text="Concurrent HTTP requests.")
@setting("--max-missing", kind=click.IntRange(0), default=0,
         help_text="Add-ons allowed to fail after retries (listed in the summary); more fails the run.")  # fmt: skip
@setting("--result-window", kind=click.IntRange(50), default=RESULT_WINDOW,
         help_text="Most results AMO returns per query; larger listings are split by created/users "
         "ranges.")  # fmt: skip
@click.option("--previous", "previous_url", default=None, callback=check_storage_url,
              help="Dump whose first_create_dates are reused (default: the current latest copy at the output "
              "location, when it exists and is readable).")  # fmt: skip
@click.option("--refresh-fraction", default=str(DEFAULT_REFRESH_FRACTION), show_default=True, callback=_fraction,
              help="Share of known add-ons whose versions are re-read each day (by GUID and date; 1/7 re-reads "
              "each one weekly). New add-ons are always read.")  # fmt: skip
@click.option("--full", is_flag=True, help="Read every add-on's versions; ignore any previous dump.")
@setting("--progress-interval", "progress_interval_s", kind=float, default=5.0,
         help_text="Seconds between progress lines.")  # fmt: skip
def main(target: OutputTarget, amo: AmoApi, **settings: Any) -> None:
    """Dump every AMO extension (beyond the 25,000 search window) with its first_create_date
    to PREFIX/extended_addons_database[YYYYMMDD].json, re-reading versions only for new add-ons
    and a daily share of known ones unless --full."""
    run = AmodumpRun(target=target, amo=amo, **settings)
    summary = RunSummary("amodump")
    summary.run(lambda: run_amodump(run, summary), lease_on=target)


if __name__ == "__main__":
    main()
