"""`taar-update-whitelist`: the editorial (recommended) GUIDs as only_guids_top_200.json."""

from __future__ import annotations

import datetime as dt

import click
from taar_common.amo import AMO_BUCKET, AMO_PREFIX, AmoApi, amo_api_options
from taar_common.options import date_option, output_options
from taar_common.publish import OutputTarget
from taar_common.summary import RunSummary

from taar_update_whitelist.job import UpdateWhitelistRun, run_update_whitelist


@click.command()
@date_option()
@output_options(AMO_BUCKET, AMO_PREFIX)
@amo_api_options
@click.option("--validate-guids", is_flag=True, help="Check every GUID against AMO search (batched guid= queries).")
@click.option("--allow-shortlist", is_flag=True, help="Publish even when fewer than 100 GUIDs remain.")
def main(run_date: dt.date, amo: AmoApi, validate_guids: bool, allow_shortlist: bool, target: OutputTarget) -> None:
    """Publish the sorted, unique editorial GUIDs to PREFIX/only_guids_top_200[YYYYMMDD].json."""
    run = UpdateWhitelistRun(
        amo=amo, target=target, run_date=run_date, validate_guids=validate_guids, allow_shortlist=allow_shortlist
    )
    summary = RunSummary("update_whitelist")
    summary.run(lambda: run_update_whitelist(run, summary), lease_on=target)


if __name__ == "__main__":
    main()
