"""amodump I/O: list every add-on (split under the result window), fetch each add-on's
oldest version, check, publish `extended_addons_database.json`.

Concurrency: a thread pool of `--workers` sharing one pooled, retrying `requests` session.
The main thread owns all state; workers only fetch and parse, so no locks are needed.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from taar_common.cli import RunSummary
from taar_common.http import HttpStats, build_http_session
from taar_common.publish import publish_artifact
from taar_common.storage import Storage

from taar_amodump.amo_client import AmoClient
from taar_amodump.transform import (
    ListingPart,
    SearchPage,
    canonical_record,
    last_page_number,
    listing_gap,
    oldest_version_created,
    parse_timestamp,
    split_part,
)

log = logging.getLogger("taar_amodump")

ARTIFACT = "extended_addons_database.json"
RESULT_WINDOW = 30_000
"""AMO answers at most this many results per query (deeper pages: 404 "Invalid page.")."""


class ListingError(RuntimeError):
    """The listing could not be made complete (a page failed, or the parts leave a gap)."""


class TooManyMissingError(RuntimeError):
    """More add-ons failed than `--max-missing` allows; nothing was published."""


@dataclass
class CatalogueDump:
    """The dump and how it was made."""

    records: dict[str, dict[str, Any]]
    missing: dict[str, str]
    total: int
    parts: dict[str, int]
    search_pages: int = 0
    version_pages: int = 0
    duplicates: int = 0


@dataclass
class _Task:
    kind: str
    call: Callable[[], Any]
    context: Any


@dataclass
class _DumpRun:
    """State of one dump; `run()` drives the pool until every task is done."""

    client: AmoClient
    workers: int
    stats: HttpStats
    result_window: int = RESULT_WINDOW
    progress_interval_s: float = 5.0
    listing: deque[_Task] = field(default_factory=deque)
    version_tasks: deque[_Task] = field(default_factory=deque)
    done: queue.Queue = field(default_factory=queue.Queue)
    inflight: int = 0
    total: int | None = None
    parts: dict[str, int] = field(default_factory=dict)
    pages_expected: int = 0
    pages_done: int = 0
    version_pages: int = 0
    duplicates: int = 0
    seen: set[str] = field(default_factory=set)
    listed: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def run(self) -> CatalogueDump:
        started = time.monotonic()
        self._queue_probe(ListingPart())
        executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="amodump")
        last_report = time.monotonic()
        try:
            self._top_up(executor)
            while self.inflight:
                try:
                    task, future = self.done.get(timeout=self.progress_interval_s)
                except queue.Empty:
                    task = None
                if task is not None:
                    self.inflight -= 1
                    self._handle(task, future)
                    self._top_up(executor)
                if time.monotonic() - last_report >= self.progress_interval_s:
                    self._report(started)
                    last_report = time.monotonic()
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
        self._report(started)
        gap = listing_gap(self.total or 0, self.parts, len(self.seen))
        if gap:
            raise ListingError(f"incomplete listing of {self.client.search_url()}: {gap}")
        return CatalogueDump(
            self.records,
            self.missing,
            self.total or 0,
            self.parts,
            self.pages_done,
            self.version_pages,
            self.duplicates,
        )

    def _top_up(self, executor: ThreadPoolExecutor) -> None:
        """Keep about two tasks per worker in flight; listing tasks go first."""
        while self.inflight < 2 * self.workers and (self.listing or self.version_tasks):
            task = self.listing.popleft() if self.listing else self.version_tasks.popleft()
            future = executor.submit(task.call)
            future.add_done_callback(lambda f, t=task: self.done.put((t, f)))
            self.inflight += 1

    def _handle(self, task: _Task, future: Future) -> None:
        if task.kind == "versions":
            self._on_versions(task.context, future)
            return
        try:
            result = future.result()
        except Exception as exc:
            raise ListingError(f"listing failed ({task.kind} {task.context}): {exc}") from exc
        {"probe": self._on_probe, "page": self._on_page, "bounds": self._on_bounds}[task.kind](task.context, result)

    # -- listing ---------------------------------------------------------------------------

    def _queue_probe(self, part: ListingPart) -> None:
        params = {**part.filters(), "sort": "created", "page": 1}
        self.listing.append(_Task("probe", lambda: self.client.search(params), part))

    def _on_probe(self, part: ListingPart, page: SearchPage) -> None:
        if self.total is None:
            self.total = page.count
            log.info("unsplit listing counts %d add-ons (window %d)", page.count, self.result_window)
        if page.count <= self.result_window:
            self._accept(part, page)
            return
        oldest = _first_created(page.results)
        if oldest is not None and (part.created_min is None or oldest > part.created_min):
            part = replace(part, created_min=oldest)
        if part.created_span() is None and part.created_max is None:
            self._queue_bounds(part, "created")
            return
        self._split(part, page.count)

    def _split(self, part: ListingPart, count: int) -> None:
        halves = split_part(part)
        if halves is None and part.users_max is None:
            self._queue_bounds(part, "users")
            return
        if halves is None:
            raise ListingError(
                f"cannot split [{part.describe()}] ({count} add-ons) below the window {self.result_window}"
            )
        log.info("splitting [%s] (%d add-ons > %d)", part.describe(), count, self.result_window)
        for half in halves:
            self._queue_probe(half)

    def _queue_bounds(self, part: ListingPart, field_name: str) -> None:
        """Ask for the newest `created` (or highest `users`) inside `part`, to choose split points."""
        sort = "-created" if field_name == "created" else "-users"
        params = {**part.filters(), "sort": sort, "page": 1}
        self.listing.append(_Task("bounds", lambda: (field_name, self.client.search(params)), part))

    def _on_bounds(self, part: ListingPart, result: tuple[str, SearchPage]) -> None:
        field_name, page = result
        if field_name == "created":
            newest = max((t for t in map(_created_epoch, page.results) if t is not None), default=None)
            fallback = int(time.time()) + 86_400
            part = replace(part, created_max=newest if newest is not None else fallback)
            if part.created_min is None:
                part = replace(part, created_min=0)
        else:
            users = [
                a.get("average_daily_users") for a in page.results if isinstance(a.get("average_daily_users"), int)
            ]
            part = replace(part, users_max=max(users, default=0))
        self._split(part, page.count)

    def _accept(self, part: ListingPart, page: SearchPage) -> None:
        """A part under the window: keep page 1, queue its other pages."""
        self.parts[part.describe()] = page.count
        last = last_page_number(page.count, self.client.page_size)
        self.pages_expected += last
        self._on_page(part, page)
        for number in range(2, last + 1):
            params = {**part.filters(), "sort": "created", "page": number}
            self.listing.append(_Task("page", lambda p=params: self.client.search(p), part))

    def _on_page(self, part: ListingPart, page: SearchPage) -> None:
        self.pages_done += 1
        for addon in page.results:
            guid = addon["guid"]
            if guid in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(guid)
            self.listed[guid] = addon
            self.version_tasks.append(_Task("versions", lambda g=guid: self.client.versions(g, 1), (guid, 1)))

    # -- versions --------------------------------------------------------------------------

    def _on_versions(self, context: tuple[str, int], future: Future) -> None:
        guid, number = context
        self.version_pages += 1
        try:
            page, url = future.result()
            if number == 1 and page.count > self.client.page_size:
                last = last_page_number(page.count, self.client.page_size)
                self.version_tasks.appendleft(_Task("versions", lambda: self.client.versions(guid, last), (guid, last)))
                return
            first_create_date = oldest_version_created(page, url)
        except Exception as exc:  # counted and listed; the job fails unless --max-missing allows it
            self.missing[guid] = f"{type(exc).__name__}: {exc}"
            self.listed.pop(guid)
            log.warning("add-on %s missing: %s", guid, exc)
            return
        self.records[guid] = canonical_record(self.listed.pop(guid), first_create_date)

    def _report(self, started: float) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        log.info(
            "progress: search pages %d/%d, add-ons %d/%s dumped, %d missing, %d requests, %d retries, %.0f req/s",
            self.pages_done,
            self.pages_expected,
            len(self.records),
            self.total if self.total is not None else "?",
            len(self.missing),
            self.stats.requests,
            self.stats.retries,
            self.stats.requests / elapsed,
        )


def _created_epoch(addon: dict[str, Any]) -> int | None:
    moment = parse_timestamp(addon.get("created"))
    return None if moment is None else int(moment.timestamp())


def _first_created(results: list[dict[str, Any]]) -> int | None:
    """The oldest `created` of a page sorted by creation (null ones skipped)."""
    return next((t for t in map(_created_epoch, results) if t is not None), None)


def dump_catalogue(
    client: AmoClient,
    *,
    workers: int,
    stats: HttpStats,
    result_window: int = RESULT_WINDOW,
    progress_interval_s: float = 5.0,
) -> CatalogueDump:
    """Every add-on of the catalogue as a canonical record (failed add-ons in `missing`)."""
    return _DumpRun(client, workers, stats, result_window, progress_interval_s).run()


@dataclass(frozen=True)
class AmodumpOptions:
    amo_url: str
    bucket_url: str
    prefix: str
    day: dt.date
    workers: int = 8
    max_missing: int = 0
    compress: str | None = None
    result_window: int = RESULT_WINDOW
    http_timeout_s: float = 30.0
    retries: int = 8
    retry_backoff_s: float = 0.25
    progress_interval_s: float = 5.0


def run_amodump(options: AmodumpOptions, summary: RunSummary, storage: Storage | None = None) -> None:
    """Dump the catalogue, enforce `--max-missing`, then check and publish the artifact."""
    stats = HttpStats()
    session = build_http_session(
        retries=options.retries,
        backoff_factor=options.retry_backoff_s,
        timeout=(min(5.0, options.http_timeout_s), options.http_timeout_s),
        pool_size=options.workers,
        stats=stats,
        user_agent="taar-amodump",
    )
    client = AmoClient(session, options.amo_url)
    try:
        with summary.timed("dump"):
            dump = dump_catalogue(
                client,
                workers=options.workers,
                stats=stats,
                result_window=options.result_window,
                progress_interval_s=options.progress_interval_s,
            )
    finally:
        summary.counts.update(stats.as_dict())
        session.close()
    summary.count("addons_listed", dump.total)
    summary.count("addons", len(dump.records))
    summary.count("missing", len(dump.missing))
    summary.count("search_pages", dump.search_pages)
    summary.count("version_pages", dump.version_pages)
    summary.count("listing_parts", len(dump.parts))
    summary.count("duplicates_dropped", dump.duplicates)
    summary.count("requests_per_addon", round(stats.requests / max(dump.total, 1), 4))
    summary.details["listing_parts"] = dump.parts
    if dump.missing:
        summary.details["missing"] = dump.missing
    if len(dump.missing) > options.max_missing:
        shown = ", ".join(sorted(dump.missing)[:10])
        raise TooManyMissingError(
            f"{len(dump.missing)} add-ons failed after retries (> --max-missing {options.max_missing}): {shown}"
        )
    with summary.timed("publish"):
        published = publish_artifact(
            storage or Storage(),
            ARTIFACT,
            dump.records,
            bucket_url=options.bucket_url,
            prefix=options.prefix,
            day=options.day,
            compress=options.compress,
        )
    summary.add_artifact(published.dated_url)
    summary.add_artifact(published.latest_url)
