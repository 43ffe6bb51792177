"""The AMO crawl (all of amodump's network I/O): list every add-on, split under AMO's result
window, and read the versions of the add-ons whose first_create_date is not reused.

Concurrency: a thread pool of `--workers` sharing one pooled, retrying `requests` session.
The main thread owns all state; workers only fetch and parse, so no locks are needed.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from taar_common.http import HttpStats

from taar_amodump.amo_client import AmoClient
from taar_amodump.transform import (
    ListingPart,
    SearchPage,
    last_page_number,
    listing_gap,
    oldest_version_created,
    split_part,
)

log = logging.getLogger("taar_amodump")

RESULT_WINDOW = 25_000
"""AMO answers at most this many results per query (addons-server `ES_MAX_RESULT_WINDOW`)."""


class ListingError(RuntimeError):
    """The listing could not be made complete (a page failed, or the parts leave a gap)."""


@dataclass
class Crawl:
    """What the crawl found: the listed add-ons (search JSON), their first_create_dates, and how."""

    listed: dict[str, dict[str, Any]]
    first_create_dates: dict[str, str]
    missing: dict[str, str]
    total: int
    parts: dict[str, int]
    search_pages: int = 0
    version_pages: int = 0
    duplicates: int = 0
    versions_fetched: int = 0
    versions_reused: int = 0
    split_probes: int = 0


@dataclass
class _Task:
    kind: str
    call: Callable[[], Any]
    context: Any


@dataclass
class _CrawlRun:
    """State of one crawl; `run()` drives the pool until every task is done."""

    client: AmoClient
    workers: int
    stats: HttpStats
    reuse: Mapping[str, str]
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
    versions_fetched: int = 0
    split_probes: int = 0
    listed: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_create_dates: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def reachable(self) -> int:
        """Most results one part may hold: AMO refuses any page whose last index passes the
        window (`ESPaginator.page`), so whole pages only."""
        return self.result_window // self.client.page_size * self.client.page_size

    def run(self) -> Crawl:
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
        gap = listing_gap(self.total or 0, self.parts, len(self.listed))
        if gap:
            raise ListingError(f"incomplete listing of {self.client.search_url()}: {gap}")
        reused = sum(1 for guid in self.listed if guid in self.reuse)
        return Crawl(
            self.listed,
            self.first_create_dates,
            self.missing,
            self.total or 0,
            self.parts,
            self.pages_done,
            self.version_pages,
            self.duplicates,
            self.versions_fetched,
            reused,
            self.split_probes,
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
        (self._on_probe if task.kind == "probe" else self._on_page)(task.context, result)

    # -- listing ---------------------------------------------------------------------------

    def _search(self, part: ListingPart, page: int) -> Callable[[], SearchPage]:
        params = {**part.filters(), "sort": part.sort, "page": page}
        return lambda: self.client.search(params)

    def _queue_probe(self, part: ListingPart) -> None:
        """Page 1 of a part: its count, and (newest first) where to split it if too big."""
        self.listing.append(_Task("probe", self._search(part, 1), part))

    def _on_probe(self, part: ListingPart, page: SearchPage) -> None:
        if self.total is None:
            self.total = page.count
            log.info("unsplit listing counts %d add-ons (window %d)", page.count, self.result_window)
        if page.count <= self.reachable:
            self._accept(part, page)
            return
        if not self.client.has_thresholds:
            # The halves would be answered unfiltered, each as big as the whole: refuse now.
            raise ListingError(
                f"{self.client.search_url()} lists {page.count} add-ons, more than the result window "
                f"{self.reachable}, and this API version has no created__/users__ thresholds to split "
                "the listing: point --amo-url at AMO's v5 API"
            )
        self.split_probes += 1
        halves = split_part(part, page.results)
        if halves is None:
            raise ListingError(
                f"cannot split [{part.describe()}] ({page.count} add-ons with one creation second and one "
                f"users value) below the window {self.reachable}"
            )
        log.info("splitting [%s] (%d add-ons > %d) by %s", part.describe(), page.count, self.reachable, part.sort)
        for half in halves:
            self._queue_probe(half)

    def _accept(self, part: ListingPart, page: SearchPage) -> None:
        """A part within the window: keep page 1, queue its other pages (same sort)."""
        self.parts[part.describe()] = page.count
        last = last_page_number(page.count, self.client.page_size)
        self.pages_expected += last
        self._on_page(part, page)
        for number in range(2, last + 1):
            self.listing.append(_Task("page", self._search(part, number), part))

    def _on_page(self, part: ListingPart, page: SearchPage) -> None:
        self.pages_done += 1
        for addon in page.results:
            guid = addon["guid"]
            if guid in self.listed:
                self.duplicates += 1
                continue
            self.listed[guid] = addon
            if guid in self.reuse:
                self.first_create_dates[guid] = self.reuse[guid]
            else:
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
            log.warning("add-on %s missing: %s", guid, exc)
            return
        self.versions_fetched += 1
        self.first_create_dates[guid] = first_create_date

    def _report(self, started: float) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        log.info(
            "progress: search pages %d/%d, add-ons %d/%s dated, %d missing, %d requests, %d retries, %.0f req/s",
            self.pages_done,
            self.pages_expected,
            len(self.first_create_dates),
            self.total if self.total is not None else "?",
            len(self.missing),
            self.stats.requests,
            self.stats.retries,
            self.stats.requests / elapsed,
        )


def crawl_catalogue(
    client: AmoClient,
    *,
    workers: int,
    stats: HttpStats,
    reuse: Mapping[str, str] | None = None,
    result_window: int = RESULT_WINDOW,
    progress_interval_s: float = 5.0,
) -> Crawl:
    """List every add-on and find each one's first_create_date: from `reuse` (GUID -> value of
    the previous dump) when given there, else from its versions (failures in `missing`)."""
    return _CrawlRun(client, workers, stats, reuse or {}, result_window, progress_interval_s).run()
