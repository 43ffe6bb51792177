"""amowhitelist I/O: read the dump, select the three lists, check and publish them."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from taar_common.dates import compact
from taar_common.publish import OutputTarget, publish_all
from taar_common.storage import NotFoundError, Storage, join_url
from taar_common.summary import RunSummary

from taar_amowhitelist.transform import select_addon_lists, validate_dump

log = logging.getLogger("taar_amowhitelist")

DUMP = "extended_addons_database"
OUTPUTS = ("whitelist_addons_database", "featured_addons_database", "featured_whitelist_addons")


@dataclass(frozen=True)
class AmowhitelistRun:
    run_date: dt.date
    target: OutputTarget
    min_rating: float = 3.0
    min_age_days: int = 60
    dump_url: str | None = None


def locate_dump(storage: Storage, run: AmowhitelistRun) -> str:
    """`--dump-url`, else the dump dated `--date`, else the latest dump (`.json` or `.json.bz2`)."""
    if run.dump_url:
        return run.dump_url
    candidates = [
        join_url(run.target.bucket_url, run.target.prefix, f"{DUMP}{compact(run.run_date)}.json"),
        join_url(run.target.bucket_url, run.target.prefix, f"{DUMP}.json"),
    ]
    for url in candidates:
        if storage.exists(url) or storage.exists(url + ".bz2"):
            return url
    raise NotFoundError(
        f"no AMO dump at {candidates[0]} nor {candidates[1]} (.json or .json.bz2): run taar-amodump first"
    )


def run_amowhitelist(run: AmowhitelistRun, summary: RunSummary, storage: Storage | None = None) -> None:
    """Read the dump, apply the rules relative to `--date`, publish the three databases."""
    storage = storage or Storage()
    with summary.timed("read"):
        dump_url = locate_dump(storage, run)
        log.info("reading the AMO dump %s", dump_url)
        dump = validate_dump(storage.read_artifact(dump_url), dump_url)
    summary.details["dump"] = dump_url
    lists = select_addon_lists(dump, run_date=run.run_date, min_rating=run.min_rating, min_age_days=run.min_age_days)
    summary.count("dump_addons", len(dump))
    summary.count("whitelist", len(lists.whitelist))
    summary.count("featured", len(lists.featured))
    summary.count("featured_whitelist", len(lists.featured_whitelist))
    summary.details["rejected"] = dict(sorted(lists.rejected.items()))
    payloads = dict(zip(OUTPUTS, (lists.whitelist, lists.featured, lists.featured_whitelist), strict=True))
    with summary.timed("publish"):  # all three checked, then written as one set under the job's lease
        payloads = {f"{name}.json": payload for name, payload in payloads.items()}
        publish_all(storage, run.target.on(run.run_date), payloads, summary)
