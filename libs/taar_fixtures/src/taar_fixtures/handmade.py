"""Hand-made clients_daily partitions in the clients_daily schema the Spark jobs read, written with pyarrow,
and the whitelist files beside them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from taar_fixtures.telemetry import CLIENTS_DAILY_SCHEMA


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


def invalid_addons() -> list[dict[str, Any]]:
    """One entry of each kind the validity rule drops whatever the whitelist: a system add-on (`s@x`),
    a theme (`t@x`), a foreign install (`f@x`), an app-disabled (`u@x`) and a blocklisted one (`b@x`),
    and the Pioneer opt-in."""
    return [
        addon("s@x", is_system=True),
        addon("t@x", type="theme"),
        addon("f@x", foreign_install=True),
        addon("u@x", app_disabled=True),
        addon("b@x", blocklisted=True),
        addon("pioneer-opt-in@mozilla.org"),
    ]


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
    pq.write_table(pa.Table.from_pylist(rows, schema=CLIENTS_DAILY_SCHEMA), folder / name)
    return root


def write_whitelist(folder: Path, whitelist: list[str] | dict[str, dict[str, Any]]) -> Path:
    """Write `whitelist` into `folder` under the name of its published form: a `[guid, ...]` list as
    `only_guids_top_200.json`, a `{guid: record}` database as `whitelist_addons_database.json`."""
    name = "whitelist_addons_database.json" if isinstance(whitelist, dict) else "only_guids_top_200.json"
    path = folder / name
    path.write_text(json.dumps(whitelist))
    return path
