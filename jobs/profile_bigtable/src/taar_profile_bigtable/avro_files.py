"""Avro intermediates: file names, bounded-size writing, streaming reading, sharding.

Files are named like BigQuery's wildcard export, `taar-profile.<YYYYMMDD>.avro.<12 digits>`,
and live under the `--avro-gcs-bucket` URL on any storage backend.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import fastavro
import pyarrow as pa
from taar_common.dates import compact
from taar_common.storage import Storage, join_url

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024


class AvroFileError(RuntimeError):
    """An Avro intermediate could not be read; the message names the file."""


def avro_prefix(bucket_url: str, day: dt.date) -> str:
    """The common URL prefix of the day's files (BigQuery appends the file number)."""
    return join_url(bucket_url, f"taar-profile.{compact(day)}.avro.")


def avro_wildcard(bucket_url: str, day: dt.date) -> str:
    """The destination URI given to a BigQuery extract job."""
    return avro_prefix(bucket_url, day) + "*"


def list_avro_files(storage: Storage, bucket_url: str, day: dt.date) -> list[str]:
    """The day's Avro files, sorted by name (the order shards are cut from)."""
    prefix = avro_prefix(bucket_url, day)
    return [url for url in storage.list_prefix(prefix) if url.startswith(prefix)]


def shard_files(files: list[str], shard_index: int, shard_count: int) -> list[str]:
    """Shard `i` of `N` takes every N-th file starting at i: disjoint, covering, stable."""
    if not 0 <= shard_index < shard_count:
        raise ValueError(f"--shard {shard_index}/{shard_count}: need 0 <= i < N")
    return files[shard_index::shard_count]


def avro_schema(arrow_schema: pa.Schema, name: str = "taar_profile") -> dict[str, Any]:
    """An Avro record schema for Arrow columns; every scalar may be null, like BigQuery's export."""
    return {
        "type": "record",
        "name": name,
        "fields": [{"name": f.name, "type": _avro_type(f.type, f"{name}_{f.name}")} for f in arrow_schema],
    }


def _avro_type(arrow_type: pa.DataType, name: str) -> Any:
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        # BigQuery REPEATED fields are never null: an absent list is exported as [].
        return {"type": "array", "items": _avro_type(arrow_type.value_type, name)}
    if pa.types.is_struct(arrow_type):
        fields = [{"name": f.name, "type": _avro_type(f.type, f"{name}_{f.name}")} for f in arrow_type]
        return ["null", {"type": "record", "name": name, "fields": fields}]
    scalar = {
        pa.types.is_string: "string",
        pa.types.is_large_string: "string",
        pa.types.is_boolean: "boolean",
        pa.types.is_integer: "long",
        pa.types.is_floating: "double",
        pa.types.is_binary: "bytes",
    }
    for test, avro_name in scalar.items():
        if test(arrow_type):
            return ["null", avro_name]
    if pa.types.is_date32(arrow_type):
        return ["null", {"type": "int", "logicalType": "date"}]
    raise TypeError(f"no Avro mapping for Arrow type {arrow_type} (column {name})")


def write_avro_files(
    storage: Storage,
    bucket_url: str,
    day: dt.date,
    batches: Iterable[pa.RecordBatch],
    arrow_schema: pa.Schema,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> tuple[list[str], int]:
    """Write record batches as deflate Avro files of about `max_file_bytes` each.

    Only one file is held in memory at a time; each is written whole (complete or absent).
    Returns the file URLs and the number of records.
    """
    schema = fastavro.parse_schema(avro_schema(arrow_schema))
    list_columns = [f.name for f in arrow_schema if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)]
    prefix = avro_prefix(bucket_url, day)
    urls: list[str] = []
    records = 0
    buffer: io.BytesIO | None = None
    writer: fastavro.write.Writer | None = None

    def finish() -> None:
        assert writer is not None and buffer is not None
        writer.flush()
        url = f"{prefix}{len(urls):012d}"
        storage.write_bytes(url, buffer.getvalue(), "application/avro")
        log.info("wrote %s (%d bytes)", url, buffer.tell())
        urls.append(url)

    for batch in batches:
        for record in batch.to_pylist():
            if writer is None:
                buffer = io.BytesIO()
                writer = fastavro.write.Writer(buffer, schema, codec="deflate")
            for column in list_columns:
                if record[column] is None:
                    record[column] = []
            writer.write(record)
            records += 1
            if buffer.tell() >= max_file_bytes:
                finish()
                writer = buffer = None
    if writer is not None or not urls:
        if writer is None:
            buffer = io.BytesIO()
            writer = fastavro.write.Writer(buffer, schema, codec="deflate")
        finish()
    return urls, records


def read_avro_records(storage: Storage, url: str) -> Iterator[dict[str, Any]]:
    """Stream the records of one Avro file (one file's bytes in memory at a time).

    Any decoding failure raises `AvroFileError` naming the file.
    """
    handle = io.BytesIO(storage.read_bytes(url))
    try:
        yield from fastavro.reader(handle)
    except (ValueError, EOFError, OSError, IndexError, KeyError, TypeError) as exc:
        raise AvroFileError(f"{url}: not a readable Avro file ({type(exc).__name__}: {exc})") from exc
