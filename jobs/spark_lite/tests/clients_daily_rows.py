"""Hand-made clients_daily partitions: the DESIGN schema, written with pyarrow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ADDON_TYPE = pa.struct(
    [
        ("addon_id", pa.string()),
        ("blocklisted", pa.bool_()),
        ("name", pa.string()),
        ("user_disabled", pa.bool_()),
        ("app_disabled", pa.bool_()),
        ("version", pa.string()),
        ("scope", pa.int64()),
        ("type", pa.string()),
        ("foreign_install", pa.bool_()),
        ("has_binary_components", pa.bool_()),
        ("install_day", pa.int64()),
        ("update_day", pa.int64()),
        ("signed_state", pa.int64()),
        ("is_system", pa.bool_()),
        ("is_web_extension", pa.bool_()),
        ("multiprocess_compatible", pa.bool_()),
    ]
)
SCHEMA = pa.schema(
    [
        ("client_id", pa.string()),
        ("channel", pa.string()),
        ("normalized_channel", pa.string()),
        ("app_name", pa.string()),
        ("locale", pa.string()),
        ("city", pa.string()),
        ("os", pa.string()),
        ("subsession_hours_sum", pa.float64()),
        ("places_bookmarks_count_mean", pa.float64()),
        ("scalar_parent_browser_engagement_tab_open_event_count_sum", pa.int64()),
        ("scalar_parent_browser_engagement_total_uri_count_sum", pa.int64()),
        ("scalar_parent_browser_engagement_unique_domains_count_mean", pa.float64()),
        ("active_addons", pa.list_(ADDON_TYPE)),
    ]
)


def addon(addon_id: str | None, **flags: Any) -> dict[str, Any]:
    """A valid, signed extension entry unless `flags` say otherwise."""
    entry = {
        "addon_id": addon_id,
        "blocklisted": False,
        "user_disabled": False,
        "app_disabled": False,
        "type": "extension",
        "foreign_install": False,
        "signed_state": 2,
        "is_system": False,
        "is_web_extension": True,
    }
    entry.update(flags)
    return entry


def client(client_id: str | None, addons: list[dict] | None, **columns: Any) -> dict[str, Any]:
    """A release Firefox row unless `columns` say otherwise."""
    row = {"client_id": client_id, "channel": "release", "app_name": "Firefox", "locale": "en-US"}
    row.update(columns)
    row["active_addons"] = addons
    return row


def write_partition(root: Path, day: dt.date, rows: list[dict[str, Any]], *, name: str = "part-0.parquet") -> Path:
    """Write `rows` as `root/submission_date_s3=YYYYMMDD/<name>`; returns `root`."""
    folder = root / f"submission_date_s3={day:%Y%m%d}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), folder / name)
    return root
