"""Pure parts of the AMO dump: response parsing, the canonical record, query splitting,
which add-ons' versions to re-read.

No I/O here: `crawler.py` feeds these functions the JSON bodies it fetched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from taar_common.amo import parse_timestamp

RECOMMENDED = "recommended"


class MalformedPageError(ValueError):
    """An AMO response parsed as JSON but is not the envelope it should be; names the URL."""


@dataclass(frozen=True)
class SearchPage:
    """One page of `addons/search/`: the query's total `count` and this page's add-ons."""

    count: int
    results: list[dict[str, Any]]


def parse_search_page(payload: Any, url: str) -> SearchPage:
    """Validate a search envelope (`count`, `results` list of add-ons with a GUID)."""
    if not isinstance(payload, dict):
        raise MalformedPageError(f"{url}: expected a JSON object, got {type(payload).__name__}")
    results = payload.get("results")
    if not isinstance(results, list):
        raise MalformedPageError(f"{url}: 'results' is missing or not a list (got {type(results).__name__})")
    count = payload.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise MalformedPageError(f"{url}: 'count' is missing or not a non-negative integer (got {count!r})")
    for index, addon in enumerate(results):
        if not isinstance(addon, dict) or not isinstance(addon.get("guid"), str) or not addon["guid"]:
            raise MalformedPageError(f"{url}: result {index} has no GUID")
    return SearchPage(count, results)


@dataclass(frozen=True)
class VersionsPage:
    """One page of `addons/addon/<guid>/versions/` (newest first)."""

    count: int
    results: list[dict[str, Any]]


def parse_versions_page(payload: Any, url: str) -> VersionsPage:
    """Validate a versions envelope (`count`, `results` list)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise MalformedPageError(f"{url}: 'results' is missing or not a list")
    count = payload.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise MalformedPageError(f"{url}: 'count' is missing or not a non-negative integer (got {count!r})")
    return VersionsPage(count, payload["results"])


def last_page_number(count: int, page_size: int) -> int:
    """The number of the last page holding `count` items (1 for an empty listing)."""
    return max(1, math.ceil(count / page_size))


def version_created(version: Any) -> str | None:
    """Creation time of a version: its own `created`, else its file's (v5 `file`, v4 `files[0]`)."""
    if not isinstance(version, dict):
        return None
    if isinstance(version.get("created"), str):
        return version["created"]
    file = version.get("file")
    if not isinstance(file, dict):
        files = version.get("files")
        file = files[0] if isinstance(files, list) and files and isinstance(files[0], dict) else None
    if file is not None and isinstance(file.get("created"), str):
        return file["created"]
    return None


def oldest_version_created(last_page: VersionsPage, url: str) -> str:
    """`first_create_date`: the creation time of the last item of the last (newest-first) page."""
    if not last_page.results:
        raise MalformedPageError(f"{url}: no public version listed (count={last_page.count})")
    created = version_created(last_page.results[-1])
    if created is None or parse_timestamp(created) is None:
        raise MalformedPageError(f"{url}: the oldest version has no parseable 'created' ({created!r})")
    return created


def canonical_categories(categories: Any) -> list[str]:
    """Category slugs as one sorted list: v5 gives a list, v4 `{app: [slugs]}`."""
    if isinstance(categories, dict):
        slugs: Iterable[Any] = (
            slug for per_app in categories.values() if isinstance(per_app, list) for slug in per_app
        )
    elif isinstance(categories, list):
        slugs = categories
    else:
        return []
    return sorted({slug for slug in slugs if isinstance(slug, str)})


def canonical_promoted(promoted: Any) -> list[dict[str, Any]]:
    """Promotions as a list (v5 form): v4 gives one object or null, v5 a list."""
    if isinstance(promoted, dict):
        promoted = [promoted]
    if not isinstance(promoted, list):
        return []
    return [
        {"category": item.get("category"), "apps": list(item.get("apps") or [])}
        for item in promoted
        if isinstance(item, dict)
    ]


def is_featured(promoted: list[dict[str, Any]]) -> bool:
    """Featured = promoted in the `recommended` category."""
    return any(item.get("category") == RECOMMENDED for item in promoted)


def canonical_files(current_version: Any) -> dict[str, Any] | None:
    """`current_version` reduced to `files[] {id, platform, status, is_webextension}`.

    v5 has one `file` and no `is_webextension` (every listed add-on is a WebExtension), so
    it becomes a one-item list with `is_webextension: true` and `platform: "all"`.
    """
    if not isinstance(current_version, dict):
        return None
    files = current_version.get("files")
    if not isinstance(files, list):
        single = current_version.get("file")
        files = [single] if isinstance(single, dict) else []
    return {
        "files": [
            {
                "id": file.get("id"),
                "platform": file.get("platform", "all"),
                "status": file.get("status"),
                "is_webextension": bool(file.get("is_webextension", True)),
            }
            for file in files
            if isinstance(file, dict)
        ]
    }


def canonical_ratings(ratings: Any) -> dict[str, Any] | None:
    """The ratings summary, or None when AMO gives none."""
    if not isinstance(ratings, dict):
        return None
    return {key: ratings.get(key) for key in ("average", "bayesian_average", "count", "text_count")}


