"""amodump: extract (crawl AMO, reusing the previous dump's first_create_dates) -> transform
(canonical records) -> publish `extended_addons_database.json`."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from taar_common.amo import AmoApi
from taar_common.http import HttpStats
from taar_common.publish import OutputTarget, artifact_urls, publish_all
from taar_common.storage import Storage
from taar_common.summary import RunSummary

from taar_amodump.amo_client import AmoClient
from taar_amodump.crawler import RESULT_WINDOW, Crawl, ListingError, crawl_catalogue
from taar_amodump.transform import build_dump, reusable_first_create_dates

log = logging.getLogger("taar_amodump")

ARTIFACT = "extended_addons_database.json"
DEFAULT_REFRESH_FRACTION = Fraction(1, 7)

__all__ = ["ARTIFACT", "RESULT_WINDOW", "AmodumpRun", "ListingError", "TooManyMissingError", "run_amodump"]


class TooManyMissingError(RuntimeError):
    """More add-ons failed than `--max-missing` allows; nothing was published."""


class PreviousDumpError(RuntimeError):
    """The `--previous` dump given explicitly could not be read."""


@dataclass(frozen=True)
class AmodumpRun:
    amo: AmoApi
    run_date: dt.date
    target: OutputTarget
    workers: int = 8
    max_missing: int = 0
    result_window: int = RESULT_WINDOW
    progress_interval_s: float = 5.0
    previous_url: str | None = None
    full: bool = False
    refresh_fraction: Fraction = DEFAULT_REFRESH_FRACTION


def load_previous_dump(run: AmodumpRun, storage: Storage) -> tuple[str | None, dict[str, Any] | None]:
    """(URL, dump) to reuse first_create_dates from: `--previous`, else the current latest copy
    when it exists and parses; (None, None) with `--full` or when there is none."""
    if run.full:
        return None, None
    if run.previous_url:
        try:
            dump = storage.read_json(run.previous_url)
        except Exception as exc:
            raise PreviousDumpError(f"--previous {run.previous_url} is not readable: {exc}") from exc
        if not isinstance(dump, dict):
            raise PreviousDumpError(f"--previous {run.previous_url} is not a {{guid: record}} object")
        return run.previous_url, dump
    latest = artifact_urls(run.target.bucket_url, run.target.prefix, ARTIFACT, run.run_date, run.target.compress)[1]
    try:
        if not storage.exists(latest):
            log.info("no previous dump at %s: full run", latest)
            return None, None
        dump = storage.read_json(latest)
    except Exception as exc:  # the default is best effort: an unreadable latest copy means a full run
        log.warning("previous dump %s not readable (%s): full run", latest, exc)
        return None, None
    if not isinstance(dump, dict):
        log.warning("previous dump %s is not a {guid: record} object: full run", latest)
        return None, None
    return latest, dump


def extract(run: AmodumpRun, reuse: dict[str, str], summary: RunSummary) -> Crawl:
    """Crawl AMO over one retrying session (its request counts go to the summary)."""
    stats = HttpStats()
    session = run.amo.session(stats=stats, user_agent="taar-amodump", pool_size=run.workers)
    try:
        with summary.timed("dump"):
            return crawl_catalogue(
                AmoClient(session, run.amo.url),
                workers=run.workers,
                stats=stats,
                reuse=reuse,
                result_window=run.result_window,
                progress_interval_s=run.progress_interval_s,
            )
    finally:
        summary.counts.update(stats.as_dict())
        session.close()


def _summarise(crawl: Crawl, summary: RunSummary) -> None:
    summary.count("addons_listed", crawl.total)
    summary.count("addons", len(crawl.first_create_dates))
    summary.count("missing", len(crawl.missing))
    summary.count("search_pages", crawl.search_pages)
    summary.count("version_pages", crawl.version_pages)
    summary.count("versions_fetched", crawl.versions_fetched)
    summary.count("versions_reused", crawl.versions_reused)
    summary.count("listing_parts", len(crawl.parts))
    summary.count("split_probes", crawl.split_probes)
    summary.count("duplicates_dropped", crawl.duplicates)
    summary.count("requests_per_addon", round(summary.counts.get("requests", 0) / max(crawl.total, 1), 4))
    summary.details["listing_parts"] = crawl.parts
    if crawl.missing:
        summary.details["missing"] = crawl.missing


def run_amodump(run: AmodumpRun, summary: RunSummary, storage: Storage | None = None) -> None:
    """Crawl (reusing the previous dump where allowed), enforce `--max-missing`, check, publish."""
    storage = storage or Storage()
    previous_url, previous = load_previous_dump(run, storage)
    reuse = reusable_first_create_dates(previous, run.run_date, run.refresh_fraction) if previous else {}
    summary.details["mode"] = "incremental" if previous is not None else "full"
    summary.details["previous"] = previous_url
    summary.details["refresh_fraction"] = str(run.refresh_fraction)
    crawl = extract(run, reuse, summary)
    _summarise(crawl, summary)
    if len(crawl.missing) > run.max_missing:
        shown = ", ".join(sorted(crawl.missing)[:10])
        raise TooManyMissingError(
            f"{len(crawl.missing)} add-ons failed after retries (> --max-missing {run.max_missing}): {shown}"
        )
    records = build_dump(crawl.listed, crawl.first_create_dates)
    with summary.timed("publish"):  # checked and shrink-guarded, then written under the job's lease
        publish_all(storage, run.target.on(run.run_date), {ARTIFACT: records}, summary)
