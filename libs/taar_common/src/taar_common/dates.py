"""Dates as the scheduler passes them: YYYYMMDD, or YYYY-MM-DD."""

from __future__ import annotations

import datetime as dt
import re

# Exactly 8 digits or the dashed ISO form with two-digit month and day: strptime alone
# accepts "2026111" (as 2026-11-01) and "2026-1-5", which silently name the wrong copies.
# ASCII digits only: `\d` would also take full-width or Arabic-Indic digits.
_DATE_FORMS = (re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"), re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"))
MIN_YEAR, MAX_YEAR = 2000, 2100


def parse_date(value: str | dt.date) -> dt.date:
    """Parse exactly `YYYYMMDD` or `YYYY-MM-DD` (years 2000-2100); raise ValueError naming the value."""
    if isinstance(value, dt.date):
        return value
    for form in _DATE_FORMS:
        match = form.fullmatch(value)
        if not match:
            continue
        year, month, day = (int(part) for part in match.groups())
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError(f"invalid date {value!r}: the year must be between {MIN_YEAR} and {MAX_YEAR}")
        try:
            return dt.date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"invalid date {value!r}: {exc}") from exc
    raise ValueError(f"invalid date {value!r}: expected exactly YYYYMMDD or YYYY-MM-DD")


def data_day(now: dt.datetime | None = None) -> dt.date:
    """The default `--date` of every job and the demo: yesterday in UTC, the last complete day of telemetry."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date() - dt.timedelta(days=1)


DATA_DAY_HELP = "yesterday, UTC: the data day"


def compact(day: dt.date) -> str:
    """The `YYYYMMDD` form used in artifact names and partition folders."""
    return day.strftime("%Y%m%d")


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from `first` to `last`, both included, oldest first (empty if `first` is later)."""
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


def last_days(last: dt.date, count: int) -> list[dt.date]:
    """The `count` days ending with `last`, oldest first (a job's `--num-days` window)."""
    return days_between(last - dt.timedelta(days=count - 1), last)
