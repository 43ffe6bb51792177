"""AMO: where the AMO jobs publish by default, its page size, and how the AMO jobs talk to it."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from taar_common.http import HttpStats, TimeoutSession, build_http_session

AMO_BUCKET = "telemetry-parquet"
AMO_PREFIX = "telemetry-ml/addon_recommender/"
"""The AMO jobs' default bucket and prefix (the dump, the whitelists, the editorial list)."""
PAGE_SIZE = 50
"""AMO's largest `page_size` (addons-server `api/pagination.py`, `max_page_size = 50`)."""
DEFAULT_AMO_URL = "https://addons.mozilla.org/api/v5/"


@dataclass(frozen=True)
class AmoApi:
    """One AMO API base and how requests to it are bounded and retried."""

    url: str = DEFAULT_AMO_URL
    http_timeout_s: float = 30.0
    retries: int = 8
    retry_backoff_s: float = 0.25

    def session(self, *, stats: HttpStats, user_agent: str, pool_size: int = 32) -> TimeoutSession:
        """A pooled, retrying session: `http_timeout_s` bounds each attempt as a whole."""
        return build_http_session(
            retries=self.retries,
            backoff_factor=self.retry_backoff_s,
            timeout=(min(5.0, self.http_timeout_s), self.http_timeout_s),
            pool_size=pool_size,
            stats=stats,
            user_agent=user_agent,
        )


def amo_api_options(command: Callable) -> Callable:
    """`--amo-url --http-timeout --retries --retry-backoff`, handed to the command as one `amo: AmoApi`."""
    options = [
        click.option("--amo-url", default=DEFAULT_AMO_URL, show_default=True, help="AMO API base (v5 or v4)."),
        click.option(
            "--http-timeout",
            type=click.FloatRange(0.0, min_open=True),
            default=30.0,
            show_default=True,
            help="Seconds each attempt may take as a whole: connect, headers and the full body.",
        ),
        click.option("--retries", type=click.IntRange(0), default=8, show_default=True, help="Retries per request."),
        click.option(
            "--retry-backoff",
            type=click.FloatRange(0.0),
            default=0.25,
            show_default=True,
            help="Backoff factor between retries, seconds.",
        ),
    ]

    @functools.wraps(command)
    def with_amo(
        *args: Any, amo_url: str, http_timeout: float, retries: int, retry_backoff: float, **kwargs: Any
    ) -> Any:
        return command(*args, amo=AmoApi(amo_url, http_timeout, retries, retry_backoff), **kwargs)

    for option in reversed(options):
        with_amo = option(with_amo)
    return with_amo


def parse_timestamp(value: Any) -> dt.datetime | None:
    """An AMO ISO 8601 time as an aware UTC datetime, or None if it does not parse."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
