"""Similarity's hand-made rows (full donor features, on `taar_fixtures.handmade`) and run helpers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from taar_fixtures.handmade import addon, write_partition

DAY = dt.date(2026, 11, 27)
WHITELIST = [f"addon-{k}@example.org" for k in range(10)]


def row(client_id: str | None, addon_ids: list[str] | None, **columns: Any) -> dict[str, Any]:
    """A release Firefox row with valid entries for `addon_ids`, unless `columns` say otherwise."""
    values = {
        "client_id": client_id,
        "channel": "release",
        "normalized_channel": "release",
        "app_name": "Firefox",
        "locale": "en-US",
        "city": "Berlin",
        "os": "Linux",
        "subsession_hours_sum": 2.0,
        "places_bookmarks_count_mean": 10.0,
        "scalar_parent_browser_engagement_tab_open_event_count_sum": 20,
        "scalar_parent_browser_engagement_total_uri_count_sum": 100,
        "scalar_parent_browser_engagement_unique_domains_count_mean": 5.0,
        "active_addons": None if addon_ids is None else [addon(a) for a in addon_ids],
    }
    values.update(columns)
    return values


def write_whitelist(path: Path, guids: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(guids))
    return path


@pytest.fixture
def clients_frame(spark: Any, tmp_path: Path):
    """Build a DataFrame of hand-made rows: `clients_frame({day: [rows]})`, read back like the job reads."""

    def build(partitions: dict[dt.date, list[dict[str, Any]]]):
        root = tmp_path / "clients_daily"
        for day, rows in partitions.items():
            write_partition(root, day, rows)
        return spark.read.parquet(str(root))

    return build