def canonical_record(addon: dict[str, Any], first_create_date: str) -> dict[str, Any]:
    """The dump's record of one add-on (its fields: README, Output), from a v4 or v5 search result."""
    promoted = canonical_promoted(addon.get("promoted"))
    return {
        "guid": addon["guid"],
        "categories": canonical_categories(addon.get("categories")),
        "default_locale": addon.get("default_locale"),
        "description": addon.get("description"),
        "name": addon.get("name"),
        "summary": addon.get("summary"),
        "tags": [tag for tag in addon.get("tags") or [] if isinstance(tag, str)],
        "weekly_downloads": addon.get("weekly_downloads"),
        "average_daily_users": addon.get("average_daily_users"),
        "ratings": canonical_ratings(addon.get("ratings")),
        "current_version": canonical_files(addon.get("current_version")),
        "promoted": promoted,
        "is_featured": is_featured(promoted),
        "created": addon.get("created"),
        "first_create_date": first_create_date,
    }


@dataclass(frozen=True)
class ListingPart:
    """A sub-query of the listing: half-open `created` (epoch seconds) and `users` ranges
    (None = unbounded). A part `by_users` holds add-ons created within one second: it is
    ordered and split by `users` instead of `created`."""

    created_gte: int | None = None
    created_lt: int | None = None
    users_gte: int | None = None
    users_lt: int | None = None
    by_users: bool = False

    def filters(self) -> dict[str, str | int]:
        """AMO v5 threshold filters selecting this part (`created__*` as millisecond timestamps)."""
        params: dict[str, str | int] = {}
        if self.created_gte is not None:
            params["created__gte"] = self.created_gte * 1000
        if self.created_lt is not None:
            params["created__lt"] = self.created_lt * 1000
        if self.users_gte is not None:
            params["users__gte"] = self.users_gte
        if self.users_lt is not None:
            params["users__lt"] = self.users_lt
        return params

    @property
    def sort(self) -> str:
        """AMO sorts only descending: `created` (newest first) or `users` (most first)."""
        return "users" if self.by_users else "created"

    def describe(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.filters().items()) or "(unsplit)"


def newest_created(first_page: Iterable[dict[str, Any]]) -> int | None:
    """The newest parseable `created` (epoch seconds) on page 1 of a `sort=created` query."""
    moments = [parse_timestamp(addon.get("created")) for addon in first_page]
    return max((int(m.timestamp()) for m in moments if m is not None), default=None)


def most_users(first_page: Iterable[dict[str, Any]]) -> int | None:
    """The highest `average_daily_users` on page 1 of a `sort=users` query."""
    users = [a.get("average_daily_users") for a in first_page]
    return max((u for u in users if isinstance(u, int) and not isinstance(u, bool)), default=None)


def split_part(part: ListingPart, first_page: list[dict[str, Any]]) -> list[ListingPart] | None:
    """Parts that together select exactly `part`, chosen from its first page (newest first).

    By `created`: bisect [lower bound, newest created] at a second boundary. When every add-on
    sits in the lower bound's second (a burst), the same part is re-asked `by_users`. By
    `users`: bisect [lower bound, most users]. None when one users value holds the whole part.
    Split points only steer the search: the halves always partition the part's own ranges.
    """
    if not part.by_users:
        low, high = part.created_gte or 0, newest_created(first_page)
        if high is None or high <= low:
            return [replace(part, by_users=True)]
        middle = low + (high - low + 1) // 2
        return [replace(part, created_lt=middle), replace(part, created_gte=middle)]
    low, high = part.users_gte or 0, most_users(first_page)
    if high is None or high <= low:
        return None
    middle = low + (high - low + 1) // 2
    return [replace(part, users_lt=middle), replace(part, users_gte=middle)]


def is_refresh_day(guid: str, day: dt.date, fraction: Fraction) -> bool:
    """Whether `guid`'s versions are re-read on `day`: about `fraction` of the add-ons a day,
    each at least once every ceil(1 / fraction) days (fraction 1/7: once a week).

    Each GUID gets a stable phase u in [0, 1) from SHA-256 (not Python's salted hash); it is
    re-read on the days where u + day * fraction crosses an integer.
    """
    if fraction <= 0:
        return False
    phase = Fraction(int.from_bytes(hashlib.sha256(guid.encode()).digest()[:8], "big"), 2**64)
    ordinal = day.toordinal()
    return math.floor(phase + ordinal * fraction) != math.floor(phase + (ordinal - 1) * fraction)


def reusable_first_create_dates(previous: Mapping[str, Any], day: dt.date, fraction: Fraction) -> dict[str, str]:
    """`first_create_date` of the previous dump's add-ons not due for a refresh on `day`.

    An add-on's oldest version does not change while it stays, so the value can be reused;
    records without a parseable one are re-read.
    """
    reusable = {}
    for guid, record in previous.items():
        created = record.get("first_create_date") if isinstance(record, dict) else None
        if parse_timestamp(created) is not None and not is_refresh_day(guid, day, fraction):
            reusable[guid] = created
    return reusable


def build_dump(listed: Mapping[str, dict[str, Any]], first_create_dates: Mapping[str, str]) -> dict[str, Any]:
    """The dump `{guid: record}`, sorted by GUID, of the listed add-ons with a first_create_date."""
    return {guid: canonical_record(listed[guid], first_create_dates[guid]) for guid in sorted(first_create_dates)}


def listing_gap(total: int, part_counts: dict[str, int], listed: int) -> str | None:
    """Why the parts do not add up to the unsplit count, or None when they do."""
    summed = sum(part_counts.values())
    if summed != total:
        shown = ", ".join(f"[{name}]={count}" for name, count in list(part_counts.items())[:20])
        return (
            f"the {len(part_counts)} sub-queries count {summed} add-ons but the unsplit query counts {total} "
            f"(gap {total - summed}): {shown}"
        )
    if listed != total:
        return f"listed {listed} distinct GUIDs but the unsplit query counts {total} (gap {total - listed})"
    return None
