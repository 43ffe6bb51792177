"""The publish protocol of DESIGN section 2: check, dated copy, then latest copy."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from taar_common.artifacts import artifact_spec, check_artifact
from taar_common.dates import compact
from taar_common.storage import Storage, encode_json, join_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishedArtifact:
    name: str
    latest_url: str
    dated_url: str
    size_bytes: int
    records: int


def artifact_urls(bucket_url: str, prefix: str, name: str, day: dt.date, compress: str | None) -> tuple[str, str]:
    """(dated, latest) URLs of artifact `name` (e.g. `donors.json`)."""
    base = name.removesuffix(".json")
    suffix = ".json.bz2" if compress == "bz2" else ".json"
    return (
        join_url(bucket_url, prefix, f"{base}{compact(day)}{suffix}"),
        join_url(bucket_url, prefix, f"{base}{suffix}"),
    )


def publish_artifact(
    storage: Storage,
    name: str,
    payload: Any,
    *,
    bucket_url: str,
    prefix: str,
    day: dt.date,
    compress: str | None = None,
    **check_params: Any,
) -> PublishedArtifact:
    """Check `payload`, then write the dated copy and the latest copy.

    Any failure raises before or between the writes, so the previous latest copy is only
    ever replaced by a complete, checked artifact.
    """
    check_artifact(name, payload, **check_params)
    data = encode_json(payload, compress=compress)
    dated_url, latest_url = artifact_urls(bucket_url, prefix, name, day, compress)
    content_type = "application/x-bzip2" if compress == "bz2" else "application/json"
    storage.write_bytes(dated_url, data, content_type)
    storage.write_bytes(latest_url, data, content_type)
    records = artifact_spec(name).count_records(payload)
    log.info("published %s (%d records, %d bytes) to %s", name, records, len(data), latest_url)
    return PublishedArtifact(name, latest_url, dated_url, len(data), records)
