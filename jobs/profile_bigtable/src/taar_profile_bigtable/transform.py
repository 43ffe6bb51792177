"""Pure mapping of one profile row (as exported to Avro) to a Bigtable row key and payload.

The payload is what the recommender's profile fetcher reads from `profile:payload`:
zlib-compressed UTF-8 JSON with the field names below. No I/O, no state.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from typing import Any

COLUMN_FAMILY = "profile"
PAYLOAD_COLUMN = b"payload"

METRIC_FIELDS = (
    "subsession_length",
    "places_bookmarks_count",
    "scalar_parent_browser_engagement_tab_open_event_count",
    "scalar_parent_browser_engagement_total_uri_count",
    "scalar_parent_browser_engagement_unique_domains_count",
)
TEXT_FIELDS = ("city", "locale", "os")
_HASHED_ID = re.compile(r"^[0-9a-f]{64}$")
PAYLOAD_FIELDS = ("client_id", *TEXT_FIELDS, *METRIC_FIELDS, "active_addons", "disabled_addons_ids")


class ProfileRowError(ValueError):
    """A row cannot become a profile (e.g. it has no hashed client id)."""


def profile_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """The payload dict of one row; null metrics become 0, null texts "", null add-on entries are dropped."""
    client_id = row.get("client_id")
    if not client_id:
        raise ProfileRowError("row has no client_id")
    if not isinstance(client_id, str) or not _HASHED_ID.match(client_id):
        # The value is not echoed: it may be a raw id that must not reach a log line.
        raise ProfileRowError("row's client_id is not a sha256 hex digest (was the id hashed in the SQL?)")
    payload: dict[str, Any] = {"client_id": client_id}
    for name in TEXT_FIELDS:
        # The SQL already turns null into "" (the fetcher's own default, applied by it only to
        # a missing key); kept here too for Avro files written before it did.
        value = row.get(name)
        payload[name] = "" if value is None else value
    for name in METRIC_FIELDS:
        value = row.get(name)
        payload[name] = 0 if value is None else value
    payload["active_addons"] = [
        dict(addon) for addon in row.get("active_addons") or [] if addon and addon.get("addon_id") is not None
    ]
    payload["disabled_addons_ids"] = [guid for guid in row.get("disabled_addons_ids") or [] if guid is not None]
    return payload


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """zlib(UTF-8 JSON), keys sorted so equal profiles give equal bytes."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return zlib.compress(text.encode("utf-8"))


def decode_payload(data: bytes) -> dict[str, Any]:
    """Inverse of `encode_payload`: what the recommender does with the cell value."""
    return json.loads(zlib.decompress(data).decode("utf-8"))


def profile_row(row: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """(row key, `profile:payload` value) of one row; the key is the hashed id from the SQL."""
    payload = profile_payload(row)
    return payload["client_id"].encode("ascii"), encode_payload(payload)
