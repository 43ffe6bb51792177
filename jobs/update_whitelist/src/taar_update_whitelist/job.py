"""update_whitelist I/O: fetch the editorial list, optionally validate it against search, publish."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from taar_common.amo import PAGE_SIZE, AmoApi
from taar_common.http import HttpStats, TimeoutSession, fetch_json, iter_pages
from taar_common.publish import OutputTarget, publish_all
from taar_common.storage import Storage
from taar_common.summary import RunSummary

from taar_update_whitelist.transform import editorial_guids, editorial_results, guid_batches, unknown_guids

log = logging.getLogger("taar_update_whitelist")

ARTIFACT = "only_guids_top_200.json"


class UnknownGuidsError(RuntimeError):
    """Editorial GUIDs that AMO search does not know; nothing was published."""


@dataclass(frozen=True)
class UpdateWhitelistRun:
    amo: AmoApi
    run_date: dt.date
    target: OutputTarget
    validate_guids: bool = False
    allow_shortlist: bool = False


def fetch_editorial(session: TimeoutSession, amo_url: str) -> list[object]:
    """Every entry of `discovery/editorial/?recommended=true`.

    AMO answers it unpaginated; a `next` link is followed the one shared way (`iter_pages`:
    only on `--amo-url`'s scheme, host and port, never in a loop, at most `page_count` pages).
    """
    url = f"{amo_url.rstrip('/')}/discovery/editorial/"
    entries: list[object] = []
    for page_url, payload in iter_pages(session, url, {"recommended": "true"}, api_url=amo_url):
        entries.extend(editorial_results(payload, page_url))
    return entries


def search_known_guids(session: TimeoutSession, amo_url: str, guids: list[str]) -> set[str]:
    """GUIDs that search returns, asked in batches of 50 with the `guid=` filter."""
    url = f"{amo_url.rstrip('/')}/addons/search/"
    found: set[str] = set()
    for batch in guid_batches(guids, PAGE_SIZE):
        payload = fetch_json(session, url, {"guid": ",".join(batch), "page_size": PAGE_SIZE})
        results = editorial_results(payload, url)
        found.update(r["guid"] for r in results if isinstance(r, dict) and isinstance(r.get("guid"), str))
    return found


def run_update_whitelist(run: UpdateWhitelistRun, summary: RunSummary, storage: Storage | None = None) -> None:
    """Fetch, clean, validate (optionally), check and publish the editorial GUIDs."""
    stats = HttpStats()
    session = run.amo.session(stats=stats, user_agent="taar-update-whitelist")
    try:
        with summary.timed("fetch"):
            entries = fetch_editorial(session, run.amo.url)
            editorial = editorial_guids(entries)
        summary.count("editorial_entries", len(entries))
        summary.count("guids", len(editorial.guids))
        summary.count("dropped_empty", editorial.empty)
        summary.count("rejected_guids", len(editorial.rejected))
        summary.count("duplicates", editorial.duplicates)
        if editorial.rejected:
            summary.details["rejected_guids"] = editorial.rejected[:100]
            for line in editorial.rejected[:20]:
                log.warning("rejected editorial GUID %s", line)
            if len(editorial.rejected) > 20:
                log.warning("... and %d more rejected editorial GUIDs", len(editorial.rejected) - 20)
        if run.validate_guids:
            with summary.timed("validate"):
                unknown = unknown_guids(editorial.guids, search_known_guids(session, run.amo.url, editorial.guids))
            if unknown:
                summary.details["unknown_guids"] = unknown
                raise UnknownGuidsError(
                    f"{len(unknown)} editorial GUIDs unknown to AMO search: {', '.join(unknown[:20])}"
                )
    finally:
        summary.counts.update(stats.as_dict())
        session.close()
    with summary.timed("publish"):  # checked and shrink-guarded, then written under the job's lease
        payloads = {ARTIFACT: editorial.guids}
        checks = {ARTIFACT: {"allow_shortlist": run.allow_shortlist}}
        publish_all(storage or Storage(), run.target.on(run.run_date), payloads, summary, checks)
