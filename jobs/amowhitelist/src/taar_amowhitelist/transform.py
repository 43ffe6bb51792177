"""The whitelist rules (README: Rules), as pure functions over the dump `{guid: record}`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from taar_common.amo import parse_timestamp
from taar_common.whitelist import PIONEER_GUID


class DumpFormatError(ValueError):
    """The dump is not `{guid: record}`; the message names the source."""


def is_webextension(record: dict[str, Any]) -> bool:
    """True when the current version has files and every one is a WebExtension."""
    current = record.get("current_version")
    files = current.get("files") if isinstance(current, dict) else None
    return bool(files) and all(isinstance(f, dict) and f.get("is_webextension") is True for f in files)


def first_create_day(record: dict[str, Any]) -> dt.date | None:
    """The UTC calendar date of `first_create_date`, or None when it is missing or unparseable."""
    moment = parse_timestamp(record.get("first_create_date"))
    return moment.date() if moment else None


def rating_average(record: dict[str, Any]) -> float | None:
    ratings = record.get("ratings")
    average = ratings.get("average") if isinstance(ratings, dict) else None
    return float(average) if isinstance(average, int | float) and not isinstance(average, bool) else None


def whitelist_rejection(
    record: dict[str, Any], *, run_date: dt.date, min_rating: float, min_age_days: int
) -> str | None:
    """Why `record` is not whitelisted (a reason name), or None when it is.

    Age is relative to `run_date`, not the wall clock, so re-running an old date repeats its answer.
    """
    if record.get("guid") == PIONEER_GUID:
        return "pioneer"
    if not is_webextension(record):
        return "not_webextension"
    average = rating_average(record)
    if average is None:
        return "no_rating"
    if average < min_rating:
        return "low_rating"
    created_day = first_create_day(record)
    if created_day is None:
        return "bad_first_create_date"
    if created_day > run_date - dt.timedelta(days=min_age_days):
        return "too_young"
    return None


@dataclass
class AddonLists:
    """The three published databases and why the other add-ons were left out of the whitelist."""

    whitelist: dict[str, dict[str, Any]] = field(default_factory=dict)
    featured: dict[str, dict[str, Any]] = field(default_factory=dict)
    featured_whitelist: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)


def validate_dump(dump: Any, source: str) -> dict[str, dict[str, Any]]:
    """The dump as `{guid: record}`; anything else raises naming `source`."""
    if not isinstance(dump, dict):
        raise DumpFormatError(f"{source}: expected a JSON object {{guid: record}}, got {type(dump).__name__}")
    for guid, record in dump.items():
        if not isinstance(record, dict):
            raise DumpFormatError(f"{source}: the record of {guid!r} is {type(record).__name__}, not an object")
    return dump


def select_addon_lists(
    dump: dict[str, dict[str, Any]], *, run_date: dt.date, min_rating: float, min_age_days: int
) -> AddonLists:
    """whitelist = rules above; featured = `is_featured`; featured whitelist = both."""
    lists = AddonLists()
    for guid, record in dump.items():
        reason = whitelist_rejection(record, run_date=run_date, min_rating=min_rating, min_age_days=min_age_days)
        featured = record.get("is_featured") is True
        if reason is None:
            lists.whitelist[guid] = record
        else:
            lists.rejected[reason] += 1
        if featured:
            lists.featured[guid] = record
        if featured and reason is None:
            lists.featured_whitelist[guid] = record
    return lists
