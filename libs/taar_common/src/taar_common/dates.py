"""Dates as the scheduler passes them: YYYYMMDD, or YYYY-MM-DD."""

from __future__ import annotations

import datetime as dt


def parse_date(value: str | dt.date) -> dt.date:
    """Parse `YYYYMMDD` or `YYYY-MM-DD`; raise ValueError naming the value otherwise."""
    if isinstance(value, dt.date):
        return value
    text = value.strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"invalid date {value!r}: expected YYYYMMDD or YYYY-MM-DD")


def compact(day: dt.date) -> str:
    """The `YYYYMMDD` form used in artifact names and partition folders."""
    return day.strftime("%Y%m%d")
